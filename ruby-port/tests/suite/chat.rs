//! The backchannel chat: `Client` and the `chat --plain` program, inside
//! harness sandboxes and across a virtual LAN.

use crate::common;

use std::sync::mpsc::{Receiver as Inbox, channel};
use std::time::Duration;

use common::{DEADLINE, start};
use harness::{Host, Lan, Sandbox};
use ruby_port::{
    CUT_MARKER, Client, Config, Event, Group, Interface, MAX_DATAGRAM, Message, Rejection, send,
};

const CHAT: &str = env!("CARGO_BIN_EXE_chat");

/// A client made inside `host`, with a channel that receives its events.
fn client(host: &Host, handle: &str) -> (Client, Inbox<Event>) {
    let client = host
        .run(|| Client::new(handle, &Config::backchannel()))
        .unwrap();
    let (tx, rx) = channel();
    client.add_listener(move |event| {
        let _ = tx.send(event.clone());
    });
    (client, rx)
}

fn next_message(inbox: &Inbox<Event>) -> (Message, std::net::SocketAddr) {
    match inbox.recv_timeout(DEADLINE) {
        Ok(Event::Message { message, source }) => (message, source),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Two clients in one sandbox hear each other, and neither hears itself:
/// its looped-back copy is recognised by `client_id` and skipped.
#[test]
fn two_clients_exchange_messages_and_own_messages_are_not_echoed() {
    let host = harness::or_skip!(Sandbox::new());
    let (jules, jules_inbox) = client(&host, "jules");
    let (vincent, vincent_inbox) = client(&host, "vincent");

    let sent = jules.transmit("say what again").unwrap();
    assert_eq!(sent.client_id, *jules.id());
    let (got, source) = next_message(&vincent_inbox);
    assert_eq!(got, sent);
    assert_eq!(
        source.port(),
        6811,
        "the one socket sends from the group's port"
    );

    vincent.transmit("what").unwrap();
    let (got, _) = next_message(&jules_inbox);
    assert_eq!(
        (got.handle.as_str(), got.content.as_str()),
        ("vincent", "what")
    );

    // Nothing else arrives: in particular not jules's own line.
    assert!(
        jules_inbox
            .recv_timeout(Duration::from_millis(300))
            .is_err()
    );
    assert!(
        vincent_inbox
            .recv_timeout(Duration::from_millis(10))
            .is_err()
    );
    let stats = jules.stats();
    assert_eq!(
        (stats.messages, stats.own, stats.rejected),
        (1, 1, 0),
        "{stats:?}"
    );
}

/// What goes on the wire is the original's JSON, seen by a plain listener.
#[test]
fn transmitted_messages_are_the_gems_json() {
    let host = harness::or_skip!(Sandbox::new());
    let listener = host
        .listen(harness::Group::parse("224.6.8.11:6811").unwrap())
        .unwrap();
    let (mia, _) = client(&host, "mia");
    mia.transmit("don't be a square").unwrap();
    let got = listener.expect(1).within(DEADLINE).unwrap();
    assert_eq!(
        got[0].text(),
        format!(
            r#"{{"client_id":"{}","handle":"mia","content":"don't be a square"}}"#,
            mia.id()
        )
    );
    assert_eq!(got[0].ttl, Some(1));
}

/// Clients on two hosts of a LAN talk through eth0, and the observed source is
/// the other host's address.
#[test]
fn clients_on_two_lan_hosts_exchange_messages() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let (a, a_inbox) = client(lan.host("a"), "alice");
    let (b, b_inbox) = client(lan.host("b"), "bob");
    a.transmit("hi bob").unwrap();
    let (got, source) = next_message(&b_inbox);
    assert_eq!(
        (got.handle.as_str(), got.content.as_str()),
        ("alice", "hi bob")
    );
    assert_eq!(source.ip().to_string(), "10.0.0.1");
    b.transmit("hi alice").unwrap();
    let (got, source) = next_message(&a_inbox);
    assert_eq!(got.content, "hi alice");
    assert_eq!(source.ip().to_string(), "10.0.0.2");
}

/// The hostile set: each bad datagram is reported as a rejection with its
/// reason, and the client still delivers the good message that follows.
#[test]
fn hostile_datagrams_are_counted_and_the_client_keeps_running() {
    let host = harness::or_skip!(Sandbox::new());
    let (victim, inbox) = client(&host, "victim");
    let big = vec![b'A'; 64 * 1024 - 100];
    let hostile: Vec<(&[u8], Rejection)> = vec![
        (
            b"{not json",
            Rejection::NotJson("key must be a string".into()),
        ),
        (b"\xff\xfe\x00binary\x9b", Rejection::NotUtf8),
        (
            br#"{"client_id":"x","handle":"eve"}"#,
            Rejection::MissingKey("content"),
        ),
        (
            br#"{"client_id":"x","handle":"eve","content":""}"#,
            Rejection::EmptyContent,
        ),
        (
            br#"["client_id","handle","content"]"#,
            Rejection::NotAnObject,
        ),
        (&big, Rejection::Truncated { length: big.len() }),
    ];
    host.run(|| {
        for (bytes, _) in &hostile {
            send(&Config::backchannel(), bytes).unwrap();
        }
        let escapes = r#"{"client_id":"eeeeeeeeee","handle":"eve\u001b[2J","content":"\u001b[31mred\r\n<bob> fake"}"#;
        send(&Config::backchannel(), escapes.as_bytes()).unwrap();
    });
    for (_, reason) in &hostile {
        match inbox.recv_timeout(DEADLINE) {
            Ok(Event::Rejected { rejection, .. }) => assert_eq!(&rejection, reason),
            other => panic!("expected rejection {reason:?}, got {other:?}"),
        }
    }
    // Escapes are valid JSON: the message is delivered as sent; showing it
    // safely is the display's job (see the window and plain-mode tests).
    let (got, _) = next_message(&inbox);
    assert_eq!(got.handle, "eve\x1b[2J");
    assert_eq!(victim.stats().rejected, 6);
    // Still running: a good message gets through.
    let (friend, _) = client(&host, "friend");
    friend.transmit("still there?").unwrap();
    assert_eq!(next_message(&inbox).0.content, "still there?");
}

/// A valid message longer than a peer reads is shown cut, with a marker that
/// says so, instead of vanishing; it is counted as cut.
#[test]
fn oversized_valid_messages_arrive_cut_with_a_marker() {
    let host = harness::or_skip!(Sandbox::new());
    let (reader, inbox) = client(&host, "reader");
    let long = Message::new("abcdef0123".into(), "bigmouth", "blah ".repeat(1600));
    host.run(|| send(&Config::backchannel(), long.to_json().as_bytes()))
        .unwrap();
    let (got, _) = next_message(&inbox);
    assert_eq!(got.handle, "bigmouth");
    assert!(got.content.ends_with(CUT_MARKER), "{}", got.content);
    let kept = got.content.strip_suffix(CUT_MARKER).unwrap();
    assert!(long.content.starts_with(kept));
    assert!(kept.len() <= MAX_DATAGRAM && kept.len() > MAX_DATAGRAM / 2);
    assert_eq!((reader.stats().messages, reader.stats().cut), (1, 1));
}

/// A message that would not fit the 1024 bytes Ruby peers read is refused
/// before it is sent.
#[test]
fn messages_too_long_for_ruby_peers_are_not_sent() {
    let host = harness::or_skip!(Sandbox::new());
    let (client, _) = client(&host, "verbose");
    let err = client.transmit(&"x".repeat(MAX_DATAGRAM)).unwrap_err();
    assert!(err.to_string().contains("at most 1024"), "{err}");
}

/// Two `chat --plain` programs: a line typed into one is printed by the other
/// as `<handle> content`, and not echoed by the sender.
#[test]
fn plain_mode_programs_exchange_lines() {
    let host = harness::or_skip!(Sandbox::new());
    let mut alice = start(&host, CHAT, &["alice", "--plain"]);
    let mut bob = start(&host, CHAT, &["bob", "--plain"]);
    alice.wait_stderr("joined 224.6.8.11:6811");
    bob.wait_stderr("joined 224.6.8.11:6811");
    alice.type_line("hello bob");
    assert_eq!(bob.stdout_line(), "<alice> hello bob");
    bob.type_line("hi alice");
    assert_eq!(alice.stdout_line(), "<bob> hi alice");
    assert!(
        alice.more_stdout(Duration::from_millis(300)).is_empty(),
        "no echo of own lines"
    );
    assert_eq!(alice.finish(), Some(0), "exits at end of stdin");
}

/// Plain mode across a LAN with `--show-source`: the line carries the sender's
/// observed address, whatever handle it claims.
#[test]
fn plain_mode_shows_the_observed_source_across_a_lan() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let mut reader = start(lan.host("b"), CHAT, &["bob", "--plain", "--show-source"]);
    reader.wait_stderr("joined");
    let (writer, _) = client(lan.host("a"), "definitely-not-alice");
    writer.transmit("trust me").unwrap();
    assert_eq!(
        reader.stdout_line(),
        "[10.0.0.1:6811] <definitely-not-alice> trust me"
    );
}

