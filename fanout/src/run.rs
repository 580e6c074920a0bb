//! One measured run: spawn the receivers in the sandbox, send, collect their reports.
//!
//! The sender runs in this process, on a thread inside the sandbox ([`harness::Host::run`]),
//! so its CPU time can be read precisely with `CLOCK_THREAD_CPUTIME_ID`. Receivers are
//! separate processes (`fanout receive`), started with [`harness::Host::spawn`], which kills
//! them if this process dies: Ctrl-C leaves nothing behind.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use socket2::Socket;

use crate::batch::Batch;
use crate::children::Children;
use crate::clock;
use crate::error::{Doing, Error, Result};
use crate::mode::Mode;
use crate::placement::{Placement, pin_to_cpu};
use crate::progress::progress_bar;
use crate::roles::ReceiverReport;
use crate::sockets::{MAX_RECEIVE_BUFFER, sender_socket};
use crate::tracker::MAX_MESSAGES;
use crate::wire;

/// Everything a fan-out run needs to know.
#[derive(Clone, Debug, Serialize)]
pub struct FanoutConfig {
    /// Multicast or N×unicast.
    pub mode: Mode,
    /// How many receiver processes.
    pub receivers: usize,
    /// How many sequence numbers the sender goes through.
    pub messages: u64,
    /// Bytes per message (at least 16).
    pub size: usize,
    /// Messages per `sendmmsg(2)` / `recvmmsg(2)` call; 1 means plain one-per-call.
    pub batch: usize,
    /// Receive buffer each receiver asks for, in bytes (`None`: kernel default).
    pub receive_buffer: Option<usize>,
    /// CPU placement.
    pub placement: Placement,
    /// Messages per second to pace the sender at (`None`: as fast as it can).
    pub rate: Option<u64>,
    /// Skip every k-th sequence number on purpose (a test of the loss accounting).
    pub skip_every: Option<u64>,
    /// Receivers read nothing until the sender is done (their queues overflow on purpose).
    pub hold_receivers: bool,
    /// The group for multicast mode.
    pub group: SocketAddrV4,
    /// `IP_MULTICAST_LOOP` on the sender (see [`crate::sockets::sender_socket`]).
    pub multicast_loop: bool,
    /// Receivers drain their queue every this many microseconds instead of sleeping in
    /// `recvmmsg` until each datagram arrives (`None`: block). See [`crate::roles::receive`].
    pub drain_every_us: Option<u64>,
    /// The program that plays the receiver role (`fanout receive`).
    #[serde(skip)]
    pub program: PathBuf,
    /// Draw a progress bar on stderr.
    #[serde(skip)]
    pub progress: bool,
}

/// The group the fan-out tool uses unless told otherwise.
pub const DEFAULT_GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 16, 17), 6868);

impl FanoutConfig {
    /// Defaults: multicast to `receivers`, 64-byte messages, batches of 32, 8 MiB buffers.
    pub fn new(program: PathBuf, mode: Mode, receivers: usize) -> FanoutConfig {
        FanoutConfig {
            mode,
            receivers,
            messages: 200_000,
            size: 64,
            batch: 32,
            receive_buffer: Some(8 << 20),
            placement: Placement::None,
            rate: None,
            skip_every: None,
            hold_receivers: false,
            group: DEFAULT_GROUP,
            multicast_loop: true,
            drain_every_us: None,
            program,
            progress: false,
        }
    }
}

impl FanoutConfig {
    /// Refuses settings the run cannot honour, each with one line naming the value.
    pub fn check(&self) -> Result<()> {
        if self.size < wire::HEADER {
            return Err(Error::Setting(format!(
                "messages must be at least {} bytes, got {}",
                wire::HEADER,
                self.size
            )));
        }
        if self.receivers == 0 {
            return Err(Error::Setting(
                "at least one receiver is needed, got 0".into(),
            ));
        }
        if !(1..=MAX_MESSAGES).contains(&self.messages) {
            return Err(Error::Setting(format!(
                "the number of messages must be 1 to {MAX_MESSAGES} (what a receiver can count), got {}",
                self.messages
            )));
        }
        if self.rate == Some(0) {
            return Err(Error::Setting(
                "the rate must be at least 1 message per second, got 0".into(),
            ));
        }
        if self.receive_buffer.is_some_and(|b| b > MAX_RECEIVE_BUFFER) {
            return Err(Error::Setting(format!(
                "the receive buffer must be at most {MAX_RECEIVE_BUFFER} bytes (1G), got {}",
                self.receive_buffer.unwrap_or(0)
            )));
        }
        Ok(())
    }
}

