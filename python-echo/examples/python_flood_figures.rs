//! Figures for the closing note of issue 11: the resident memory of the receiver and of the
//! sender's reply loop, idle and after a flood of 100,000 datagrams from another host
//! (`harness::flood`), medians of several runs. Printed, not asserted (the flood tests in
//! `tests/flood.rs` assert generous bounds).
//!
//! Each run builds a throwaway LAN with the harness and runs the program under test as a
//! child process inside host b (receiver) or a (sender): this example started again as
//! `python_flood_figures role receiver|sender`, calling the library exactly as the binaries do,
//! printing to a pipe the example drains. Its memory is read from `/proc/PID/status` from
//! outside. The idle figure, measured in the same run, is the floor.
//!
//! ```text
//! cargo run -p python-echo --release --example python_flood_figures [RUNS]
//! ```

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::flood::{self, Flood, Memory};
use harness::{Host, Lan};
use python_echo::{ACK, DEFAULT_GROUP, ReceiverConfig, SenderConfig};

const FLOOD: u64 = 100_000;
const DEADLINE: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [role, which] = &args[..]
        && role == "role"
    {
        return run_role(which);
    }
    let runs: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(5);
    println!("flood figures: {FLOOD} datagrams from another host, medians of {runs} runs (KiB)");
    println!("{}", flood::memory_figures_header());
    for (name, measure) in [
        (
            "python-echo receiver",
            receiver_run as fn() -> (Memory, Memory),
        ),
        ("python-echo sender", sender_run),
    ] {
        let figures: Vec<(Memory, Memory)> = (0..runs).map(|_| measure()).collect();
        print_row(name, &figures);
    }
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
    let (mut child, lines) = role(lan.host("b"), "receiver");
    wait_for(&lines, |l| l == "waiting to receive message", || {});
    let idle = flood::memory(child.id()).unwrap();
    Flood::new(FLOOD, |_, text| text.as_bytes().to_vec())
        .send(lan.host("c"), DEFAULT_GROUP)
        .unwrap();
    let socket = lan.host("a").run(|| UdpSocket::bind("0.0.0.0:0")).unwrap();
    wait_for(
        &lines,
        |l| l == "b'after the flood'",
        || {
            socket
                .send_to(b"after the flood", DEFAULT_GROUP.socket_addr())
                .unwrap();
        },
    );
    let after = flood::memory(child.id()).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    (idle, after)
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
            socket.set_read_timeout(Some(DEADLINE))?;
            Ok::<_, std::io::Error>(socket)
        })
        .unwrap();
    let (mut child, lines) = role(lan.host("a"), "sender");
    let mut buffer = [0u8; 64];
    let (_, sender): (usize, SocketAddr) = peer.recv_from(&mut buffer).unwrap();
    wait_for(&lines, |l| l == "waiting to receive", || {});
    let idle = flood::memory(child.id()).unwrap();
    Flood::new(FLOOD, |_, text| {
        if text.starts_with("flood message") {
            ACK.to_vec()
        } else {
            text.as_bytes().to_vec()
        }
    })
    .send_to(lan.host("c"), sender)
    .unwrap();
    wait_for(
        &lines,
        |l| l.starts_with("received b'ack' from ('10.0.0.2'"),
        || {
            peer.send_to(ACK, sender).unwrap();
        },
    );
    let after = flood::memory(child.id()).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    (idle, after)
}

/// Starts this example as `role WHICH` in `host`; its lines come through the channel.
fn role(host: &Host, which: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = host
        .spawn(
            Command::new(std::env::current_exe().unwrap())
                .args(["role", which])
                .stdin(Stdio::null())
                .stdout(Stdio::piped()),
        )
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for a line satisfying `wanted`, calling `resend` at once and every 100 ms until
/// it comes (a datagram sent just after a flood may meet a full queue).
fn wait_for(
    lines: &mpsc::Receiver<String>,
    wanted: impl Fn(&str) -> bool,
    mut resend: impl FnMut(),
) {
    let end = Instant::now() + DEADLINE;
    resend();
    while Instant::now() < end {
        match lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if wanted(&line) => return,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => resend(),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the program ended"),
        }
    }
    panic!("the program did not print the line expected");
}

fn print_row(name: &str, figures: &[(Memory, Memory)]) {
    println!("{}", flood::memory_figures_row(name, figures));
}
