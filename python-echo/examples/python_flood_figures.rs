//! Figures for the closing note of issue 11: the resident memory of the receiver and of the
//! sender's reply loop, idle and after a flood of 100,000 datagrams from another host
//! (`harness::flood`), medians of several runs. Printed, not asserted (the flood tests in
//! `tests/suite/flood.rs` assert generous bounds).
//!
//! Each run builds a throwaway LAN with the harness and runs the program under test as a
//! child process inside host b (receiver) or a (sender): this example started again as
//! `python_flood_figures role receiver|sender`, calling the library exactly as the binaries do,
//! printing to a pipe the example drains. Its memory is read from `/proc/PID/status` from
//! outside. The idle figure, measured in the same run, is the floor. What every figures
//! example shares (the runs, the role, the table) is `harness::flood`'s.
//!
//! ```text
//! cargo run -p python-echo --release --example python_flood_figures [RUNS]
//! ```

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use harness::Lan;
use harness::flood::{self, Flood, Memory, WATCH_DEADLINE, Watched};
use python_echo::{ACK, DEFAULT_GROUP, ReceiverConfig, SenderConfig};

const FLOOD: u64 = 100_000;

fn main() {
    if let Some(role) = flood::role() {
        return run_role(&role[0]);
    }
    flood::print_memory_figures(
        FLOOD,
        "from another host",
        &[
            ("python-echo receiver", &receiver_run),
            ("python-echo sender", &sender_run),
        ],
    );
}

/// The program under test, in this child process: what `receiver` or `sender` runs.
fn run_role(which: &str) {
    let mut out = std::io::stdout();
    let result = match which {
        "receiver" => python_echo::receive(ReceiverConfig::default(), &mut out).map(drop),
        _ => {
            let config = SenderConfig {
                timeout: Duration::from_secs(2),
                ..SenderConfig::default()
            };
            python_echo::send(&config, &mut out).map(drop)
        }
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(2);
    }
}

/// One receiver run: idle, then after the flood and a message sent afterwards was shown.
fn receiver_run() -> (Memory, Memory) {
    let lan = Lan::new(["a", "b", "c"]).expect("a LAN (run as root or with user namespaces)");
    let mut receiver = Watched::start_role(lan.host("b"), &["receiver"], |line| {
        line == "waiting to receive message" || line == "b'after the flood'"
    });
    receiver.wait_for(|line| line == "waiting to receive message");
    let idle = receiver.memory();
    Flood::new(FLOOD, |_, text| text.as_bytes().to_vec())
        .send(lan.host("c"), DEFAULT_GROUP)
        .unwrap();
    let socket = lan.host("a").run(|| UdpSocket::bind("0.0.0.0:0")).unwrap();
    receiver.wait_for_resending(
        |line| line == "b'after the flood'",
        || {
            socket
                .send_to(b"after the flood", DEFAULT_GROUP.socket_addr())
                .unwrap();
        },
    );
    (idle, receiver.memory())
}

/// One sender run: idle while it waits for replies, then after 100,000 datagrams to its
/// port and a valid ack sent afterwards was shown.
fn sender_run() -> (Memory, Memory) {
    let lan = Lan::new(["a", "b", "c"]).expect("a LAN (run as root or with user namespaces)");
    let peer = lan
        .host("b")
        .run(|| {
            let socket = UdpSocket::bind(("0.0.0.0", DEFAULT_GROUP.port()))?;
            socket.join_multicast_v4(&[224, 3, 29, 71].into(), &[0, 0, 0, 0].into())?;
            socket.set_read_timeout(Some(WATCH_DEADLINE))?;
            Ok::<_, std::io::Error>(socket)
        })
        .unwrap();
    let mut sender = Watched::start_role(lan.host("a"), &["sender"], |line| {
        line == "waiting to receive" || line.starts_with("received b'ack' from ('10.0.0.2'")
    });
    let mut buffer = [0u8; 64];
    let (_, from): (usize, SocketAddr) = peer.recv_from(&mut buffer).unwrap();
    sender.wait_for(|line| line == "waiting to receive");
    let idle = sender.memory();
    Flood::new(FLOOD, |_, text| {
        if text.starts_with("flood message") {
            ACK.to_vec()
        } else {
            text.as_bytes().to_vec()
        }
    })
    .send_to(lan.host("c"), from)
    .unwrap();
    sender.wait_for_resending(
        |line| line.starts_with("received b'ack' from ('10.0.0.2'"),
        || {
            peer.send_to(ACK, from).unwrap();
        },
    );
    (idle, sender.memory())
}