/// What a run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FanoutReport {
    /// Multicast or N×unicast.
    pub mode: Mode,
    /// How many receivers.
    pub receivers: usize,
    /// Sequence numbers the sender went through (skipped ones included).
    pub sent: u64,
    /// Wall time of the sending loop, in seconds.
    pub seconds: f64,
    /// Messages per second (each message reaches every receiver once).
    pub rate: f64,
    /// Sender CPU time for the whole loop (user + system, kernel delivery included), ns.
    pub sender_cpu_ns: u64,
    /// Sender CPU per message, ns.
    pub cpu_per_message_ns: f64,
    /// Sender CPU per delivered copy (per message per receiver), ns.
    pub cpu_per_delivery_ns: f64,
    /// Messages lost, summed over receivers.
    pub lost: u64,
    /// Messages the kernel dropped for full queues, summed over receivers' `message_drops`
    /// (dropped end markers are not counted).
    pub kernel_drops: u64,
    /// Duplicates, summed.
    pub duplicates: u64,
    /// Reordered arrivals, summed.
    pub reordered: u64,
    /// Each receiver's own report.
    pub per_receiver: Vec<ReceiverReport>,
}

impl FanoutReport {
    /// The receivers' CPU time per datagram they got, ns: what the tool's receivers cost
    /// (their whole processes, from start to report).
    pub fn receiver_cpu_per_copy_ns(&self) -> f64 {
        let cpu: u64 = self.per_receiver.iter().map(|r| r.cpu_ns).sum();
        let copies: u64 = self.per_receiver.iter().map(|r| r.tally.arrivals).sum();
        cpu as f64 / copies.max(1) as f64
    }

    /// Copies that arrived per receiver per second (see [`crate::tracker::delivered_rate`]).
    pub fn delivered_rate(&self) -> f64 {
        crate::tracker::delivered_rate(self.rate, self.sent, self.lost, self.receivers)
    }
}

struct Sent {
    sent: u64,
    seconds: f64,
    cpu_ns: u64,
}

