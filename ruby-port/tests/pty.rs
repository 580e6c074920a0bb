//! The real `chat` binary in a real pseudo-terminal: tmux runs it inside a
//! sandbox, the test types into it with `send-keys` and reads the screen with
//! `capture-pane`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use common::DEADLINE;
use harness::{Host, Sandbox};
use ruby_port::{Client, Config, Event};

const CHAT: &str = env!("CARGO_BIN_EXE_chat");

/// A tmux server of our own, in the foreground (`-D`) so the harness kills it
/// with the test, with one 60x12 session running `chat`.
struct Tmux<'h> {
    host: &'h Host,
    /// The tmux program, found on `PATH` by [`harness::tool`].
    program: PathBuf,
    socket: PathBuf,
    server: Child,
    /// Where the pane's shell writes the program's exit status when it ends.
    status: PathBuf,
}

impl<'h> Tmux<'h> {
    fn start(host: &'h Host, program: PathBuf, command: &str) -> Tmux<'h> {
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
    fn exit_status(&self) -> String {
        std::fs::read_to_string(&self.status)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn try_run(&self, args: &[&str]) -> Option<String> {
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

    fn run(&self, args: &[&str]) -> String {
        self.try_run(args)
            .unwrap_or_else(|| panic!("tmux {args:?} failed"))
    }

    /// The visible screen, one line per row, trailing spaces removed.
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "chat"])
    }

    fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "chat", format])
            .trim()
            .to_string()
    }

    /// Polls until `ready` holds; the deadline only bounds a failure.
    fn until(&self, what: &str, mut ready: impl FnMut() -> bool) {
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
    fn until_exited(&self) {
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

    fn until_screen_shows(&self, text: &str) -> String {
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

/// The whole round trip on a real terminal: the window draws, a peer's message
/// appears, typed text is sent, the hostile set (escapes, malformed JSON,
/// 64 KiB, binary) leaves it running with a clean screen, and
/// Esc quits with exit code 0, leaving the alternate screen.
#[test]
fn chat_runs_in_a_real_terminal_and_restores_it_on_esc() {
    let tmux_program = harness::or_skip!(harness::tool("tmux"));
    let host = harness::or_skip!(Sandbox::new());
    let tmux = Tmux::start(&host, tmux_program, &format!("{CHAT} alice"));
    tmux.until_screen_shows(" [backchannel]");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "1",
        "the window uses the alternate screen"
    );

    let bob = host
        .run(|| Client::new("bob", &Config::backchannel()))
        .unwrap();
    let (tx, inbox) = channel();
    bob.add_listener(move |event| {
        let _ = tx.send(event.clone());
    });
    bob.transmit("hello alice").unwrap();
    tmux.until_screen_shows("<bob> hello alice");

    tmux.run(&["send-keys", "-t", "chat", "-l", "hi bob"]);
    tmux.run(&["send-keys", "-t", "chat", "Enter"]);
    match inbox.recv_timeout(DEADLINE) {
        Ok(Event::Message { message, .. }) => {
            assert_eq!(
                (message.handle.as_str(), message.content.as_str()),
                ("alice", "hi bob")
            )
        }
        other => panic!("bob expected alice's line, got {other:?}"),
    }

    // The hostile set: escapes inside valid JSON, then datagrams that are not
    // messages at all (malformed JSON, 64 KiB, binary).
    bob.transmit("\x1b[2J\x1b[H\x1b[31mgotcha\r\n<carol> fake line")
        .unwrap();
    host.run(|| {
        let config = Config::backchannel();
        ruby_port::send(&config, b"{\"client_id\":").unwrap();
        ruby_port::send(&config, &vec![0x1b; 64 * 1024 - 100]).unwrap();
        ruby_port::send(&config, b"\x00\x9b\xff\x1b[?1049l binary").unwrap();
    });
    let screen = tmux.until_screen_shows("3 ignored");
    insta::assert_snapshot!(screen, @r"
    <bob> hello alice
    <alice> hi bob
    <bob> ␛[2J␛[H␛[31mgotcha␍␊<carol> fake line







     [backchannel]                                    3 ignored
    ");

    // Still running: a later message is shown.
    bob.transmit("still there?").unwrap();
    tmux.until_screen_shows("<bob> still there?");

    tmux.run(&["send-keys", "-t", "chat", "Escape"]);
    tmux.until_exited();
    assert_eq!(tmux.exit_status(), "0");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
    assert!(
        !tmux.screen().contains("[backchannel]"),
        "the normal screen is back"
    );
}

/// Ctrl-C is a key in raw mode, not a signal: it quits cleanly as Esc does.
#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let tmux_program = harness::or_skip!(harness::tool("tmux"));
    let host = harness::or_skip!(Sandbox::new());
    let tmux = Tmux::start(&host, tmux_program, &format!("{CHAT} alice"));
    tmux.until_screen_shows(" [backchannel]");
    tmux.run(&["send-keys", "-t", "chat", "C-c"]);
    tmux.until_exited();
    assert_eq!(tmux.exit_status(), "0");
    assert_eq!(tmux.pane("#{alternate_on}"), "0");
}
