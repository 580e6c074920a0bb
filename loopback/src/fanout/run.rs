//! One measured run: spawn the receivers in the sandbox, send, collect their reports.
//!
//! The sender runs in this process, on a thread inside the sandbox ([`harness::Host::run`]),
//! so its CPU time can be read precisely with `CLOCK_THREAD_CPUTIME_ID`. Receivers are
//! separate processes (`fanout receive`), started with [`harness::Host::spawn`], which kills
//! them if this process dies: Ctrl-C leaves nothing behind.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use socket2::Socket;

use super::roles::ReceiverReport;
use super::sockets::{Batch, cpu_count, pin_to_cpu, sender_socket};
use super::wire;

/// How the sender reaches its receivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One send per message to a group all receivers joined on `lo`.
    Multicast,
    /// One send per message per receiver, each to its own port on 127.0.0.1.
    Unicast,
}

/// Which CPUs the processes may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// Let the scheduler decide.
    None,
    /// Everything on CPU 0: no cross-CPU wake-ups, but no parallelism either.
    Same,
    /// Sender on CPU 0, receivers spread over the other CPUs.
    Split,
}

impl Placement {
    /// The CPU for the sender, if pinned.
    pub fn sender_cpu(self) -> Option<usize> {
        match self {
            Placement::None => None,
            Placement::Same | Placement::Split => Some(0),
        }
    }

    /// The CPU for receiver `index`, if pinned.
    pub fn receiver_cpu(self, index: usize) -> Option<usize> {
        match self {
            Placement::None => None,
            Placement::Same => Some(0),
            Placement::Split => {
                let cpus = cpu_count();
                Some(if cpus < 2 { 0 } else { 1 + index % (cpus - 1) })
            }
        }
    }
}

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
    /// `IP_MULTICAST_LOOP` on the sender (see [`super::sockets::sender_socket`]).
    pub multicast_loop: bool,
    /// Receivers drain their queue every this many microseconds instead of sleeping in
    /// `recvmmsg` until each datagram arrives (`None`: block). See [`super::roles::receive`].
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
    /// Lost copies as a fraction of all copies that should have arrived.
    pub fn loss_ratio(&self) -> f64 {
        let expected = self.sent as f64 * self.receivers as f64;
        if expected == 0.0 {
            0.0
        } else {
            self.lost as f64 / expected
        }
    }
}

/// Child processes that are killed and reaped if a run ends early.
pub(crate) struct Children(Vec<Spawned>);

pub(crate) struct Spawned {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    pub(crate) port: u16,
}

impl Drop for Children {
    fn drop(&mut self) {
        for spawned in &mut self.0 {
            let _ = spawned.child.kill();
            let _ = spawned.child.wait();
        }
    }
}

/// Starts `count` role processes and waits for each one's `ready <port>` line.
pub(crate) fn spawn_roles(
    host: &harness::Host,
    program: &PathBuf,
    count: usize,
    arguments: impl Fn(usize) -> Vec<String>,
) -> anyhow::Result<Children> {
    let mut children = Children(Vec::with_capacity(count));
    for index in 0..count {
        let mut command = Command::new(program);
        command
            .args(arguments(index))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = host
            .spawn(&mut command)
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        children.0.push(Spawned {
            child,
            stdin,
            stdout,
            port: 0,
        });
    }
    for (index, spawned) in children.0.iter_mut().enumerate() {
        let mut line = String::new();
        spawned.stdout.read_line(&mut line)?;
        let port = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok());
        let Some(port) = port else {
            let status = spawned.child.wait()?;
            bail!("receiver {index} did not get ready (said {line:?}, {status})");
        };
        spawned.port = port;
    }
    Ok(children)
}

impl Children {
    pub(crate) fn ports(&self) -> Vec<u16> {
        self.0.iter().map(|s| s.port).collect()
    }

    /// Lets held receivers read, and waits until each has emptied its queue.
    fn release_held(&mut self) -> anyhow::Result<()> {
        for spawned in &mut self.0 {
            if let Some(stdin) = spawned.stdin.as_mut() {
                stdin.write_all(b"go\n")?;
            }
        }
        for (index, spawned) in self.0.iter_mut().enumerate() {
            let mut line = String::new();
            spawned.stdout.read_line(&mut line)?;
            if line.trim() != "drained" {
                bail!("held receiver {index} said {line:?} instead of `drained`");
            }
        }
        Ok(())
    }

    fn reports(&mut self) -> anyhow::Result<Vec<ReceiverReport>> {
        let mut reports = Vec::new();
        for (index, spawned) in self.0.iter_mut().enumerate() {
            let mut line = String::new();
            spawned.stdout.read_line(&mut line)?;
            let report = serde_json::from_str(&line)
                .with_context(|| format!("receiver {index} reported {line:?}"))?;
            reports.push(report);
        }
        Ok(reports)
    }

    pub(crate) fn wait(mut self) -> anyhow::Result<()> {
        for spawned in &mut self.0 {
            spawned.stdin = None;
            let status = spawned.child.wait()?;
            if !status.success() {
                bail!("a role process failed: {status}");
            }
        }
        self.0.clear();
        Ok(())
    }
}

struct Sent {
    sent: u64,
    seconds: f64,
    cpu_ns: u64,
}

/// Runs one fan-out measurement in `host` (a sandbox whose `lo` carries 224.0.0.0/4).
pub fn run_fanout(host: &harness::Host, config: &FanoutConfig) -> anyhow::Result<FanoutReport> {
    if config.size < wire::HEADER {
        bail!(
            "messages must be at least {} bytes, got {}",
            wire::HEADER,
            config.size
        );
    }
    if config.receivers == 0 {
        bail!("at least one receiver is needed");
    }
    let mut children = spawn_roles(host, &config.program, config.receivers, |index| {
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
    })?;
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
fn send_all(
    config: &FanoutConfig,
    destinations: &[SocketAddrV4],
) -> anyhow::Result<(Vec<Socket>, Sent)> {
    if let Some(cpu) = config.placement.sender_cpu() {
        pin_to_cpu(cpu)?;
    }
    let sockets = destinations
        .iter()
        .map(|&d| {
            sender_socket(d, config.multicast_loop)
                .with_context(|| format!("cannot open a socket to {d}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut batch = Batch::new(config.batch, config.size);
    let progress = progress_bar(config.progress, config.messages);
    let skipped = |seq: u64| config.skip_every.is_some_and(|k| k > 0 && seq % k == k - 1);
    let started = Instant::now();
    let cpu_before = wire::thread_cpu_ns();
    let mut seq = 0;
    while seq < config.messages {
        let mut filled = 0;
        while filled < batch.capacity() && seq < config.messages {
            if !skipped(seq) {
                wire::encode(batch.message_mut(filled), seq, 0);
                filled += 1;
            }
            seq += 1;
        }
        for socket in &sockets {
            batch.send(socket, filled)?;
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
    let cpu_ns = wire::thread_cpu_ns() - cpu_before;
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

fn send_end_markers(sockets: &[Socket], sent: u64, done: &AtomicBool) -> anyhow::Result<()> {
    let mut marker = [0u8; wire::END_LENGTH];
    let mut index = 0;
    while !done.load(Ordering::Relaxed) {
        wire::encode_end(&mut marker, sent, index);
        index += 1;
        for socket in sockets {
            match socket.send(&marker) {
                Ok(_) => {}
                Err(error) if error.raw_os_error() == Some(libc::ECONNREFUSED) => {}
                Err(error) => return Err(error.into()),
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// A progress bar on stderr, or a hidden one.
pub(crate) fn progress_bar(visible: bool, length: u64) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(length),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("sending");
    bar
}
