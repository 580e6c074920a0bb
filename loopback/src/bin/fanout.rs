//! Fan-out over loopback, measured: multicast versus N×unicast, loss, CPU, round trips.
//!
//! Every measurement runs inside a throwaway sandbox (a network namespace built by the
//! harness, IPv4 multicast routed over `lo`); receivers are child processes of this program
//! (`fanout receive`, `fanout echo`) that die with it, Ctrl-C included.
//!
//! ```text
//! cargo run -p loopback --release --bin fanout -- run -n 4 --runs 3
//! cargo run -p loopback --release --bin fanout -- run -n 4 --mode unicast --runs 3
//! cargo run -p loopback --release --bin fanout -- pingpong --runs 3
//! # the plot: rate and sender CPU against N, both modes, medians of 3 runs
//! cargo run -p loopback --release --bin fanout -- sweep --plot fanout.svg
//! # the comparison with sockperf and iperf2 (apt packages `sockperf` and `iperf`)
//! cargo run -p loopback --release --bin fanout -- sweep --receivers 1,4,16 --peers --peer-receivers 1,4
//! ```

use std::io::IsTerminal;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use loopback::fanout::peers::{self, PeerFigures, PeerSettings};
use loopback::fanout::roles::{self, RoleOptions};
use loopback::fanout::sockets::Endpoint;
use loopback::fanout::summary::{Latency, Point};
use loopback::fanout::{
    FanoutConfig, FanoutReport, Mode, PingPongConfig, PingPongReport, Placement, plot, run_fanout,
    run_pingpong,
};

/// Measure one-to-many messaging over loopback inside a sandbox.
///
/// One sender streams sequence-numbered messages to N receiver processes, either as one
/// multicast send per message or as N unicast sends per message. Receivers count loss,
/// duplicates and reordering exactly; the sender's CPU time per message is measured.
/// `pingpong` times round trips; `sweep` runs a grid, optionally with sockperf and iperf2 as
/// peers, and can draw an SVG. Figures are noisy on a shared machine: use medians of runs.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stream messages to N receivers and report rate, loss and sender CPU.
    Run(RunArgs),
    /// Time round trips to one echo process (p50/p99/p99.9).
    Pingpong(PingArgs),
    /// Both modes for several receiver counts (medians of --runs), ping-pong, optional peers.
    Sweep(SweepArgs),
    /// The receiver role (started by the tool itself).
    #[command(hide = true)]
    Receive(RoleArgs),
    /// The echo role for ping-pong (started by the tool itself).
    #[command(hide = true)]
    Echo(RoleArgs),
}

#[derive(Args, Clone)]
struct Common {
    /// Bytes per message, at least 16 (sequence number and timestamp).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(16..=65000))]
    size: u64,
    /// Messages per sendmmsg/recvmmsg call (1: one system call per message).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    batch: u64,
    /// Receive buffer per receiver, e.g. 8M, 256K or 0 for the kernel default.
    #[arg(long, default_value = "8M", value_parser = parse_bytes)]
    receive_buffer: usize,
    /// CPU placement: none, same (all on CPU 0) or split (sender on 0, receivers elsewhere).
    #[arg(long, value_enum, default_value_t = Placement::None)]
    placement: Placement,
    /// Multicast group and port.
    #[arg(long, default_value_t = loopback::fanout::run::DEFAULT_GROUP)]
    group: SocketAddrV4,
    /// Receivers empty their queue every this many microseconds instead of blocking in
    /// recvmmsg until each datagram arrives, which spares the sender a wake-up per receiver
    /// (0: block, the default). Ping-pong ignores it.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    drain_every_us: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// No progress bar on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    /// multicast or unicast (N×unicast).
    #[arg(long, value_enum, default_value_t = Mode::Multicast)]
    mode: Mode,
    /// Receiver processes.
    #[arg(long, short = 'n', default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    receivers: u64,
    /// Sequence numbers to send.
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Pace the sender at this many messages per second (default: as fast as it can).
    #[arg(long)]
    rate: Option<u64>,
    /// Repeat the run this many times and also print the medians.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Skip every k-th sequence number on purpose (checks the loss accounting).
    #[arg(long, hide = true)]
    skip_every: Option<u64>,
    /// Multicast with IP_MULTICAST_LOOP off, pinned to lo by index: delivery through lo's
    /// own receive path instead of a looped copy.
    #[arg(long)]
    no_loop: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct PingArgs {
    /// multicast or unicast out (the echo always answers by unicast).
    #[arg(long, value_enum, default_value_t = Mode::Multicast)]
    mode: Mode,
    /// Round trips to time.
    #[arg(long, default_value_t = 20_000)]
    round_trips: u64,
    /// Busy-poll in both processes instead of sleeping in recv.
    #[arg(long)]
    spin: bool,
    /// Repeat and report medians.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct SweepArgs {
    /// Receiver counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    receivers: Vec<usize>,
    /// Sequence numbers per run.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// Runs per setting (medians are reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Ping-pong round trips per run (0: skip ping-pong).
    #[arg(long, default_value_t = 20_000)]
    round_trips: u64,
    /// Also measure sockperf and iperf2 in the same sandbox (must be installed).
    #[arg(long)]
    peers: bool,
    /// Seconds per peer run.
    #[arg(long, default_value_t = 2)]
    peer_seconds: u64,
    /// Pace every sender (ours and the peers') at this many messages per second.
    #[arg(long)]
    rate: Option<u64>,
    /// Receiver counts for the peers (default: the same as --receivers).
    #[arg(long, value_delimiter = ',')]
    peer_receivers: Option<Vec<usize>>,
    /// Write an SVG of rate and sender CPU against N for both modes.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct RoleArgs {
    /// Join this group on lo and bind it.
    #[arg(long, conflicts_with = "unicast")]
    group: Option<SocketAddrV4>,
    /// Bind 127.0.0.1 on a port the kernel picks.
    #[arg(long)]
    unicast: bool,
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 64)]
    size: usize,
    #[arg(long)]
    receive_buffer: Option<usize>,
    #[arg(long)]
    cpu: Option<usize>,
    #[arg(long)]
    hold: bool,
    #[arg(long)]
    spin: bool,
    #[arg(long)]
    drain_every_us: Option<u64>,
}