/// The hostile set against the program: stdout stays clean (one line per real
/// message, no control characters), stderr counts what was ignored.
#[test]
fn plain_mode_survives_hostile_datagrams_with_a_clean_screen() {
    let host = harness::or_skip!(Sandbox::new());
    let mut chat = start(&host, CHAT, &["bob", "--plain"]);
    chat.wait_stderr("joined");
    host.run(|| {
        let config = Config::backchannel();
        send(&config, b"{not json").unwrap();
        send(&config, &vec![b'{'; 65_000]).unwrap();
        send(&config, b"\x00\x01\xff binary").unwrap();
        let fake = r#"{"client_id":"eeeeeeeeee","handle":"eve","content":"\u001b[2J\u001b[Hhi\n<alice> send me your password\u202e"}"#;
        send(&config, fake.as_bytes()).unwrap();
        let good = Message::new("abcdef0123".into(), "alice", "the real alice");
        send(&config, good.to_json().as_bytes()).unwrap();
    });
    let fake = chat.stdout_line();
    assert_eq!(
        fake,
        r"<eve> ␛[2J␛[Hhi␊<alice> send me your password\u{202e}"
    );
    assert_eq!(chat.stdout_line(), "<alice> the real alice");
    assert!(
        chat.seen_stdout()
            .iter()
            .all(|l| !l.chars().any(char::is_control))
    );
    assert!(chat.wait_stderr("ignored a datagram").contains("not JSON"));
    assert!(
        chat.wait_stderr("(2 so far)")
            .contains("65000 bytes, more than the 1024")
    );
    assert!(chat.wait_stderr("(3 so far)").contains("not UTF-8"));
}

