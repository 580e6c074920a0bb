//! Figures for the closing note of issue 11: the resident memory of `diary respond`, idle
//! and after a flood of 100,000 datagrams from another host (`harness::flood`), medians of
//! several runs. Printed, not asserted (`tests/suite/flood.rs` asserts a generous bound).
//!
//! Each run builds a throwaway LAN with the harness and runs the responder as a child
//! process in host b: this example started again as `diary_flood_figures role`, doing what
//! `diary respond` does (start a [`Responder`], print a line per datagram to a pipe the
//! example drains). Its memory is read from `/proc/PID/status` from outside; the idle
//! figure, measured in the same run, is the floor. What every figures example shares (the
//! runs, the role, the table) is `harness::flood`'s.
//!
//! ```text
//! cargo run -p rust-diary --release --example diary_flood_figures [RUNS]
//! ```

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::io::Write;
use std::time::{Duration, Instant};

use harness::Lan;
use harness::flood::{self, Flood, Memory, WATCH_DEADLINE, Watched};
use rust_diary::report::Answered;
use rust_diary::{GROUP_V4, ListenOptions, Responder, ask};

const FLOOD: u64 = 100_000;

fn main() {
    if flood::role().is_some() {
        return respond();
    }
    flood::print_memory_figures(FLOOD, "from another host", &[("diary respond", &one_run)]);
}

/// What `diary respond --group 224.0.0.123:7645` does, in this child process.
fn respond() {
    let responder = Responder::start("ipv4", &GROUP_V4, &ListenOptions::default()).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening").unwrap();
    out.flush().unwrap();
    for heard in responder.answers() {
        let line = Answered {
            heard: &heard,
            response: "ipv4",
        };
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
}

/// One run: idle, then after the flood and a client's message was answered and shown.
fn one_run() -> (Memory, Memory) {
    let lan = Lan::new(["a", "b", "c"]).expect("a LAN (run as root or with user namespaces)");
    let mut responder = Watched::start_role(lan.host("b"), &[], |line| {
        line == "listening" || line.starts_with("heard \"after the flood\"")
    });
    responder.wait_for(|line| line == "listening");
    let idle = responder.memory();
    Flood::new(FLOOD, |_, text| text.as_bytes().to_vec())
        .send(lan.host("c"), GROUP_V4)
        .unwrap();
    // Ask until answered: the first may meet a queue still full of the flood.
    let end = Instant::now() + WATCH_DEADLINE;
    while lan
        .host("a")
        .run(|| {
            ask(
                &GROUP_V4,
                None,
                b"after the flood",
                Duration::from_millis(500),
            )
        })
        .is_err()
    {
        assert!(Instant::now() < end, "no answer after the flood");
    }
    responder.wait_for(|line| line.starts_with("heard \"after the flood\""));
    (idle, responder.memory())
}
