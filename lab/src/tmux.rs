//! The lab in tmux: one window per host, each a shell in that host.
//!
//! The lab runs its own tmux server (`tmux -S <registry dir>/<id>.tmux`), never the user's,
//! and starts it from inside the lab: the server and every pane are in the lab's PID
//! namespace, so they end with the lab. Each window runs `lab shell --lab ID HOST`, the very
//! command a person would type in another terminal; the first window's command ends the tmux
//! server when its shell exits, which ends the lab ("leaving the first shell ends everything").

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use super::Lab;

/// A lab's tmux session.
pub struct Tmux {
    /// The tmux program.
    pub program: PathBuf,
    /// The server's socket.
    pub socket: PathBuf,
    /// The session's name.
    pub session: String,
}

impl Tmux {
    /// `tmux` from `PATH`, if installed.
    pub fn find() -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("tmux"))
            .find(|candidate| candidate.is_file())
    }

    /// Starts the session with a window per host of `lab` and attaches this terminal to it;
    /// `program` is tmux, and `executable` the `lab` program each window runs (`lab shell
    /// HOST`). `status`, if any, is shown at the right of tmux's status line (the web view's
    /// address, which tmux would otherwise hide). Returns the tmux client, which exits when
    /// the session ends or the user detaches.
    pub fn start(
        lab: &mut Lab,
        program: &Path,
        executable: &Path,
        status: Option<&str>,
    ) -> harness::Result<(Tmux, Child)> {
        let dir = harness::registry::directory()
            .map_err(|e| harness::Error::Invalid(format!("the lab registry: {e}")))?;
        let tmux = Tmux {
            program: program.to_owned(),
            socket: dir.join(format!("{}.tmux", lab.id())),
            session: format!("lab-{}", lab.id()),
        };
        lab.set_tmux(&tmux.socket)?;
        let hosts: Vec<String> = lab.hosts().iter().map(|h| h.name().to_owned()).collect();
        let shell = |host: &str| {
            format!(
                "{} shell --lab {} {}",
                quote(&executable.to_string_lossy()),
                lab.id(),
                quote(host)
            )
        };
        let first = format!(
            "{}; {} -S {} kill-server",
            shell(&hosts[0]),
            quote(&program.to_string_lossy()),
            quote(&tmux.socket.to_string_lossy())
        );
        // The server starts inside the lab (its PID namespace), detached, so that it dies with
        // the lab however the lab ends.
        let mut command = lab.command(&hosts[0], program);
        command.arg("-S").arg(&tmux.socket).args([
            "new-session",
            "-d",
            "-s",
            &tmux.session,
            "-n",
            &hosts[0],
            &first,
        ]);
        for host in &hosts[1..] {
            command.args([";", "new-window", "-d", "-n", host, &shell(host)]);
        }
        if let Some(status) = status {
            // `#` starts a tmux format; the status is shown as it is.
            let status = status.replace('#', "##");
            let width = (status.len() + 1).to_string();
            command.args([
                ";",
                "set-option",
                "-t",
                &tmux.session,
                "status-right",
                &status,
            ]);
            command.args([
                ";",
                "set-option",
                "-t",
                &tmux.session,
                "status-right-length",
                &width,
            ]);
        }
        let started = lab.output(&hosts[0], &mut command)?;
        if !started.status.success() {
            return Err(harness::Error::Invalid(format!(
                "tmux new-session: {}",
                String::from_utf8_lossy(&started.stderr).trim()
            )));
        }
        // The client attaches from outside the lab's PID namespace: killed with the lab (even
        // with SIGKILL), it would leave the terminal in tmux's alternate screen; outside, it
        // sees its server go and puts the terminal back, as a detach does.
        let child = tmux
            .command()
            .args(["attach-session", "-t", &tmux.session])
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .spawn()
            .map_err(|e| harness::Error::Invalid(format!("tmux attach-session: {e}")))?;
        Ok((tmux, child))
    }

    /// A tmux command for this session's server.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.arg("-S").arg(&self.socket);
        command
    }
}

/// Quotes `text` for `sh`.
pub(crate) fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}
