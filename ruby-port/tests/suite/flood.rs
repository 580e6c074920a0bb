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

use crate::common;

use std::process::Command;

use common::hostile::{
    AFTER, FLOOD, MARK, READY, assert_within_memory_bound, hostile, send_message, slow_chat_message,
};
use harness::flood::{Flood, Watched};
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

/// Starts `args` inside `host`, watched: every stdout line is counted and checked for
/// control characters, and only those containing [`MARK`] are kept, so a flood's worth of
/// output costs the test no memory. Its stdin stays open (`chat --plain` ends at its end).
fn start(host: &Host, program: &str, args: &[&str]) -> Watched {
    Watched::start_with_stdin(host, Command::new(program).args(args), |line| {
        line.contains(MARK)
    })
}

/// Sends `text` from `host` until a line containing it comes out, and returns that line.
fn send_until_shown(
    watched: &mut Watched,
    host: &Host,
    group: harness::Group,
    text: &str,
) -> String {
    watched.wait_for_resending(
        |line| line.contains(text),
        || send_message(host, group, text),
    )
}

/// Checks the line-mode programs: running, the later message shown, memory
/// under the bound, no control character on stdout.
fn check_line_mode(lan: &Lan, mut watched: Watched, group: harness::Group) {
    // Idle: joined and past its first message.
    send_until_shown(&mut watched, lan.host("a"), group, READY);
    let idle = watched.memory();
    let sent = hostile(FLOOD).send(lan.host("a"), group).unwrap();
    assert_eq!(sent.datagrams, FLOOD);
    assert!(watched.running(), "the program ended during the flood");
    // Sent until seen: the socket's queue may still be full of flood.
    let line = send_until_shown(&mut watched, lan.host("a"), group, AFTER);
    assert!(line.contains(AFTER), "{line}");
    let after = watched.memory();
    assert_within_memory_bound(idle, after);
    let offending = watched.printed().with_controls;
    assert!(
        offending.is_empty(),
        "control characters from a peer reached stdout: {offending:?}"
    );
    assert!(watched.running(), "the program is still running");
}

/// `chat --plain` under a flood: each message is written out as it comes, so
/// memory stays flat, escape sequences are shown inert, and a friend's message
/// afterwards is printed.
#[test]
fn plain_chat_survives_a_flood_bounded_and_clean() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let watched = start(lan.host("b"), CHAT, &["--plain", "bob"]);
    check_line_mode(&lan, watched, BACKCHANNEL_GROUP);
}

/// `receive` under a flood: it prints every datagram it reads, oversized and
/// malformed ones too, with control characters shown as symbols.
#[test]
fn receive_survives_a_flood_bounded_and_clean() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let watched = start(lan.host("b"), RECEIVE, &[]);
    check_line_mode(&lan, watched, SEND_RECEIVE_GROUP);
}
