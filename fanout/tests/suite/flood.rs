//! A `fanout receive` process under a flood: 100,000 datagrams mixing valid, malformed,
//! oversized, escape-laden and truncated ones (`harness::flood`). It must keep running,
//! still count a valid message sent afterwards and report on the end marker, keep its
//! resident memory under a stated bound, and never print a peer's control characters.
//! Nothing here is timed: deadlines only bound a failure.
//!
//! The flood comes from the receiver's own sandbox, not from another host: the receiver
//! joins its group on `lo` (the tool measures loopback), so datagrams from another host,
//! arriving on another interface, are never delivered to it.

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fanout::roles::ReceiverReport;
use fanout::wire;
use harness::flood::{self, Flood};
use harness::{Group, Sandbox};

/// How many datagrams the flood sends.
const FLOOD: u64 = 100_000;

/// The receiver's resident memory must stay under this (about 6.1 MiB idle here, the same
/// after the flood). Its sequence bitmap is bounded (at most 8 MiB, for 2^26 numbers); this
/// flood's numbers need 12 KiB of it.
const BOUND_KIB: u64 = 16 * 1024;

/// The receiver survives the flood, its memory under the bound, then counts exactly the
/// one valid message sent afterwards and reports on the end marker, printing no control
/// character.
#[test]
fn receiver_stays_bounded_and_counts_after_a_flood() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let group = "239.255.16.17:6868";
    let mut receiver = sandbox
        .spawn(
            Command::new(env!("CARGO_BIN_EXE_fanout"))
                .args(["receive", "--group", group])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .expect("fanout receive starts");
    let mut out = BufReader::new(receiver.stdout.take().unwrap());
    let mut ready = String::new();
    out.read_line(&mut ready).unwrap();
    assert_eq!(ready, "ready 6868\n");
    let idle = flood::memory(receiver.id()).unwrap();

    // Valid messages are the tool's own: sequence number n + 1 (so 0 stays free for the
    // message sent afterwards), the text as padding.
    let sent = Flood::new(FLOOD, |n, text| {
        let mut message = vec![0u8; wire::HEADER];
        wire::encode(&mut message, n + 1);
        message.extend_from_slice(text.as_bytes());
        message
    })
    .send(&sandbox, Group::parse(group).unwrap())
    .expect("flood");
    assert_eq!(sent.datagrams, FLOOD);
    assert!(
        receiver.try_wait().unwrap().is_none(),
        "the receiver died in the flood"
    );
    let flooded = flood::memory(receiver.id()).unwrap();

    // After the flood: message 0 and an end marker for a run that used one sequence
    // number, both again until it reports (the first may meet a queue still full of the
    // flood; a repeated message 0 is a duplicate, not a second number).
    let socket = sandbox.run(|| UdpSocket::bind("127.0.0.1:0")).unwrap();
    let mut message = [0u8; wire::HEADER];
    wire::encode(&mut message, 0);
    let mut marker = [0u8; wire::END_LENGTH];
    let until = Instant::now() + Duration::from_secs(30);
    let mut index = 0;
    let status = loop {
        socket.send_to(&message, group).unwrap();
        wire::encode_end(&mut marker, 1, index);
        socket.send_to(&marker, group).unwrap();
        index += 1;
        if let Some(status) = receiver.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "the receiver never reported");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    receiver
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(flood::control_characters(&rest), []);
    let report: ReceiverReport = serde_json::from_str(rest.trim()).expect("a JSON report");
    assert_eq!(
        (report.tally.sent, report.tally.unique, report.tally.lost),
        (1, 1, 0),
        "message 0 counted: {report:?}"
    );
    assert!(
        report.tally.arrivals > 1_000,
        "the flood reached it: {report:?}"
    );
    eprintln!(
        "fanout receive: idle {} KiB, after the flood {} KiB (peak {} KiB)",
        idle.resident_kib, flooded.resident_kib, flooded.peak_kib
    );
    assert!(
        flooded.peak_kib < BOUND_KIB,
        "receiver peaked at {} KiB (idle {} KiB), bound {BOUND_KIB} KiB",
        flooded.peak_kib,
        idle.resident_kib
    );
}
