//! Fan-out over loopback, measured: multicast versus N×unicast, loss, CPU, round trips.
//!
//! Every measurement runs inside a throwaway sandbox (a network namespace built by the
//! harness, IPv4 multicast routed over `lo`); receivers are child processes of this program
//! (`fanout receive`, `fanout echo`) that die with it, Ctrl-C included.
//!
//! ```text
//! cargo run -p fanout --release --bin fanout -- run -n 4 --runs 3
//! cargo run -p fanout --release --bin fanout -- run -n 4 --mode unicast --runs 3
//! # round trips: both modes and sockperf in every round, on one CPU and across two
//! cargo run -p fanout --release --bin fanout -- pingpong --runs 5 --peers
//! # the plot: rate and sender CPU against N, both modes, medians of 3 runs
//! cargo run -p fanout --release --bin fanout -- sweep --plot fanout.svg
//! # the comparison with sockperf and iperf2 (apt packages `sockperf` and `iperf`)
//! cargo run -p fanout --release --bin fanout -- sweep --receivers 1,4,16 --peers --peer-receivers 1,4
//! ```
//!
//! Output piped into a program that stops reading (`fanout run | head -1`) ends this one
//! quietly, with status 0: no broken-pipe panic, and the receivers die with it.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::net::{SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use fanout::peers::PeerSettings;
use fanout::roles::{self, RoleOptions};
use fanout::sockets::{Endpoint, MAX_RECEIVE_BUFFER};
use fanout::sweep::{RoundTripSettings, SweepSettings, repeat_fanout, round_trips, sweep};
use fanout::tracker::MAX_MESSAGES;
use fanout::{FanoutConfig, Mode, PingPongConfig, Placement, plot};
use mcast_vocab::Group;

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
    /// Time round trips to one echo process (p50/p99/p99.9), both modes, at each placement.
    Pingpong(PingArgs),
    /// Both modes for several receiver counts in rounds, ping-pong, optional peers.
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
    /// Receive buffer per receiver, e.g. 8M, 256K or 0 for the kernel default (at most 1024M).
    #[arg(long, default_value = "8M", value_parser = parse_bytes)]
    receive_buffer: usize,
    /// Multicast group and port (IPv4: IPv6 multicast is not delivered over lo).
    #[arg(long, default_value_t = fanout::run::DEFAULT_GROUP, value_parser = parse_group)]
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
    /// Sequence numbers to send (at most 67108864, what a receiver can count).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    messages: u64,
    /// Pace the sender at this many messages per second (default: as fast as it can).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
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
    /// CPU placement: none, same (all on CPU 0) or split (sender on 0, receivers elsewhere).
    #[arg(long, value_enum, default_value_t = Placement::None)]
    placement: Placement,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct PingArgs {
    /// Round trips to time per run (each round runs multicast out and unicast out; the
    /// echo always answers by unicast).
    #[arg(long, default_value_t = 20_000)]
    round_trips: u64,
    /// Busy-poll in both processes instead of sleeping in recv.
    #[arg(long)]
    spin: bool,
    /// Rounds: each times both modes (and sockperf, with --peers) at every placement, in
    /// an order rotated from round to round; medians and ranges of the rounds are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Where client and echo run, comma-separated: same (both on CPU 0), split (client on
    /// 0, echo on 1), none (unpinned). Each is measured in every round.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "same,split")]
    placement: Vec<Placement>,
    /// Also time sockperf's ping-pong in every round, at the same placements.
    #[arg(long)]
    peers: bool,
    /// Seconds per sockperf run.
    #[arg(long, default_value_t = 2)]
    peer_seconds: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct SweepArgs {
    /// Receiver counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    receivers: Vec<usize>,
    /// Sequence numbers per run (at most 67108864, what a receiver can count).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    messages: u64,
    /// Rounds: each runs every setting once (both modes, and the peers with --peers), in an
    /// order rotated from round to round; medians and ranges of the rounds are reported.
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
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    rate: Option<u64>,
    /// Receiver counts for the peers (default: the same as --receivers).
    #[arg(long, value_delimiter = ',')]
    peer_receivers: Option<Vec<usize>>,
    /// Write an SVG of rate and sender CPU against N for both modes.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// CPU placement of the throughput runs: none, same (all on CPU 0) or split (sender on 0, receivers elsewhere).
    #[arg(long, value_enum, default_value_t = Placement::None)]
    placement: Placement,
    /// Where ping-pong's client and echo run, comma-separated (see `pingpong --placement`).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "same,split")]
    rtt_placement: Vec<Placement>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct RoleArgs {
    /// Join this group on lo and bind it.
    #[arg(long, conflicts_with = "unicast", value_parser = parse_group)]
    group: Option<SocketAddrV4>,
    /// Bind 127.0.0.1 on a port the kernel picks.
    #[arg(long)]
    unicast: bool,
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    batch: u64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(16..=65535))]
    size: u64,
    #[arg(long, value_parser = parse_bytes)]
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

/// A size in bytes, with an optional K or M, up to [`MAX_RECEIVE_BUFFER`].
fn parse_bytes(text: &str) -> Result<usize, String> {
    let upper = text.trim().to_ascii_uppercase();
    let (digits, unit) = match upper.strip_suffix('M') {
        Some(digits) => (digits, 1 << 20),
        None => match upper.strip_suffix('K') {
            Some(digits) => (digits, 1 << 10),
            None => (upper.as_str(), 1),
        },
    };
    let bytes = digits
        .parse::<usize>()
        .map_err(|_| format!("`{text}` is not a size (expected bytes, or a number with K or M)"))?;
    bytes
        .checked_mul(unit)
        .filter(|&bytes| bytes <= MAX_RECEIVE_BUFFER)
        .ok_or_else(|| format!("`{text}` is too large a receive buffer (at most 1024M)"))
}

/// An IPv4 multicast group with a port, checked by [`Group`] (multicast, port not 0).
fn parse_group(text: &str) -> Result<SocketAddrV4, String> {
    match Group::parse(text)
        .map_err(|error| error.to_string())?
        .socket_addr()
    {
        SocketAddr::V4(group) => Ok(group),
        SocketAddr::V6(_) => Err(format!(
            "`{text}` is an IPv6 group (expected IPv4: the kernel does not deliver IPv6 multicast over lo)"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Pingpong(args) => pingpong(args),
        Command::Sweep(args) => sweep_command(args),
        Command::Receive(args) => {
            role_options(&args).and_then(|o| Ok(roles::receive(&o).map(drop)?))
        }
        Command::Echo(args) => role_options(&args).and_then(|o| Ok(roles::echo(&o)?)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fanout: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` comes from the reader of our output going away (`EPIPE`).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let io = cause.downcast_ref::<io::Error>().or_else(|| {
            match cause.downcast_ref::<fanout::Error>() {
                Some(fanout::Error::Io { cause, .. }) => Some(cause),
                _ => None,
            }
        });
        io.is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints one line to stdout. When the reader has gone away (`fanout run | head -1`) the
/// program ends here, quietly and with status 0, as `yes | head -1` does; the receivers,
/// spawned with the harness, die with it. (`println!` would panic instead.)
fn say(line: impl Display) {
    let mut out = io::stdout().lock();
    if let Err(error) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if error.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("fanout: cannot print: {error}");
        std::process::exit(1);
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
        batch: args.batch as usize,
        size: args.size as usize,
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

/// Prints each line as it comes, unless the output is JSON.
fn shower(json: bool) -> impl FnMut(&dyn std::fmt::Display) {
    move |item| {
        let text = item.to_string();
        if !json && !text.is_empty() {
            say(text);
        }
    }
}

impl Common {
    fn fanout_config(
        &self,
        mode: Mode,
        receivers: usize,
        messages: u64,
        placement: Placement,
    ) -> anyhow::Result<FanoutConfig> {
        let mut config = FanoutConfig::new(program()?, mode, receivers);
        config.messages = messages;
        config.size = self.size as usize;
        config.batch = self.batch as usize;
        config.receive_buffer = (self.receive_buffer > 0).then_some(self.receive_buffer);
        config.placement = placement;
        config.group = self.group;
        config.drain_every_us = (self.drain_every_us > 0).then_some(self.drain_every_us);
        config.progress = self.progress();
        Ok(config)
    }

    fn ping_config(
        &self,
        mode: Mode,
        round_trips: u64,
        spin: bool,
    ) -> anyhow::Result<PingPongConfig> {
        let mut config = PingPongConfig::new(program()?, mode);
        config.round_trips = round_trips;
        config.size = self.size as usize;
        config.spin = spin;
        config.group = self.group;
        config.progress = self.progress();
        Ok(config)
    }

    fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut config = args.common.fanout_config(
        args.mode,
        args.receivers as usize,
        args.messages,
        args.placement,
    )?;
    config.rate = args.rate;
    config.skip_every = args.skip_every;
    config.multicast_loop = !args.no_loop;
    config.check()?;
    let json = args.common.json;
    let point = repeat_fanout(&*sandbox()?, &config, args.runs as usize, &mut shower(json))?;
    if json {
        say(serde_json::to_string_pretty(&point)?);
    } else if args.runs > 1 {
        say(point);
    }
    Ok(())
}

/// sockperf's settings for a ping-pong comparison (the placement is set by each round).
fn sockperf_settings(common: &Common, seconds: u64) -> PeerSettings {
    PeerSettings {
        seconds,
        size: common.size as usize,
        rate: None,
        placement: Placement::None,
    }
}

fn pingpong(args: PingArgs) -> anyhow::Result<()> {
    let settings = RoundTripSettings {
        pingpong: args
            .common
            .ping_config(Mode::Multicast, args.round_trips, args.spin)?,
        placements: dedup(args.placement),
        rounds: args.runs as usize,
        sockperf: args
            .peers
            .then(|| sockperf_settings(&args.common, args.peer_seconds)),
    };
    let json = args.common.json;
    let report = round_trips(&*sandbox()?, &settings, &mut shower(json))?;
    if json {
        say(serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// `list` without repeats, in its order.
fn dedup(list: Vec<Placement>) -> Vec<Placement> {
    let mut seen = Vec::new();
    for item in list {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

fn sweep_command(args: SweepArgs) -> anyhow::Result<()> {
    let mut fanout =
        args.common
            .fanout_config(Mode::Multicast, 1, args.messages, args.placement)?;
    fanout.rate = args.rate;
    fanout.check()?;
    let round_trips = (args.round_trips > 0)
        .then(|| -> anyhow::Result<RoundTripSettings> {
            Ok(RoundTripSettings {
                pingpong: args
                    .common
                    .ping_config(Mode::Multicast, args.round_trips, false)?,
                placements: dedup(args.rtt_placement.clone()),
                rounds: args.runs as usize,
                sockperf: args
                    .peers
                    .then(|| sockperf_settings(&args.common, args.peer_seconds)),
            })
        })
        .transpose()?;
    let peers = args.peers.then(|| {
        let settings = PeerSettings {
            seconds: args.peer_seconds,
            size: args.common.size as usize,
            rate: args.rate,
            placement: args.placement,
        };
        let counts = args
            .peer_receivers
            .clone()
            .unwrap_or_else(|| args.receivers.clone());
        (settings, counts)
    });
    let settings = SweepSettings {
        receivers: args.receivers.clone(),
        runs: args.runs as usize,
        fanout,
        round_trips,
        peers,
    };
    let json = args.common.json;
    let report = sweep(&*sandbox()?, &settings, &mut shower(json))?;
    if let Some(path) = &args.plot {
        plot::draw(&report.points, path)?;
        if !json {
            say(format_args!("wrote {}", path.display()));
        }
    }
    if json {
        say(serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
