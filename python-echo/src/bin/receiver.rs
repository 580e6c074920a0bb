//! `receiver`: join the group and answer every datagram with `ack`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use python_echo::{Group, Interface, ReceiverConfig, Ttl, parse_timeout, receive};

/// Join a multicast group and answer every datagram with `ack`, sent back to the sender's
/// own address (the PyMOTW multicast receiver, ported). Runs until interrupted.
///
/// Like the original it binds the port without address reuse, so one receiver per host.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Run it only inside a network namespace or on a network you own."
)]
struct Args {
    /// Multicast group to join: IPv4 in 224.0.0.0/4 or IPv6 in ff00::/8.
    #[arg(long, default_value = "224.3.29.71", value_name = "ADDRESS")]
    group: Group,
    /// UDP port to bind.
    #[arg(long, default_value_t = 10000, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Join on this interface (name or index) instead of the one the routes pick.
    #[arg(long, value_name = "NAME")]
    interface: Option<Interface>,
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
    let config = ReceiverConfig {
        group: args.group,
        port: args.port,
        interface: args.interface,
        ttl: args.ttl,
        count: args.count,
        idle: args.idle,
    };
    match receive(config, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
