//! The flood suite: every program here that listens (`chat` in its window and
//! in line mode, `receive`) gets 100,000 datagrams from another host on the
//! LAN, a hostile mix from `harness::flood` (valid chat messages, malformed
//! bytes, oversized messages, escape sequences, messages cut short), and must
//! come out of it still running, showing a message sent afterwards, with its
//! resident memory under [`memory_bound`], and with nothing a peer sent
//! reaching its output as a control sequence.
//!
//! Nothing here times the programs: deadlines only bound a failure. The
//! figures (memory before and after, Esc-to-exit time) are printed by
//! `examples/flood_figures.rs`.

mod common;

use std::io::Read;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver as Inbox, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::DEADLINE;
use common::hostile::{hostile, slow_chat_message};
use common::tmux::Tmux;
use harness::flood::{self, Flood};
use harness::{Host, Lan};
use ruby_port::{BACKCHANNEL_GROUP, ClientId, FRAME_INTERVAL, Message, SEND_RECEIVE_GROUP};

const CHAT: &str = env!("CARGO_BIN_EXE_chat");
const RECEIVE: &str = env!("CARGO_BIN_EXE_receive");

/// Datagrams per flood.
const FLOOD: u64 = 100_000;

/// What the test's own messages start with; the output watcher keeps only
/// lines that contain it.
const MARK: &str = "mark:";

/// The message sent before a flood, to see the program ready.
const READY: &str = "mark: ready";

/// The message sent after each flood, to show the program still works.
const AFTER: &str = "mark: still here after the flood";

/// The flood's valid messages are exactly what the crate's [`Message`] writes,
/// for every kind of datagram the flood makes from them.
#[test]
fn flood_messages_are_the_crates_own_json() {
    let fast = hostile(FLOOD);
    let slow = Flood::new(FLOOD, slow_chat_message).oversized(2048);
    for n in (0..70).chain(FLOOD - 70..FLOOD) {
        assert_eq!(fast.datagram(n), slow.datagram(n), "datagram {n}");
    }
    assert!(Message::from_datagram(&fast.datagram(0)).is_ok());
    assert!(
        Message::from_datagram(&fast.datagram(3)).is_ok(),
        "the escapes one"
    );
}

/// The most resident memory a program may reach during a flood: twice what it
/// used idle, plus 8 MiB of slack (allocator arenas, the 64 KiB read buffer,
/// a terminal frame). Before the fixes `chat` grew by about 36 bytes of
/// memory per byte of valid message it ever received.
fn memory_bound(idle_kib: u64) -> u64 {
    2 * idle_kib + 8 * 1024
}

fn send_message(host: &Host, group: harness::Group, text: &str) {
    let message = Message::new(ClientId::from("0a0b0c0d0e"), "friend", text);
    let config = ruby_port::Config::new(group, None).unwrap();
    host.run(|| ruby_port::send(&config, message.to_json().as_bytes()))
        .unwrap();
}

/// A program's stdout, read as it comes: every line is checked for control
/// characters and only the offending ones and those containing [`MARK`] are
/// kept, so a flood's worth of output costs the test no memory.
struct Watched {
    marked: Inbox<String>,
    offending: Arc<Mutex<Vec<String>>>,
}

impl Watched {
    fn new(mut pipe: ChildStdout) -> Watched {
        let (tx, marked) = channel();
        let offending = Arc::new(Mutex::new(Vec::new()));
        let found = Arc::clone(&offending);
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&chunk[..n]);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                    if !flood::control_characters(&line).is_empty() {
                        let mut found = found.lock().unwrap();
                        if found.len() < 5 {
                            found.push(line.clone());
                        }
                    }
                    if line.contains(MARK) {
                        let _ = tx.send(line);
                    }
                }
            }
        });
        Watched { marked, offending }
    }

    /// Sends `text` from `host` until a line containing it comes out; panics
    /// if none does within the deadline.
    fn send_until_shown(&self, host: &Host, group: harness::Group, text: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            send_message(host, group, text);
            while let Ok(line) = self.marked.recv_timeout(Duration::from_millis(50)) {
                if line.contains(text) {
                    return line;
                }
            }
            assert!(
                Instant::now() < end,
                "no line containing {text:?} within {DEADLINE:?}"
            );
        }
    }
}

/// Starts `args` inside `host` with stdout watched and stderr discarded (the
/// chat reports each ignored datagram there; the line-mode test checks
/// stdout, where peer text goes).
fn start(host: &Host, program: &str, args: &[&str]) -> (Child, Watched) {
    let mut child = host
        .spawn(
            Command::new(program)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )
        .unwrap();
    let watched = Watched::new(child.stdout.take().unwrap());
    (child, watched)
}

/// Resident memory of `pid` in KiB, now and at its peak.
fn memory(pid: u32) -> flood::Memory {
    flood::memory(pid).unwrap_or_else(|e| panic!("reading the memory of {pid}: {e}"))
}

