//! `diary respond` under a flood: 100,000 datagrams from another host, mixing valid,
//! malformed, oversized, escape-laden and truncated ones (`harness::flood`). It must keep
//! running, still answer a client afterwards and show its message, keep its resident
//! memory under a stated bound, and never print a peer's control characters. Nothing here
//! is timed: deadlines only bound a failure.

use std::process::Command;

use harness::Lan;
use harness::flood::Flood;
use harness::flood::{WATCH_DEADLINE, Watched};
use rust_diary::GROUP_V4;

/// How many datagrams the flood sends.
const FLOOD: u64 = 100_000;

/// The size of the flood's oversized datagrams: more than the responder reads (1024), but
/// one Ethernet frame, so the flood costs no fragmentation (8 KiB datagrams doubled the
/// flood's time here).
const OVERSIZED: usize = 1400;

/// `diary respond` must stay under this resident memory (about 3.5 MiB idle here, and
/// 3.7 MiB after the flood). When it kept every datagram heard, each line it printed
/// copied the whole log, and after this flood the client's line never showed within 30 s.
const BOUND_KIB: u64 = 8 * 1024;

fn diary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_diary"))
}

/// The responder on b survives 100,000 datagrams from c: still running, memory under the
/// bound, no control character printed, and it answers a client on a afterwards, showing
/// the client's message.
#[test]
fn responder_stays_bounded_and_answers_after_a_flood() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let group = GROUP_V4.to_string();
    let mut responder = Watched::start(
        lan.host("b"),
        diary().args(["respond", "--group", &group]),
        |line| line.starts_with("listening on") || line.contains("Hello from client!"),
    );
    responder.wait_for(|line| line.starts_with("listening on"));
    let idle = responder.memory();

    // Valid datagrams for the diary are any text: it answers everything.
    let sent = Flood::new(FLOOD, |_, text| text.as_bytes().to_vec())
        .oversized(OVERSIZED)
        .send(lan.host("c"), GROUP_V4)
        .expect("flood");
    assert_eq!(sent.datagrams, FLOOD);
    assert!(responder.running(), "the responder died in the flood");

    // The first ask may meet a queue still full of the flood: ask again until answered
    // (each ask waits 500 ms; the deadline only bounds a failure).
    let until = std::time::Instant::now() + WATCH_DEADLINE;
    let reply = loop {
        let asked = lan
            .host("a")
            .output(diary().args(["ask", "--group", &group, "--timeout-ms", "500"]))
            .expect("diary ask runs");
        if asked.status.success() {
            break String::from_utf8_lossy(&asked.stdout).into_owned();
        }
        assert!(
            std::time::Instant::now() < until,
            "no answer after the flood: {}",
            String::from_utf8_lossy(&asked.stderr)
        );
    };
    responder.wait_for(|line| line.starts_with("heard \"Hello from client!\" from 10.0.0.1:"));
    assert!(
        reply.starts_with("reply \"ipv4\" from 10.0.0.2:"),
        "{reply}"
    );
    let after = responder.memory();
    assert!(responder.running());

    let printed = responder.printed();
    eprintln!(
        "diary respond: {} lines, idle {} KiB, peak {} KiB",
        printed.lines, idle.resident_kib, after.peak_kib
    );
    // How many of the 100,000 it read depends on how fast it drains its socket against the
    // sender (8,965 once with both cores running other tests, under nextest): a thousand
    // lines show the flood reached it, whatever the machine's load.
    assert!(printed.lines > 1_000, "the flood reached it: {printed:?}");
    assert_eq!(printed.with_controls, Vec::<String>::new());
    assert!(
        after.peak_kib < BOUND_KIB,
        "diary respond peaked at {} KiB (idle {} KiB), bound {BOUND_KIB} KiB",
        after.peak_kib,
        idle.resident_kib
    );
}
