//! A tmux server of our own running one program in a pseudo-terminal: the
//! tests type into it with `send-keys`, read the screen with `capture-pane`
//! and, with [`Tmux::record_output`], the raw bytes the program wrote.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::Host;

use super::DEADLINE;

/// A tmux server of our own, in the foreground (`-D`) so the harness kills it
/// with the test, with one 60x12 session running `chat`.
pub(crate) struct Tmux<'h> {
    host: &'h Host,
    /// The tmux program, found on `PATH` by [`harness::tool`].
    program: PathBuf,
    socket: PathBuf,
    server: Child,
    /// Where the pane's shell writes the program's exit status when it ends.
    status: PathBuf,
}

impl<'h> Tmux<'h> {
    pub(crate) fn start(host: &'h Host, program: PathBuf, command: &str) -> Tmux<'h> {
        let socket = std::env::temp_dir().join(format!(
            "ruby-port-tmux-{}-{}",
            std::process::id(),
            host.namespace_inode()
        ));
        let server = host
            .spawn(
                Command::new(&program)
                    .args(["-D", "-f", "/dev/null", "-S"])
                    .arg(&socket)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            )
            .expect("starting the tmux server");
        let status = socket.with_extension("status");
        let tmux = Tmux {
            host,
            program,
            socket,
            server,
            status,
        };
        // The server is ready when a client can talk to it. `list-sessions`
        // never starts a (daemon) server of its own, unlike `new-session`.
        tmux.until("the tmux server to answer", || {
            tmux.socket.exists() && tmux.try_run(&["list-sessions"]).is_some()
        });
        // The pane's shell records the exit status itself: tmux learns it only when it
        // reaps the process, and under load it once left `chat` a zombie for over 5 s.
        let _ = std::fs::remove_file(&tmux.status);
        let recorded = format!("{command}; echo $? > {}", tmux.status.display());
        tmux.run(&[
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            "chat",
            "-x",
            "60",
            "-y",
            "12",
            &recorded,
        ]);
        tmux
    }

    /// The exit status the pane's shell recorded, once `until_exited` has returned.
    pub(crate) fn exit_status(&self) -> String {
        std::fs::read_to_string(&self.status)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    pub(crate) fn try_run(&self, args: &[&str]) -> Option<String> {
        let out = self
            .host
            .output(
                Command::new(&self.program)
                    .arg("-S")
                    .arg(&self.socket)
                    .args(args),
            )
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub(crate) fn run(&self, args: &[&str]) -> String {
        self.try_run(args)
            .unwrap_or_else(|| panic!("tmux {args:?} failed"))
    }

    /// The visible screen, one line per row, trailing spaces removed.
    pub(crate) fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "chat"])
    }

    pub(crate) fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "chat", format])
            .trim()
            .to_string()
    }

    /// Appends every byte the program writes to its terminal to `file`
    /// (`pipe-pane`), from now on.
    pub(crate) fn record_output(&self, file: &Path) {
        let _ = std::fs::remove_file(file);
        self.run(&[
            "pipe-pane",
            "-t",
            "chat",
            "-o",
            &format!("cat >> {}", file.display()),
        ]);
    }

    /// The pid of the program in the pane: the child of the pane's shell.
    pub(crate) fn program_pid(&self) -> u32 {
        let shell = self.pane("#{pane_pid}");
        let children = format!("/proc/{shell}/task/{shell}/children");
        let mut pid = None;
        self.until("the pane's program to start", || {
            pid = std::fs::read_to_string(&children)
                .ok()
                .and_then(|c| c.split_whitespace().next()?.parse().ok());
            pid.is_some()
        });
        pid.expect("polled until found")
    }

    /// Polls until `ready` holds; the deadline only bounds a failure.
    pub(crate) fn until(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let end = Instant::now() + DEADLINE;
        while !ready() {
            if Instant::now() > end {
                let screen = self.try_run(&["capture-pane", "-p", "-t", "chat"]);
                panic!(
                    "waited {DEADLINE:?} for {what}; screen:\n{}",
                    screen.unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the program has exited and its exit status is recorded.
    pub(crate) fn until_exited(&self) {
        let end = Instant::now() + DEADLINE;
        while self.exit_status().is_empty() {
            if Instant::now() > end {
                panic!(
                    "waited {DEADLINE:?} for chat to exit; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn until_screen_shows(&self, text: &str) -> String {
        let mut last = String::new();
        self.until(&format!("the screen to show {text:?}"), || {
            last = self.screen();
            last.contains(text)
        });
        last
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self.try_run(&["kill-server"]);
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.status);
    }
}
