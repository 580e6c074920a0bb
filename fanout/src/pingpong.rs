//! Round-trip latency: one message out, the echo's copy back, timed, many times over.
//!
//! The client sends to the group (or to the echo's unicast port) from 127.0.0.1 and waits
//! for the echo, which answers by unicast. Each round trip's duration goes into an HDR
//! histogram (nanosecond resolution, 3 significant digits), from which p50/p99/p99.9 are read.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::children::Children;
use crate::error::{Doing, Error, Result};
use crate::mode::Mode;
use crate::placement::{Placement, pin_to_cpu};
use crate::progress::progress_bar;
use crate::run::DEFAULT_GROUP;
use crate::summary::RoundTrip;
use crate::wire;

/// A ping-pong run's settings.
#[derive(Clone, Debug, Serialize)]
pub struct PingPongConfig {
    /// To the group, or to the echo's own port.
    pub mode: Mode,
    /// Round trips to time (after the warm-up).
    pub round_trips: u64,
    /// Round trips done first and not timed.
    pub warm_up: u64,
    /// Bytes per message (at least 16).
    pub size: usize,
    /// Busy-poll instead of sleeping in recv (both ends).
    pub spin: bool,
    /// CPU placement: `same` puts client and echo on CPU 0, `split` on 0 and 1.
    pub placement: Placement,
    /// The group for multicast mode.
    pub group: SocketAddrV4,
    /// How long to wait for one answer before counting the round trip as lost.
    pub patience: Duration,
    /// The program that plays the echo role (`fanout echo`).
    #[serde(skip)]
    pub program: PathBuf,
    /// Draw a progress bar on stderr.
    #[serde(skip)]
    pub progress: bool,
}

impl PingPongConfig {
    /// Defaults: multicast, 20 000 timed round trips after 1 000 untimed, 64 bytes, blocking.
    pub fn new(program: PathBuf, mode: Mode) -> PingPongConfig {
        PingPongConfig {
            mode,
            round_trips: 20_000,
            warm_up: 1_000,
            size: 64,
            spin: false,
            placement: Placement::None,
            group: DEFAULT_GROUP,
            patience: Duration::from_millis(200),
            program,
            progress: false,
        }
    }
}

/// Round-trip times in microseconds, and how many round trips got no answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PingPongReport {
    /// Multicast or unicast out; the answer is always unicast.
    pub mode: Mode,
    /// Where the client and the echo ran.
    pub placement: Placement,
    /// Round trips timed.
    pub round_trips: u64,
    /// Round trips with no answer within the patience.
    pub lost: u64,
    /// Median round trip, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
    /// Largest, µs.
    pub max_us: f64,
}

impl PingPongReport {
    /// The three percentiles, as every round-trip summary keeps them.
    pub fn round_trip(&self) -> RoundTrip {
        RoundTrip {
            p50_us: self.p50_us,
            p99_us: self.p99_us,
            p999_us: self.p999_us,
        }
    }
}

/// Runs a ping-pong measurement in `host`.
pub fn run_pingpong(host: &harness::Host, config: &PingPongConfig) -> Result<PingPongReport> {
    let children = Children::spawn(host, &config.program, "echo", 1, |_| {
        let mut arguments = vec!["echo".to_string()];
        match config.mode {
            Mode::Multicast => arguments.extend(["--group".into(), config.group.to_string()]),
            Mode::Unicast => arguments.push("--unicast".into()),
        }
        arguments.extend(["--size".into(), config.size.max(wire::HEADER).to_string()]);
        if config.spin {
            arguments.push("--spin".into());
        }
        if let Some(cpu) = config.placement.receiver_cpu(0) {
            arguments.extend(["--cpu".into(), cpu.to_string()]);
        }
        arguments
    })?;
    let destination = match config.mode {
        Mode::Multicast => config.group,
        Mode::Unicast => SocketAddrV4::new(Ipv4Addr::LOCALHOST, children.ports()[0]),
    };
    let report = host.run(|| client(config, destination))?;
    children.wait()?;
    Ok(report)
}

/// The client's socket, pinned to its CPU if asked: bound to 127.0.0.1, with
/// `IP_MULTICAST_IF` = 127.0.0.1 (the article's fix: group traffic from the client stays on
/// `lo` whatever the routes say), blocking for at most the patience unless spinning.
fn client_socket(config: &PingPongConfig) -> io::Result<UdpSocket> {
    if let Some(cpu) = config.placement.sender_cpu() {
        pin_to_cpu(cpu)?;
    }
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket2::SockRef::from(&socket).set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?;
    socket.set_nonblocking(config.spin)?;
    socket.set_read_timeout(Some(config.patience))?;
    Ok(socket)
}

fn client(config: &PingPongConfig, destination: SocketAddrV4) -> Result<PingPongReport> {
    let socket = client_socket(config).doing(|| "opening the ping-pong client".into())?;
    let histogram_error = |error: &dyn std::fmt::Display| Error::Histogram(error.to_string());
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| histogram_error(&e))?;
    let mut message = vec![0u8; config.size.max(wire::HEADER)];
    let mut answer = vec![0u8; message.len()];
    let progress = progress_bar(config.progress, config.warm_up + config.round_trips);
    let mut lost = 0;
    for seq in 0..config.warm_up + config.round_trips {
        wire::encode(&mut message, seq);
        let started = Instant::now();
        socket
            .send_to(&message, SocketAddr::V4(destination))
            .doing(|| format!("sending round trip {seq} to {destination}"))?;
        let answered = wait_for_answer(&socket, &mut answer, seq, started + config.patience)
            .doing(|| format!("waiting for the answer to round trip {seq}"))?;
        let took = started.elapsed();
        if seq >= config.warm_up {
            if answered {
                histogram
                    .record(took.as_nanos().max(1) as u64)
                    .map_err(|e| histogram_error(&e))?;
            } else {
                lost += 1;
            }
        }
        if seq % 1024 == 0 {
            progress.set_position(seq);
        }
    }
    progress.finish_and_clear();
    let mut end = [0u8; wire::END_LENGTH];
    wire::encode_end(&mut end, config.round_trips, 0);
    socket
        .send_to(&end, SocketAddr::V4(destination))
        .doing(|| "sending the end marker".into())?;
    let micros = |ns: u64| ns as f64 / 1000.0;
    Ok(PingPongReport {
        mode: config.mode,
        placement: config.placement,
        round_trips: config.round_trips,
        lost,
        p50_us: micros(histogram.value_at_quantile(0.50)),
        p99_us: micros(histogram.value_at_quantile(0.99)),
        p999_us: micros(histogram.value_at_quantile(0.999)),
        max_us: micros(histogram.max()),
    })
}

/// Reads until the answer with sequence number `seq` arrives; false if `deadline` passes.
/// Late answers to earlier round trips are skipped.
fn wait_for_answer(
    socket: &UdpSocket,
    buffer: &mut [u8],
    seq: u64,
    deadline: Instant,
) -> io::Result<bool> {
    loop {
        match socket.recv(buffer) {
            Ok(length) => {
                if wire::decode(&buffer[..length]) == Some(seq) {
                    return Ok(true);
                }
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error),
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}
