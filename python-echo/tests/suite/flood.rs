//! The receiver and the sender's reply loop under a flood: 100,000 datagrams from another
//! host, mixing valid, malformed, oversized, escape-laden and truncated ones
//! (`harness::flood`). Each program must keep running (or end when it should), still answer
//! or show a valid message sent afterwards, keep its resident memory under a stated bound,
//! and never print a peer's control characters. Nothing here is timed: deadlines only bound
//! a failure.

use crate::common;

use std::net::SocketAddr;
use std::process::Command;

use common::{RECEIVER, SENDER};
use harness::Lan;
use harness::flood::Flood;
use harness::flood::{WATCH_DEADLINE, Watched};

/// How many datagrams each flood sends.
const FLOOD: u64 = 100_000;

/// The size of the flood's oversized datagrams: more than the receiver reads (1024) and
/// the sender reads (16), but one Ethernet frame, so the flood costs no fragmentation
/// (8 KiB datagrams doubled the flood's time here). `tests/suite/bad_input.rs` sends 65,507.
const OVERSIZED: usize = 1400;

/// The receiver's resident memory must stay under this (idle it is about 3.4 MiB here, and
/// 3.7 MiB after the flood; keeping every datagram, as it did, took it to 39 MiB).
const RECEIVER_BOUND_KIB: u64 = 8 * 1024;

/// The sender's resident memory must stay under this (about 3.6 MiB through the flood here;
/// keeping every reply, as it did, took it to 8.6 MiB).
const SENDER_BOUND_KIB: u64 = 6 * 1024;

/// The receiver on b survives 100,000 datagrams from a: still running, its memory under
/// the bound, no control character printed, and it still acknowledges a real sender on a
/// afterwards, whose message it prints. (Two hosts only: every host on the segment costs
/// the flooding host one more copy of each datagram.)
#[test]
fn receiver_stays_bounded_and_answers_after_a_flood() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let mut receiver = Watched::start(lan.host("b"), &mut Command::new(RECEIVER), |line| {
        line == common::READY || line.contains("after the flood")
    });
    receiver.wait_for(|line| line == common::READY);
    let idle = receiver.memory();

    let sent = Flood::new(FLOOD, |_, text| text.as_bytes().to_vec())
        .oversized(OVERSIZED)
        .send(lan.host("a"), python_echo::DEFAULT_GROUP)
        .expect("flood");
    assert_eq!(sent.datagrams, FLOOD);
    assert!(receiver.running(), "the receiver died in the flood");

    // The first try may meet a queue still full of the flood; the sender says so with
    // `--expect 1` (exit 1), and is run again.
    let mut output = String::new();
    receiver.wait_for_resending(
        |line| line == "b'after the flood'",
        || {
            if !output.contains("received b'ack' from ('10.0.0.2', 10000)") {
                output = common::run_sender(
                    lan.host("a"),
                    &["--message", "after the flood", "--expect", "1"],
                )
                .1;
            }
        },
    );
    assert!(
        output.contains("received b'ack' from ('10.0.0.2', 10000)"),
        "no ack after the flood: {output}"
    );
    let after = receiver.memory();
    assert!(receiver.running());

    let printed = receiver.printed();
    eprintln!(
        "receiver: {} lines, idle {} KiB, peak {} KiB",
        printed.lines, idle.resident_kib, after.peak_kib
    );
    assert!(printed.lines > 10_000, "the flood reached it: {printed:?}");
    assert_eq!(printed.with_controls, Vec::<String>::new());
    assert!(
        after.peak_kib < RECEIVER_BOUND_KIB,
        "receiver peaked at {} KiB (idle {} KiB), bound {RECEIVER_BOUND_KIB} KiB",
        after.peak_kib,
        idle.resident_kib
    );
}