/// Runs one fan-out measurement in `host` (a sandbox whose `lo` carries 224.0.0.0/4).
pub fn run_fanout(host: &harness::Host, config: &FanoutConfig) -> Result<FanoutReport> {
    config.check()?;
    let mut children = Children::spawn(
        host,
        &config.program,
        "receiver",
        config.receivers,
        |index| {
            let mut arguments = vec!["receive".to_string()];
            match config.mode {
                Mode::Multicast => arguments.extend(["--group".into(), config.group.to_string()]),
                Mode::Unicast => arguments.push("--unicast".into()),
            }
            arguments.extend([
                "--batch".into(),
                config.batch.to_string(),
                "--size".into(),
                config.size.to_string(),
            ]);
            if let Some(bytes) = config.receive_buffer {
                arguments.extend(["--receive-buffer".into(), bytes.to_string()]);
            }
            if let Some(cpu) = config.placement.receiver_cpu(index) {
                arguments.extend(["--cpu".into(), cpu.to_string()]);
            }
            if config.hold_receivers {
                arguments.push("--hold".into());
            }
            if let Some(micros) = config.drain_every_us {
                arguments.extend(["--drain-every-us".into(), micros.to_string()]);
            }
            arguments
        },
    )?;
    let destinations: Vec<SocketAddrV4> = match config.mode {
        Mode::Multicast => vec![config.group],
        Mode::Unicast => children
            .ports()
            .into_iter()
            .map(|port| SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
            .collect(),
    };
    let (sockets, sent) = host.run(|| send_all(config, &destinations))?;
    if config.hold_receivers {
        children.release_held()?;
    }

    // End markers go out every millisecond until every receiver has reported: one that is
    // dropped by a full queue is simply followed by the next.
    let done = AtomicBool::new(false);
    let reports = std::thread::scope(|scope| {
        let ender = scope.spawn(|| send_end_markers(&sockets, sent.sent, &done));
        let reports = children.reports();
        done.store(true, Ordering::Relaxed);
        ender.join().expect("end marker thread")?;
        reports
    })?;
    children.wait()?;

    let sum = |f: fn(&ReceiverReport) -> u64| reports.iter().map(f).sum::<u64>();
    let messages = sent.sent.max(1) as f64;
    Ok(FanoutReport {
        mode: config.mode,
        receivers: config.receivers,
        sent: sent.sent,
        seconds: sent.seconds,
        rate: sent.sent as f64 / sent.seconds.max(1e-9),
        sender_cpu_ns: sent.cpu_ns,
        cpu_per_message_ns: sent.cpu_ns as f64 / messages,
        cpu_per_delivery_ns: sent.cpu_ns as f64 / (messages * config.receivers as f64),
        lost: sum(|r| r.tally.lost),
        kernel_drops: sum(|r| r.message_drops),
        duplicates: sum(|r| r.tally.duplicates),
        reordered: sum(|r| r.tally.reordered),
        per_receiver: reports,
    })
}

/// The sending loop, on a thread inside the sandbox. Returns the sockets too: they stay in
/// the sandbox's namespace and carry the end markers later.
fn send_all(config: &FanoutConfig, destinations: &[SocketAddrV4]) -> Result<(Vec<Socket>, Sent)> {
    if let Some(cpu) = config.placement.sender_cpu() {
        pin_to_cpu(cpu).doing(|| format!("cannot pin the sender to CPU {cpu}"))?;
    }
    let sockets = destinations
        .iter()
        .map(|&d| {
            sender_socket(d, config.multicast_loop).doing(|| format!("cannot open a socket to {d}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut batch = Batch::new(config.batch, config.size);
    let progress = progress_bar(config.progress, config.messages);
    let skipped = |seq: u64| config.skip_every.is_some_and(|k| k > 0 && seq % k == k - 1);
    let started = Instant::now();
    let cpu_before = clock::thread_cpu_ns();
    let mut seq = 0;
    while seq < config.messages {
        let mut filled = 0;
        while filled < batch.capacity() && seq < config.messages {
            if !skipped(seq) {
                wire::encode(batch.message_mut(filled), seq);
                filled += 1;
            }
            seq += 1;
        }
        for socket in &sockets {
            batch
                .send(socket, filled)
                .doing(|| "sending a batch".into())?;
        }
        if let Some(rate) = config.rate {
            let due = started + Duration::from_secs_f64(seq as f64 / rate as f64);
            // Sleep rather than spin, so pacing does not count as sending CPU.
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        if seq % 4096 < batch.capacity() as u64 {
            progress.set_position(seq);
        }
    }
    let cpu_ns = clock::thread_cpu_ns() - cpu_before;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    Ok((
        sockets,
        Sent {
            sent: config.messages,
            seconds,
            cpu_ns,
        },
    ))
}

fn send_end_markers(sockets: &[Socket], sent: u64, done: &AtomicBool) -> Result<()> {
    let mut marker = [0u8; wire::END_LENGTH];
    let mut index = 0;
    while !done.load(Ordering::Relaxed) {
        wire::encode_end(&mut marker, sent, index);
        index += 1;
        for socket in sockets {
            match socket.send(&marker) {
                Ok(_) => {}
                Err(error) if error.raw_os_error() == Some(libc::ECONNREFUSED) => {}
                Err(error) => return Err(error).doing(|| "sending an end marker".into()),
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library refuses what the command line refuses, for callers that skip it, each
    /// time naming the value.
    #[test]
    fn settings_a_run_cannot_honour_are_refused_by_value() {
        let config = FanoutConfig::new(PathBuf::from("fanout"), Mode::Multicast, 1);
        config.check().unwrap();
        let refused = |change: fn(&mut FanoutConfig)| {
            let mut config = config.clone();
            change(&mut config);
            config.check().unwrap_err().to_string()
        };
        assert_eq!(
            refused(|c| c.rate = Some(0)),
            "the rate must be at least 1 message per second, got 0"
        );
        assert!(refused(|c| c.messages = MAX_MESSAGES + 1).ends_with("got 67108865"));
        assert!(refused(|c| c.messages = 0).ends_with("got 0"));
        assert!(
            refused(|c| c.receive_buffer = Some(MAX_RECEIVE_BUFFER + 1))
                .ends_with("got 1073741825")
        );
        assert_eq!(
            refused(|c| c.size = 15),
            "messages must be at least 16 bytes, got 15"
        );
        assert_eq!(
            refused(|c| c.receivers = 0),
            "at least one receiver is needed, got 0"
        );
    }
}
