//! The flood suite: every program here that listens (`chat` in its window and
//! in line mode, `receive`) gets 100,000 datagrams from another host on the
//! LAN, a hostile mix from `harness::flood` (valid chat messages, malformed
//! bytes, oversized messages, escape sequences, messages cut short), and must
//! come out of it still running, showing a message sent afterwards, with its
//! resident memory under [`memory_bound`], and with nothing a peer sent
//! reaching its output as a control sequence. The window's half of the suite is
//! `tests/flood_window.rs`; the helpers both use are in `tests/common/hostile.rs`.
//!
//! Nothing here times the programs: deadlines only bound a failure. The
//! figures (memory before and after, Esc-to-exit time) are printed by
//! `examples/ruby_flood_figures.rs`.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

use std::io::Read;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver as Inbox, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::DEADLINE;
use common::hostile::{
    AFTER, FLOOD, MARK, READY, assert_within_memory_bound, hostile, memory, send_message,
    slow_chat_message,
};
use harness::flood::{self, Flood};
use harness::{Host, Lan};
use ruby_port::{BACKCHANNEL_GROUP, Message, SEND_RECEIVE_GROUP};

const CHAT: &str = env!("CARGO_BIN_EXE_chat");
const RECEIVE: &str = env!("CARGO_BIN_EXE_receive");

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
    assert_within_memory_bound(idle, after);
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
