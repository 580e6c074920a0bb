//! The harness's figures, measured: `cargo bench -p harness`.
//!
//! Prints the median (and the 10th/90th percentiles) of:
//! - building a `Sandbox` and a 2-host `Lan`, each dropped before the next is built (as in a
//!   test suite: the kernel's asynchronous clean-up of the last one competes with building
//!   the next) and kept (building alone),
//! - building a 32-host `Lan`,
//! - delivery: from `send_to` returning in one host to `expect(1)` returning in the test
//!   thread, through a listener that is already joined (sandbox over `lo`, LAN over the bridge).
//!
//! These are wall-clock figures on a shared machine: run it a few times and compare medians.
//! Targets on a 2-core machine: Sandbox ≤ 1 ms, 2-host LAN ≤ 20 ms, 32-host LAN ≤ 300 ms,
//! delivery ≤ 100 µs.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use harness::{Group, Host, Lan, Sandbox};

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<34} median {:>10.3?}   p10 {:>10.3?}   p90 {:>10.3?}   ({} runs)",
        at(0.5),
        at(0.1),
        at(0.9),
        samples.len()
    );
}

fn time<T>(runs: usize, mut build: impl FnMut() -> T) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let built = build();
            let took = start.elapsed();
            drop(built);
            took
        })
        .collect()
}

/// Like [`time`], but keeps what it built until all runs are done: the figure then leaves out
/// the kernel's asynchronous clean-up of the previous namespaces, which competes for the same
/// locks when one is created right after another is dropped.
fn time_kept<T>(runs: usize, mut build: impl FnMut() -> T) -> Vec<Duration> {
    let mut kept = Vec::with_capacity(runs);
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            kept.push(build());
            start.elapsed()
        })
        .collect();
    drop(kept);
    samples
}

/// From `send_to` returning in `from` to `expect(1)` returning for a listener in `to`.
fn delivery(from: &Host, to: &Host, group: Group, runs: usize) -> Vec<Duration> {
    let rx = to.listen(group).expect("listen");
    let socket = from.run(|| UdpSocket::bind("0.0.0.0:0").expect("socket"));
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            socket.send_to(b"ping", group.socket_addr()).expect("send");
            rx.expect(1)
                .within(Duration::from_secs(5))
                .expect("delivered");
            start.elapsed()
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there are no test cases here
    }
    if let Err(why) = Sandbox::new() {
        eprintln!("cannot measure: {why}");
        std::process::exit(1);
    }
    report(
        "Sandbox::new, each dropped",
        time(300, || Sandbox::new().expect("sandbox")),
    );
    report(
        "Sandbox::new, 100 kept",
        time_kept(100, || Sandbox::new().expect("sandbox")),
    );
    report(
        "Lan::new, 2 hosts, each dropped",
        time(60, || Lan::new(["a", "b"]).expect("lan")),
    );
    report(
        "Lan::new, 2 hosts, 30 kept",
        time_kept(30, || Lan::new(["a", "b"]).expect("lan")),
    );
    let names: Vec<String> = (1..=32).map(|k| format!("h{k}")).collect();
    report(
        "Lan::new, 32 hosts",
        time(12, || Lan::new(&names).expect("lan")),
    );

    let group = Group::parse("239.1.2.3:5000").expect("group");
    let sandbox = Sandbox::new().expect("sandbox");
    report(
        "delivery, sandbox over lo",
        delivery(&sandbox, &sandbox, group, 2000),
    );
    let lan = Lan::new(["a", "b"]).expect("lan");
    let (a, b) = (lan.host("a"), lan.host("b"));
    report(
        "delivery, LAN host a to host b",
        delivery(a, b, group, 2000),
    );
}