fn parse_bytes(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.trim().to_ascii_uppercase() {
        t if t.ends_with('M') => (t[..t.len() - 1].to_string(), 1 << 20),
        t if t.ends_with('K') => (t[..t.len() - 1].to_string(), 1 << 10),
        t => (t, 1),
    };
    digits
        .parse::<usize>()
        .map(|n| n * unit)
        .map_err(|_| format!("`{text}` is not a size (expected bytes, or a number with K or M)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Pingpong(args) => pingpong(args),
        Command::Sweep(args) => sweep(args),
        Command::Receive(args) => {
            role_options(&args).and_then(|o| Ok(roles::receive(&o).map(drop)?))
        }
        Command::Echo(args) => role_options(&args).and_then(|o| Ok(roles::echo(&o)?)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fanout: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn role_options(args: &RoleArgs) -> anyhow::Result<RoleOptions> {
    let endpoint = match (args.group, args.unicast) {
        (Some(group), false) => Endpoint::Group(group),
        (None, true) => Endpoint::Unicast,
        _ => anyhow::bail!("a role needs --group ADDRESS:PORT or --unicast"),
    };
    Ok(RoleOptions {
        endpoint,
        receive_buffer: args.receive_buffer,
        batch: args.batch,
        size: args.size,
        cpu: args.cpu,
        hold: args.hold,
        drain_every_us: args.drain_every_us,
        spin: args.spin,
    })
}

fn sandbox() -> anyhow::Result<harness::Sandbox> {
    harness::Sandbox::new().context("cannot build a sandbox (needs root or user namespaces)")
}

/// This very program, for the receiver and echo roles. `/proc/self/exe` (resolved in the
/// forked child, which is still this program) keeps working even if the file was replaced
/// on disk since we started, as a rebuild does.
fn program() -> anyhow::Result<PathBuf> {
    let path = PathBuf::from("/proc/self/exe");
    anyhow::ensure!(
        path.exists(),
        "cannot find this program (/proc/self/exe) to start receivers"
    );
    Ok(path)
}

fn fanout_config(
    common: &Common,
    mode: Mode,
    receivers: usize,
    messages: u64,
) -> anyhow::Result<FanoutConfig> {
    let mut config = FanoutConfig::new(program()?, mode, receivers);
    config.messages = messages;
    config.size = common.size as usize;
    config.batch = common.batch as usize;
    config.receive_buffer = (common.receive_buffer > 0).then_some(common.receive_buffer);
    config.placement = common.placement;
    config.group = common.group;
    config.drain_every_us = (common.drain_every_us > 0).then_some(common.drain_every_us);
    config.progress = !common.quiet && std::io::stderr().is_terminal();
    Ok(config)
}

fn ping_config(
    common: &Common,
    mode: Mode,
    round_trips: u64,
    spin: bool,
) -> anyhow::Result<PingPongConfig> {
    let mut config = PingPongConfig::new(program()?, mode);
    config.round_trips = round_trips;
    config.size = common.size as usize;
    config.spin = spin;
    config.placement = common.placement;
    config.group = common.group;
    config.progress = !common.quiet && std::io::stderr().is_terminal();
    Ok(config)
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let sandbox = sandbox()?;
    let mut config = fanout_config(
        &args.common,
        args.mode,
        args.receivers as usize,
        args.messages,
    )?;
    config.rate = args.rate;
    config.skip_every = args.skip_every;
    config.multicast_loop = !args.no_loop;
    let mut runs = Vec::new();
    for _ in 0..args.runs {
        let report = run_fanout(&sandbox, &config)?;
        if !args.common.json {
            println!("{}", describe_run(&report));
        }
        runs.push(report);
    }
    let point = Point::from_runs(runs).expect("at least one run");
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&point)?);
    } else if args.runs > 1 {
        println!("{}", describe_point(&point));
    }
    Ok(())
}

fn pingpong(args: PingArgs) -> anyhow::Result<()> {
    let sandbox = sandbox()?;
    let config = ping_config(&args.common, args.mode, args.round_trips, args.spin)?;
    let mut runs = Vec::new();
    for _ in 0..args.runs {
        let report = run_pingpong(&sandbox, &config)?;
        if !args.common.json {
            println!("{}", describe_ping(&report));
        }
        runs.push(report);
    }
    let latency = Latency::from_runs(runs).expect("at least one run");
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&latency)?);
    } else if args.runs > 1 {
        println!(
            "median of {} runs: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs",
            args.runs, latency.p50_us, latency.p99_us, latency.p999_us
        );
    }
    Ok(())
}

