//! The options the original does not have, checked on the wire: TTLs, the outgoing
//! interface, and the receiver's ways to stop.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::{DEADLINE, Program, RECEIVER, SENDER, run, run_sender};
use harness::{Direction, Group, Lan, Sandbox};

fn article_group() -> Group {
    Group::parse("224.3.29.71:10000").unwrap()
}

/// The datagram carries TTL 1 by default, as the article sets it, and `--ttl` changes it.
#[test]
fn ttl_option_sets_the_multicast_ttl() {
    let host = harness::or_skip!(Sandbox::new());
    let listener = host.listen(article_group()).unwrap();

    run(&host, &mut Command::new(SENDER));
    run(&host, Command::new(SENDER).args(["--ttl", "5"]));

    let got = listener.expect(2).within(DEADLINE).unwrap();
    assert_eq!(got[0].ttl, Some(1), "{}", got[0]);
    assert_eq!(got[1].ttl, Some(5), "{}", got[1]);
    assert!(got.iter().all(|d| d.payload == b"very important data"));
}

/// In the sandbox the route to 224.0.0.0/4 goes over `lo`; `--interface eth0`
/// (`IP_MULTICAST_IF`) sends through eth0 instead, where the kernel loops a copy back.
#[test]
fn interface_option_picks_the_outgoing_interface() {
    let host = harness::or_skip!(Sandbox::new());
    let listener = host.listen(article_group()).unwrap();

    run(&host, &mut Command::new(SENDER));
    let first = listener.expect(1).within(DEADLINE).unwrap();
    assert_eq!(first[0].interface.name, "lo", "{}", first[0]);

    let capture = host.capture("eth0").unwrap();
    run(&host, Command::new(SENDER).args(["--interface", "eth0"]));
    let sent = capture
        .wait_for_udp(
            |u| {
                u.direction == Direction::Outgoing && u.destination == article_group().socket_addr()
            },
            DEADLINE,
        )
        .unwrap();
    assert_eq!(sent.payload, b"very important data");
    let second = listener.expect(1).within(DEADLINE).unwrap();
    assert_eq!(second[0].interface.name, "eth0", "{}", second[0]);
}

/// The acknowledgement is unicast, so the receiver's `--ttl` sets the unicast TTL
/// (`IP_TTL`), seen here on the ack as it reaches the sender's host.
#[test]
fn receiver_ttl_option_sets_the_acks_ttl() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let _receiver = Program::ready(lan.host("b"), Command::new(RECEIVER).args(["--ttl", "7"]));
    let capture = lan.host("a").capture("eth0").unwrap();

    let (code, output, stderr) = run_sender(lan.host("a"), &["--expect", "1"]);
    assert_eq!(code, 0, "{stderr}\n{output}");
    let ack = capture
        .wait_for_udp(
            |u| u.direction == Direction::Incoming && u.source.port() == 10000,
            DEADLINE,
        )
        .unwrap();
    assert_eq!(ack.payload, b"ack");
    assert_eq!(ack.source.ip(), lan.host("b").ipv4());
    assert_eq!(ack.ttl, 7);
}

/// `--count 1` ends the receiver after one answered datagram, with exit status 0.
#[test]
fn receiver_count_stops_after_that_many_datagrams() {
    let host = harness::or_skip!(Sandbox::new());
    let mut receiver = Program::ready(&host, Command::new(RECEIVER).args(["--count", "1"]));
    let (code, output, stderr) = run_sender(&host, &["--expect", "1"]);
    assert_eq!(code, 0, "{stderr}\n{output}");
    let (code, transcript) = receiver.finish();
    assert_eq!(code, 0, "{transcript}");
    let last = transcript.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("sending acknowledgement to ('10.0.0.1', "),
        "{transcript}"
    );
    assert_eq!(transcript.matches("received ").count(), 1, "{transcript}");
}

/// A receiver given an idle time returns when nothing arrives for that long, with an
/// empty report and a last line saying why it stopped.
#[test]
fn receiver_idle_stops_a_quiet_receiver() {
    use python_echo::{Receiver, ReceiverConfig};

    let host = harness::or_skip!(Sandbox::new());
    let config = ReceiverConfig {
        idle: Some(Duration::from_millis(100)),
        ..ReceiverConfig::default()
    };
    let receiver = host.run(|| Receiver::bind(config)).unwrap();
    assert_eq!(receiver.local_addr().port(), 10000);
    let mut transcript = Vec::new();
    let report = receiver.serve(&mut transcript).unwrap();
    assert!(report.handled.is_empty());
    assert_eq!(
        String::from_utf8(transcript).unwrap(),
        "\nwaiting to receive message\nnothing arrived for 100ms, stopping\n"
    );
}