/// Checks the line-mode programs: running, the later message shown, memory
/// under the bound, no control character on stdout.
fn check_line_mode(lan: &Lan, mut child: Child, watched: &Watched, group: harness::Group) {
    // Idle: joined and past its first message.
    watched.send_until_shown(lan.host("a"), group, READY);
    let pid = child.id();
    let idle = memory(pid);
    let sent = hostile(FLOOD).send(lan.host("a"), group).unwrap();
    assert_eq!(sent.datagrams, FLOOD);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the program ended during the flood"
    );
    // Sent until seen: the socket's queue may still be full of flood.
    let line = watched.send_until_shown(lan.host("a"), group, AFTER);
    assert!(line.contains(AFTER), "{line}");
    let after = memory(pid);
    let bound = memory_bound(idle.resident_kib);
    assert!(
        after.peak_kib <= bound,
        "peak resident memory {} KiB, over the bound {bound} KiB (2 x idle {} KiB + 8 MiB)",
        after.peak_kib,
        idle.resident_kib
    );
    let offending = watched.offending.lock().unwrap().clone();
    assert!(
        offending.is_empty(),
        "control characters from a peer reached stdout: {offending:?}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the program is still running"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// `chat --plain` under a flood: each message is written out as it comes, so
/// memory stays flat, escape sequences are shown inert, and a friend's message
/// afterwards is printed.
#[test]
fn plain_chat_survives_a_flood_bounded_and_clean() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let (child, watched) = start(lan.host("b"), CHAT, &["--plain", "bob"]);
    check_line_mode(&lan, child, &watched, BACKCHANNEL_GROUP);
}

/// `receive` under a flood: it prints every datagram it reads, oversized and
/// malformed ones too, with control characters shown as symbols.
#[test]
fn receive_survives_a_flood_bounded_and_clean() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let (child, watched) = start(lan.host("b"), RECEIVE, &[]);
    check_line_mode(&lan, child, &watched, SEND_RECEIVE_GROUP);
}

/// A file for a test's recorded terminal output, removed when the test ends
/// however it ends.
struct OutputFile(std::path::PathBuf);

impl OutputFile {
    fn new(lan: &Lan, name: &str) -> OutputFile {
        OutputFile(std::env::temp_dir().join(format!(
            "ruby-port-flood-{name}-{}-{}.out",
            std::process::id(),
            lan.host("b").namespace_inode()
        )))
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The chat window under a flood: still running and showing a friend's
/// message afterwards, memory under the bound (the history keeps only its
/// scrollback), no escape sequence from a peer written to the terminal, and
/// at most one frame drawn per frame interval however fast messages came.
#[test]
fn chat_window_survives_a_flood_bounded_and_clean() {
    let tmux_program = harness::or_skip!(harness::tool("tmux"));
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let tmux = Tmux::start(lan.host("b"), tmux_program, &format!("{CHAT} bob"));
    tmux.until_screen_shows(" [backchannel]");
    let pid = tmux.program_pid();
    let recorded = OutputFile::new(&lan, "window");
    let started = Instant::now();
    tmux.record_output(&recorded.0);
    send_message(lan.host("a"), BACKCHANNEL_GROUP, READY);
    tmux.until_screen_shows(READY);
    let idle = memory(pid);

    let sent = hostile(FLOOD)
        .send(lan.host("a"), BACKCHANNEL_GROUP)
        .unwrap();
    assert_eq!(sent.datagrams, FLOOD);
    tmux.until(&format!("{AFTER:?} on the screen"), || {
        send_message(lan.host("a"), BACKCHANNEL_GROUP, AFTER);
        tmux.screen().contains(AFTER)
    });
    let elapsed = started.elapsed();
    let after = memory(pid);
    assert!(tmux.exit_status().is_empty(), "chat is still running");

    let bound = memory_bound(idle.resident_kib);
    assert!(
        after.peak_kib <= bound,
        "peak resident memory {} KiB, over the bound {bound} KiB (2 x idle {} KiB + 8 MiB)",
        after.peak_kib,
        idle.resident_kib
    );
    let output = std::fs::read(&recorded.0).unwrap_or_default();
    assert_eq!(
        flood::injected_sequences(&output),
        Vec::<&str>::new(),
        "escape sequences from a peer reached the terminal"
    );
    // ratatui shows the cursor once per frame it draws (`ESC [?25h`).
    let frames = output.windows(6).filter(|w| w == b"\x1b[?25h").count();
    let allowed = (elapsed.as_millis() / FRAME_INTERVAL.as_millis()) as usize + 2;
    assert!(frames >= 1, "the window drew during the flood");
    assert!(
        frames <= allowed,
        "{frames} frames in {elapsed:?}: more than one per {FRAME_INTERVAL:?}"
    );
}

/// Esc ends the window while a flood is still arriving, after a whole flood
/// of 100,000 datagrams has already been sent: keys are read before network
/// work and nothing queues up, so the exit does not wait for the backlog
/// (before the fixes it took over a minute).
#[test]
fn esc_ends_the_chat_window_during_a_flood() {
    let tmux_program = harness::or_skip!(harness::tool("tmux"));
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let tmux = Tmux::start(lan.host("b"), tmux_program, &format!("{CHAT} bob"));
    tmux.until_screen_shows(" [backchannel]");
    let stop = AtomicBool::new(false);
    let (flooded, first_flood) = channel();
    /// Stops the flooder however the scope ends, so a failure cannot hang it.
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let _stop = Stop(&stop);
        // One whole flood, then more until told to stop: the Esc lands
        // during one, with the first one's worth already sent.
        scope.spawn(|| {
            hostile(FLOOD)
                .send(lan.host("a"), BACKCHANNEL_GROUP)
                .unwrap();
            let _ = flooded.send(());
            while !stop.load(Ordering::Relaxed) {
                hostile(FLOOD / 100)
                    .send(lan.host("a"), BACKCHANNEL_GROUP)
                    .unwrap();
            }
        });
        first_flood
            .recv_timeout(10 * DEADLINE)
            .expect("the first flood was sent");
        tmux.run(&["send-keys", "-t", "chat", "Escape"]);
        tmux.until_exited();
    });
    assert_eq!(tmux.exit_status(), "0");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the terminal is restored"
    );
}
