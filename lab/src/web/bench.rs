//! `cargo lab web --bench`: what the web view costs the lab's own traffic, measured in one
//! run against its floor, the same flood without the view.
//!
//! A lab `a b c` of its own; host b joins a group on a socket with a roomy buffer and counts
//! what arrives; host a sends a flood ([`harness::flood::Flood`], the hostile mix, with
//! its oversized datagrams kept within one frame). Rounds alternate: without the view, then
//! with an [`Observer`], its [`Server`] and one page reading `/events` (a client that counts
//! the updates as a browser would receive them). Each round prints the delivery rate
//! (datagrams b received, over the time from the first send to the last arrival), the loss
//! and, with the view, its updates a second; then the medians, their ratio, the lab's
//! resident memory before the view and after the floods with it, and the machine's load.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use harness::Group;
use harness::flood::{Flood, memory};

use super::{Observer, Options, Server};
use crate::{Lab, Network};

/// How long b's count must stand still before a round is over (after the sender finished).
const QUIET: Duration = Duration::from_millis(300);
/// Bounds a round that never settles.
const DEADLINE: Duration = Duration::from_secs(60);

struct Round {
    with_view: bool,
    sent: u64,
    received: u64,
    seconds: f64,
    updates: u64,
}

impl Round {
    fn rate(&self) -> f64 {
        self.received as f64 / self.seconds.max(1e-9)
    }
}

/// Runs the bench (see the module docs) and returns its report.
pub fn run(datagrams: u64, rounds: usize) -> Result<String, String> {
    let lab = Lab::new(Network::Lan(vec!["a".into(), "b".into(), "c".into()]))
        .map_err(|e| format!("cannot start the lab: {e}"))?;
    let group = Group::ipv4(Ipv4Addr::new(239, 7, 7, 7), 7000);
    let host = |name| lab.host(name).map_err(|e| e.to_string());
    let receiver = host("b")?
        .run(|| -> std::io::Result<std::net::UdpSocket> {
            let socket = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )?;
            socket.set_reuse_address(true)?;
            if socket.set_recv_buffer_size(8 << 20).is_ok() {
                // Root in the namespace may pass `net.core.rmem_max` (SO_RCVBUFFORCE).
                use nix::sys::socket::{setsockopt, sockopt};
                let _ = setsockopt(&socket, sockopt::RcvBufForce, &(8usize << 20));
            }
            socket.bind(&SocketAddr::from(([0, 0, 0, 0], group.port())).into())?;
            if let std::net::IpAddr::V4(g) = group.ip() {
                socket.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)?;
            }
            socket.set_read_timeout(Some(Duration::from_millis(50)))?;
            Ok(socket.into())
        })
        .map_err(|e| format!("joining {group} in host b: {e}"))?;
    let received = Arc::new(AtomicU64::new(0));
    let last_arrival = Arc::new(std::sync::Mutex::new(Instant::now()));
    {
        let (received, last_arrival) = (received.clone(), last_arrival.clone());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 2048];
            loop {
                match receiver.recv(&mut buffer) {
                    Ok(_) => {
                        received.fetch_add(1, Ordering::Relaxed);
                        *last_arrival.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => return,
                }
            }
        });
    }
    let pid = std::process::id();
    let before = memory(pid).map_err(|e| format!("reading this process's memory: {e}"))?;
    let joins = join_latency(&lab, 5)?;
    let flood = Flood::new(datagrams, |n, text| format!("{n} {text}").into_bytes()).oversized(1200);
    let mut after = before;
    let mut results = Vec::new();
    let mut missed = 0;
    for round in 0..rounds * 2 {
        let with_view = round % 2 == 1;
        let view = if with_view {
            let observer =
                Arc::new(Observer::start(lab.entry()).map_err(|e| format!("observing: {e}"))?);
            let server = Server::start(observer.clone(), Options::default())
                .map_err(|e| format!("starting the web view: {e}"))?;
            let updates = page(server.address())?;
            Some((observer, server, updates))
        } else {
            None
        };
        let counted_before = view
            .as_ref()
            .map_or(0, |(_, _, u)| u.load(Ordering::Relaxed));
        received.store(0, Ordering::Relaxed);
        let start = Instant::now();
        let sent = flood
            .send(host("a")?, group)
            .map_err(|e| format!("flooding from a: {e}"))?;
        // Over once b's count stood still for QUIET.
        let mut seen = received.load(Ordering::Relaxed);
        let mut still_since = Instant::now();
        while still_since.elapsed() < QUIET && start.elapsed() < DEADLINE {
            std::thread::sleep(Duration::from_millis(20));
            let now = received.load(Ordering::Relaxed);
            if now != seen {
                seen = now;
                still_since = Instant::now();
            }
        }
        let end = *last_arrival.lock().unwrap_or_else(|p| p.into_inner());
        let seconds = end.saturating_duration_since(start).as_secs_f64();
        let mut updates = 0;
        if let Some((observer, server, counted)) = view {
            let elapsed = start.elapsed().as_secs_f64();
            updates = ((counted.load(Ordering::Relaxed) - counted_before) as f64 / elapsed).round()
                as u64;
            missed += observer
                .snapshot()
                .hosts
                .iter()
                .map(|h| h.missed)
                .sum::<u64>();
            let now = memory(pid).map_err(|e| format!("reading this process's memory: {e}"))?;
            if now.resident_kib > after.resident_kib {
                after = now;
            }
            let _ = server.updates();
            drop(server);
            drop(observer);
        }
        results.push(Round {
            with_view,
            sent: sent.datagrams,
            received: seen,
            seconds,
            updates,
        });
    }
    let mut out = report(datagrams, rounds, &results, before, after, missed);
    let mut millis: Vec<f64> = joins.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    millis.sort_by(f64::total_cmp);
    let shown: Vec<String> = millis.iter().map(|m| format!("{m:.0}")).collect();
    out.push_str(&format!(
        "join to page: median {:.0} ms over {} joins in b ({} ms), from the join to the first \
         event of /events that lists it (the observer reads /proc every {} ms, the page \
         updates every {} ms)\n",
        median(millis.clone()),
        millis.len(),
        shown.join(", "),
        crate::observe::PROC_PERIOD.as_millis(),
        super::UPDATE_PERIOD.as_millis(),
    ));
    Ok(out)
}