/// The chat over IPv6: a link-local group on a named interface works like the
/// IPv4 default, and the observed source is the peer's link-local address.
#[test]
fn clients_chat_over_an_ipv6_link_local_group() {
    let host = harness::or_skip!(Sandbox::new());
    let make = |handle: &str| {
        host.run(|| {
            let eth0 = Interface::named("eth0").unwrap();
            let group = Group::parse_address("ff02::6811", 6811).unwrap();
            Client::new(handle, &Config::new(group, Some(eth0)).unwrap())
        })
        .unwrap()
    };
    let (alice, bob) = (make("alice"), make("bob"));
    let (tx, inbox) = channel();
    bob.add_listener(move |event| {
        let _ = tx.send(event.clone());
    });
    alice.transmit("hallo over v6").unwrap();
    let (got, source) = next_message(&inbox);
    assert_eq!(got.content, "hallo over v6");
    // eth0's link-local address (see ipv6_link_local_group_works_with_an_interface).
    let from = source.to_string();
    assert!(from.starts_with("[fe80::"), "{from}");
    assert_eq!(source.port(), 6811);
}

/// Without `--plain`, a `chat` whose stdin is a pipe switches to line mode by
/// itself (a full-screen window needs a terminal).
#[test]
fn chat_falls_back_to_line_mode_when_stdin_is_not_a_terminal() {
    let host = harness::or_skip!(Sandbox::new());
    let (listener, inbox) = client(&host, "listener");
    let mut scripted = start(&host, CHAT, &["script"]);
    scripted.wait_stderr("lines you type are sent");
    scripted.type_line("from a pipe");
    let (got, _) = next_message(&inbox);
    assert_eq!(
        (got.handle.as_str(), got.content.as_str()),
        ("script", "from a pipe")
    );
    listener.transmit("and back").unwrap();
    assert_eq!(scripted.stdout_line(), "<listener> and back");
    assert_eq!(scripted.finish(), Some(0));
}

/// `chat --plain | head -1` ends quietly once head has its line, instead of
/// running on and writing into a closed pipe.
#[test]
fn plain_mode_piped_into_head_ends_quietly() {
    let host = harness::or_skip!(Sandbox::new());
    let command = format!("{CHAT} --plain bob");
    let line = Message::new("abcdef0123".into(), "alice", "one line");
    let (status, stderr) = common::piped_into_head(&host, &command, "joined", || {
        host.run(|| send(&Config::backchannel(), line.to_json().as_bytes()))
            .unwrap();
    });
    assert_eq!(status, "0", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
