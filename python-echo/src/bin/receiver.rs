//! `receiver`: join the group and answer every datagram with `ack`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mcast_vocab::Ttl;
use python_echo::cli::{Endpoint, fail, fail_unless_closed, parse_timeout};
use python_echo::{ReceiverConfig, receive};

/// Join a multicast group and answer every datagram with `ack`, sent back to the sender's
/// own address (the PyMOTW multicast receiver, ported). Runs until interrupted.
///
/// Like the original it binds the port without address reuse, so one receiver per host.
/// When the reader of its output goes away (`receiver | head -1`) it ends quietly at the
/// next datagram.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Run it only inside a network namespace or on a network you own."
)]
struct Args {
    #[command(flatten)]
    endpoint: Endpoint,
    /// TTL (hop limit) of the acknowledgements, which are unicast; default: the kernel's.
    #[arg(long)]
    ttl: Option<Ttl>,
    /// Stop after answering N datagrams.
    #[arg(long, value_name = "N")]
    count: Option<usize>,
    /// Stop when nothing arrives for this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    idle: Option<Duration>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let group = match args.endpoint.group() {
        Ok(group) => group,
        Err(error) => return fail(error),
    };
    let config = ReceiverConfig {
        group,
        interface: args.endpoint.interface(),
        ttl: args.ttl,
        count: args.count,
        idle: args.idle,
    };
    match receive(config, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => fail_unless_closed(error),
    }
}
