//! The real `chat` binary in a real pseudo-terminal: tmux runs it inside a
//! sandbox, the test types into it with `send-keys` and reads the screen with
//! `capture-pane`.

use crate::common;

use std::sync::mpsc::channel;

use common::DEADLINE;
use common::tmux::Tmux;
use harness::Sandbox;
use ruby_port::{Client, Config, Event};

const CHAT: &str = env!("CARGO_BIN_EXE_chat");

/// The whole round trip on a real terminal: the window draws, a peer's message
/// appears, typed text is sent, the hostile set (escapes, malformed JSON,
/// 64 KiB, binary) leaves it running with a clean screen, and
/// Esc quits with exit code 0, leaving the alternate screen.
#[test]
fn chat_runs_in_a_real_terminal_and_restores_it_on_esc() {
    let tmux_program = harness::or_skip!(harness::tool(harness::Capability::Tmux));
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
    let tmux_program = harness::or_skip!(harness::tool(harness::Capability::Tmux));
    let host = harness::or_skip!(Sandbox::new());
    let tmux = Tmux::start(&host, tmux_program, &format!("{CHAT} alice"));
    tmux.until_screen_shows(" [backchannel]");
    tmux.run(&["send-keys", "-t", "chat", "C-c"]);
    tmux.until_exited();
    assert_eq!(tmux.exit_status(), "0");
    assert_eq!(tmux.pane("#{alternate_on}"), "0");
}
