//! Figures for the closing note of issue 11: the resident memory of a `fanout receive`
//! process, idle and after a flood of 100,000 datagrams (`harness::flood`), medians of
//! several runs. Printed, not asserted (`tests/suite/flood.rs` asserts a generous bound).
//!
//! Each run builds a throwaway sandbox with the harness and runs the receiver role as a
//! child process in it: this example started again as `fanout_flood_figures role`, calling
//! [`fanout::roles::receive`] as `fanout receive --group 239.255.16.17:6868` does. The
//! flood comes from the same sandbox, since the receiver joins on `lo`. Memory is read from
//! `/proc/PID/status` from outside; the idle figure, measured in the same run, is the floor.
//! What every figures example shares (the runs, the role, the table) is `harness::flood`'s.
//!
//! ```text
//! cargo run -p fanout --release --example fanout_flood_figures [RUNS]
//! ```

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::{SocketAddr, SocketAddrV4, UdpSocket};

use fanout::roles::{self, RoleOptions};
use fanout::sockets::Endpoint;
use fanout::wire;
use harness::flood::{self, Flood, Memory, Watched};
use harness::{Group, Sandbox};

const FLOOD: u64 = 100_000;
const GROUP: &str = "239.255.16.17:6868";

fn main() {
    if flood::role().is_some() {
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
    flood::print_memory_figures(FLOOD, "in its sandbox", &[("fanout receive", &one_run)]);
}

/// One run: idle, then after the flood and a valid message with an end marker, which it
/// reports on.
fn one_run() -> (Memory, Memory) {
    let sandbox = Sandbox::new().expect("a sandbox (run as root or with user namespaces)");
    let mut receiver = Watched::start_role(&sandbox, &[], |line| {
        line.starts_with("ready") || line.contains("\"unique\"")
    });
    receiver.wait_for(|line| line.starts_with("ready"));
    let idle = receiver.memory();
    Flood::new(FLOOD, |n, text| {
        let mut message = vec![0u8; wire::HEADER];
        wire::encode(&mut message, n + 1);
        message.extend_from_slice(text.as_bytes());
        message
    })
    .send(&sandbox, Group::parse(GROUP).unwrap())
    .unwrap();
    let after = receiver.memory();
    // Message 0 and an end marker, again until it reports (a queue may still be full).
    let socket = sandbox.run(|| UdpSocket::bind("127.0.0.1:0")).unwrap();
    let to: SocketAddr = GROUP.parse().unwrap();
    let mut index = 0;
    let report = receiver.wait_for_resending(
        |line| line.contains("\"unique\""),
        || {
            let mut message = [0u8; wire::HEADER];
            wire::encode(&mut message, 0);
            socket.send_to(&message, to).unwrap();
            let mut marker = [0u8; wire::END_LENGTH];
            wire::encode_end(&mut marker, 1, index);
            socket.send_to(&marker, to).unwrap();
            index += 1;
        },
    );
    assert!(report.contains("\"unique\":1"), "{report}");
    (idle, after)
}
