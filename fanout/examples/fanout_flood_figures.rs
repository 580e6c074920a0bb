//! Figures for the closing note of issue 11: the resident memory of a `fanout receive`
//! process, idle and after a flood of 100,000 datagrams (`harness::flood`), medians of
//! several runs. Printed, not asserted (`tests/flood.rs` asserts a generous bound).
//!
//! Each run builds a throwaway sandbox with the harness and runs the receiver role as a
//! child process in it: this example started again as `fanout_flood_figures role`, calling
//! [`fanout::roles::receive`] as `fanout receive --group 239.255.16.17:6868` does. The
//! flood comes from the same sandbox, since the receiver joins on `lo`. Memory is read from
//! `/proc/PID/status` from outside; the idle figure, measured in the same run, is the floor.
//!
//! ```text
//! cargo run -p fanout --release --example fanout_flood_figures [RUNS]
//! ```

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fanout::roles::{self, RoleOptions};
use fanout::sockets::Endpoint;
use fanout::wire;
use harness::flood::{self, Flood, Memory};
use harness::{Group, Sandbox};

const FLOOD: u64 = 100_000;
const GROUP: &str = "239.255.16.17:6868";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "role") {
        let group: SocketAddrV4 = GROUP.parse().unwrap();
        let options = RoleOptions {
            endpoint: Endpoint::Group(group),
            receive_buffer: None,
            batch: 32,
            size: 64,
            cpu: None,
            hold: false,
            spin: false,
            drain_every_us: None,
        };
        roles::receive(&options).unwrap();
        return;
    }
    let runs: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(5);
    println!("flood figures: {FLOOD} datagrams in its sandbox, medians of {runs} runs (KiB)");
    println!("{}", flood::memory_figures_header());
    let figures: Vec<(Memory, Memory)> = (0..runs).map(|_| one_run()).collect();
    println!("{}", flood::memory_figures_row("fanout receive", &figures));
}

/// One run: idle, then after the flood and a valid message with an end marker, which it
/// reports on.
fn one_run() -> (Memory, Memory) {
    let sandbox = Sandbox::new().expect("a sandbox (run as root or with user namespaces)");
    let mut child = sandbox
        .spawn(
            Command::new(std::env::current_exe().unwrap())
                .arg("role")
                .stdin(Stdio::null())
                .stdout(Stdio::piped()),
        )
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    out.read_line(&mut ready).unwrap();
    assert!(ready.starts_with("ready"), "{ready}");
    let idle = flood::memory(child.id()).unwrap();
    Flood::new(FLOOD, |n, text| {
        let mut message = vec![0u8; wire::HEADER];
        wire::encode(&mut message, n + 1);
        message.extend_from_slice(text.as_bytes());
        message
    })
    .send(&sandbox, Group::parse(GROUP).unwrap())
    .unwrap();
    let after = flood::memory(child.id()).unwrap();
    // Message 0 and an end marker, again until it reports (a queue may still be full).
    let socket = sandbox.run(|| UdpSocket::bind("127.0.0.1:0")).unwrap();
    let to: SocketAddr = GROUP.parse().unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let mut index = 0;
    while child.try_wait().unwrap().is_none() {
        let mut message = [0u8; wire::HEADER];
        wire::encode(&mut message, 0);
        socket.send_to(&message, to).unwrap();
        let mut marker = [0u8; wire::END_LENGTH];
        wire::encode_end(&mut marker, 1, index);
        socket.send_to(&marker, to).unwrap();
        index += 1;
        assert!(Instant::now() < end, "the receiver never reported");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut report = String::new();
    out.read_to_string(&mut report).unwrap();
    assert!(report.contains("\"unique\":1"), "{report}");
    (idle, after)
}