/// The sender's reply loop on a, flooded on its own port by c while b's receiver answers:
/// it counts b's ack and a valid ack from d sent after the flood, keeps its memory under
/// the bound, prints no control character, and ends on its own.
#[test]
fn sender_reply_loop_stays_bounded_through_a_flood() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c", "d"]));
    let mut receiver = common::Program::ready(lan.host("b"), &mut Command::new(RECEIVER));
    // The reply timeout is the tests' usual one: the sender ends that long after the last
    // reply, d's ack, which the test sends again until it shows.
    let mut sender = Watched::start(
        lan.host("a"),
        Command::new(SENDER).args(["--timeout", common::TEST_TIMEOUT, "--max-wait", "25"]),
        |line| {
            line.starts_with("summary:") || line.contains("10.0.0.2") || line.contains("10.0.0.4")
        },
    );
    // The receiver's line says where the acks go: the sender's address and port.
    let line = receiver.wait_for_lines("received 19 bytes from ('10.0.0.1', ", 1);
    let port: u16 = line
        .iter()
        .find_map(|l| l.strip_prefix("received 19 bytes from ('10.0.0.1', "))
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|port| port.parse().ok())
        .expect("the sender's port");
    let to = SocketAddr::from((lan.host("a").ipv4(), port));
    // b's ack has reached the sender before the flood starts: sent during it, it could meet
    // a queue full of the flood and be lost (seen once with both cores busy).
    sender.wait_for(|line| line.starts_with("received b'ack' from ('10.0.0.2', "));

    let flood = Flood::new(FLOOD, |_, text| {
        if text.starts_with("flood message") {
            python_echo::ACK.to_vec()
        } else {
            text.as_bytes().to_vec()
        }
    })
    .oversized(OVERSIZED);
    let sent = flood.send_to(lan.host("c"), to).expect("flood");
    assert_eq!(sent.datagrams, FLOOD);
    let during = sender.memory();
    // d's ack, again until it shows: the first may meet a queue full of the flood.
    let d = lan
        .host("d")
        .run(|| std::net::UdpSocket::bind("0.0.0.0:0"))
        .expect("a socket on d");
    sender.wait_for_resending(
        |line| line.starts_with("received b'ack' from ('10.0.0.4', "),
        || {
            d.send_to(python_echo::ACK, to).expect("d's ack");
        },
    );

    let code = sender.finish();
    let summary = sender.wait_for(|line| line.starts_with("summary:"));
    assert_eq!(code, 0, "{}", sender.stderr());
    assert!(
        summary.starts_with("summary: acknowledged by 3 hosts: 10.0.0.2, 10.0.0.3, 10.0.0.4"),
        "{summary}"
    );
    let printed = sender.printed();
    assert_eq!(printed.with_controls, Vec::<String>::new());
    let peak = sender.peak.expect("memory sampled").peak_kib;
    eprintln!(
        "sender: {} lines, during the flood {} KiB resident, peak {peak} KiB",
        printed.lines, during.resident_kib
    );
    assert!(
        peak < SENDER_BOUND_KIB,
        "sender peaked at {peak} KiB (during the flood {} KiB), bound {SENDER_BOUND_KIB} KiB",
        during.resident_kib
    );
}

/// A peer that never stops replying cannot keep the sender running: `--max-wait` ends it,
/// saying so, with what it counted.
#[test]
fn a_peer_that_keeps_replying_cannot_keep_the_sender_running() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    // A chatty peer on b, joined before the sender starts: it answers the sender's
    // datagram, then again every 20 ms, until the test tells it to stop.
    let socket = lan
        .host("b")
        .run(|| {
            let socket = std::net::UdpSocket::bind("0.0.0.0:10000")?;
            socket.join_multicast_v4(&[224, 3, 29, 71].into(), &[0, 0, 0, 0].into())?;
            socket.set_read_timeout(Some(WATCH_DEADLINE))?;
            Ok::<_, std::io::Error>(socket)
        })
        .expect("the chatty peer joins");
    let stop = Arc::new(AtomicBool::new(false));
    let chatty = std::thread::spawn({
        let stop = Arc::clone(&stop);
        move || {
            let mut buffer = [0u8; 64];
            let (_, from) = socket
                .recv_from(&mut buffer)
                .expect("the sender's datagram");
            while !stop.load(Ordering::Relaxed) {
                let _ = socket.send_to(b"still here", from);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    });
    let mut sender = Watched::start(
        lan.host("a"),
        Command::new(SENDER).args(["--timeout", "1", "--max-wait", "0.5"]),
        |line| line.starts_with("stopped waiting") || line.starts_with("summary:"),
    );
    let code = sender.finish();
    stop.store(true, Ordering::Relaxed);
    chatty.join().unwrap();
    assert_eq!(code, 0, "{}", sender.stderr());
    let stopped = sender.wait_for(|line| line.starts_with("stopped waiting"));
    assert!(
        stopped.starts_with("stopped waiting: --max-wait 500ms is over ("),
        "{stopped}"
    );
    let summary = sender.wait_for(|line| line.starts_with("summary:"));
    assert!(
        summary.starts_with("summary: acknowledged by 0 hosts; ") && summary.ends_with("ignored"),
        "{summary}"
    );
}