/// `runs` times: a group joined in b, and the time until an event of `/events` lists it;
/// then it is left, and the next run waits until an event no longer lists it.
fn join_latency(lab: &Lab, runs: usize) -> Result<Vec<Duration>, String> {
    let observer = Arc::new(Observer::start(lab.entry()).map_err(|e| format!("observing: {e}"))?);
    let server = Server::start(observer, Options::default())
        .map_err(|e| format!("starting the web view: {e}"))?;
    let mut stream = TcpStream::connect(server.address())
        .map_err(|e| format!("opening the page's stream: {e}"))?;
    write!(
        stream,
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    .map_err(|e| format!("asking for /events: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut lines = BufReader::new(stream);
    let b = lab.host("b").map_err(|e| e.to_string())?;
    let group = Ipv4Addr::new(239, 7, 7, 8);
    let listed = |line: &str| {
        let data = line.strip_prefix("data: ")?;
        let state: serde_json::Value = serde_json::from_str(data).ok()?;
        Some(
            state["hosts"][1]["memberships"]
                .as_array()
                .is_some_and(|m| {
                    m.iter()
                        .any(|m| m["group"] == group.to_string() && m["interface"] == "eth0")
                }),
        )
    };
    let mut wait_until = |wanted: bool| -> Result<(), String> {
        let mut line = String::new();
        loop {
            line.clear();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => return Err("the event stream ended".into()),
                Ok(_) => {}
            }
            if listed(line.trim_end()) == Some(wanted) {
                return Ok(());
            }
        }
    };
    let mut times = Vec::new();
    wait_until(false)?;
    for _ in 0..runs {
        let socket = b
            .run(|| -> std::io::Result<std::net::UdpSocket> {
                let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
                socket.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)?;
                Ok(socket)
            })
            .map_err(|e| format!("joining {group} in b: {e}"))?;
        let joined = Instant::now();
        wait_until(true)?;
        times.push(joined.elapsed());
        drop(socket);
        wait_until(false)?;
    }
    Ok(times)
}

/// Opens `/events` like a page does and counts the updates on a thread; returns the count.
fn page(address: SocketAddr) -> Result<Arc<AtomicU64>, String> {
    let mut stream =
        TcpStream::connect(address).map_err(|e| format!("opening the page's stream: {e}"))?;
    write!(
        stream,
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    .map_err(|e| format!("asking for /events: {e}"))?;
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    let (first, first_seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stream);
        let mut line = String::new();
        while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.starts_with("event: state") && counted.fetch_add(1, Ordering::Relaxed) == 0 {
                let _ = first.send(());
            }
            line.clear();
        }
    });
    // The state as the page opens is the first event; the round counts those after it.
    first_seen
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the page's stream sent no first state".to_owned())?;
    Ok(count)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn report(
    datagrams: u64,
    rounds: usize,
    results: &[Round],
    before: harness::flood::Memory,
    after: harness::flood::Memory,
    missed: u64,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(
        out,
        "web view bench: {datagrams} datagrams from a to b per flood (the hostile mix), \
         {rounds} rounds each, alternating; load average {load}"
    );
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>14} {:>10}",
        "round", "sent", "received", "delivered/s", "updates/s"
    );
    for (n, round) in results.iter().enumerate() {
        let what = if round.with_view {
            "with the view + a page"
        } else {
            "without the view"
        };
        let updates = if round.with_view {
            round.updates.to_string()
        } else {
            "-".into()
        };
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>10} {:>14.0} {:>10}",
            format!("{} {what}", n / 2 + 1),
            round.sent,
            round.received,
            round.rate(),
            updates
        );
    }
    let rates = |with: bool| {
        median(
            results
                .iter()
                .filter(|r| r.with_view == with)
                .map(Round::rate)
                .collect(),
        )
    };
    let (without, with) = (rates(false), rates(true));
    let updates = median(
        results
            .iter()
            .filter(|r| r.with_view)
            .map(|r| r.updates as f64)
            .collect(),
    );
    let _ = writeln!(
        out,
        "median delivery rate: without the view {without:.0}/s, with it {with:.0}/s \
         (ratio {:.2}); page updates {updates:.0}/s (at most {}/s by design)",
        with / without.max(1e-9),
        1000 / super::UPDATE_PERIOD.as_millis()
    );
    let _ = writeln!(
        out,
        "lab RSS: {} KiB before the view, {} KiB after the floods with it (peak {} KiB); \
         frames the observer let the kernel drop (sampled, not lost to the lab): {missed}",
        before.resident_kib, after.resident_kib, after.peak_kib
    );
    out
}