/// Everything a sweep measured, as `--json` prints it.
#[derive(serde::Serialize)]
struct SweepReport {
    points: Vec<Point>,
    latency: Vec<Latency>,
    peers: Option<PeerFigures>,
}

fn sweep(args: SweepArgs) -> anyhow::Result<()> {
    let sandbox = sandbox()?;
    let text = !args.common.json;
    let mut points = Vec::new();
    for &receivers in &args.receivers {
        for mode in [Mode::Multicast, Mode::Unicast] {
            let mut config = fanout_config(&args.common, mode, receivers, args.messages)?;
            config.rate = args.rate;
            let runs = (0..args.runs)
                .map(|_| run_fanout(&sandbox, &config))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let point = Point::from_runs(runs).expect("runs");
            if text {
                println!("{}", describe_point(&point));
            }
            points.push(point);
        }
    }
    let mut latency = Vec::new();
    if args.round_trips > 0 {
        for mode in [Mode::Multicast, Mode::Unicast] {
            let config = ping_config(&args.common, mode, args.round_trips, false)?;
            let runs = (0..args.runs)
                .map(|_| run_pingpong(&sandbox, &config))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let summary = Latency::from_runs(runs).expect("runs");
            if text {
                println!(
                    "ping-pong {:<9} median of {} runs: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  lost {}",
                    mode_name(mode),
                    args.runs,
                    summary.p50_us,
                    summary.p99_us,
                    summary.p999_us,
                    summary.lost
                );
            }
            latency.push(summary);
        }
    }
    let peers = if args.peers {
        let settings = PeerSettings {
            receivers: args
                .peer_receivers
                .clone()
                .unwrap_or_else(|| args.receivers.clone()),
            runs: args.runs as usize,
            seconds: args.peer_seconds,
            size: args.common.size as usize,
            rate: args.rate,
            pingpong: args.round_trips > 0,
            placement: args.common.placement,
        };
        let figures = peers::measure(&sandbox, &settings)?;
        if text {
            print!("{figures}");
        }
        Some(figures)
    } else {
        None
    };
    if let Some(path) = &args.plot {
        plot::draw(&points, path).with_context(|| format!("cannot write {}", path.display()))?;
        if text {
            println!("wrote {}", path.display());
        }
    }
    if !text {
        println!(
            "{}",
            serde_json::to_string_pretty(&SweepReport {
                points,
                latency,
                peers
            })?
        );
    }
    Ok(())
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Multicast => "multicast",
        Mode::Unicast => "unicast",
    }
}

fn describe_run(report: &FanoutReport) -> String {
    format!(
        "{:<9} N={:<3} sent {} in {:.3} s: {:.0} msg/s, lost {} (kernel drops {}), dup {}, reordered {}, sender CPU {:.0} ns/msg, {:.0} ns/delivery",
        mode_name(report.mode),
        report.receivers,
        report.sent,
        report.seconds,
        report.rate,
        report.lost,
        report.kernel_drops,
        report.duplicates,
        report.reordered,
        report.cpu_per_message_ns,
        report.cpu_per_delivery_ns
    )
}

fn describe_point(point: &Point) -> String {
    format!(
        "{:<9} N={:<3} median of {} runs: {:.0} msg/s, lost {} (worst {}), sender CPU {:.0} ns/msg, {:.0} ns/delivery",
        mode_name(point.mode),
        point.receivers,
        point.runs.len(),
        point.rate,
        point.lost,
        point.worst_lost,
        point.cpu_per_message_ns,
        point.cpu_per_delivery_ns
    )
}

fn describe_ping(report: &PingPongReport) -> String {
    format!(
        "ping-pong {:<9} {} round trips: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  max {:.1} µs  lost {}",
        mode_name(report.mode),
        report.round_trips,
        report.p50_us,
        report.p99_us,
        report.p999_us,
        report.max_us,
        report.lost
    )
}
