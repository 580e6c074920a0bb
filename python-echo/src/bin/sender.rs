//! `sender`: send one datagram to the group and collect the acknowledgements.
//!
//! Exit status: 0 when done (and `--expect` met), 1 when fewer hosts than `--expect`
//! acknowledged, 2 for bad options or a socket step the kernel refused. When the reader of
//! its output goes away (`sender | head -1`) it ends quietly with status 0.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mcast_vocab::Ttl;
use python_echo::cli::{Endpoint, fail, fail_unless_closed, parse_timeout};
use python_echo::{SenderConfig, send};

/// Send one datagram to a multicast group and print every acknowledgement that comes back,
/// until none arrives within the timeout (the PyMOTW multicast sender, ported).
///
/// The sender cannot know how many hosts joined the group, so it waits until the replies
/// stop. Acks are counted per host: a second ack from the same address counts once, and a
/// reply that is not `ack` is printed and ignored.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Exit status: 0 done, 1 fewer acknowledging hosts than --expect, 2 error.\n\
                  Run it only inside a network namespace or on a network you own."
)]
struct Args {
    #[command(flatten)]
    endpoint: Endpoint,
    /// Multicast TTL (IPv6 hop limit): 1 stays on the local segment.
    #[arg(long, default_value = "1")]
    ttl: Ttl,
    /// The text to send.
    #[arg(long, default_value = "very important data", value_name = "TEXT")]
    message: String,
    /// Seconds to wait for each reply; the first wait that times out ends the run.
    #[arg(long, default_value = "0.2", value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: Duration,
    /// Seconds to wait for replies in all: a peer that keeps replying cannot keep the
    /// sender running longer than this.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_timeout)]
    max_wait: Duration,
    /// Fail (exit 1) when fewer than N distinct hosts acknowledge.
    #[arg(long, value_name = "N")]
    expect: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let group = match args.endpoint.group() {
        Ok(group) => group,
        Err(error) => return fail(error),
    };
    let config = SenderConfig {
        group,
        interface: args.endpoint.interface(),
        ttl: args.ttl,
        message: args.message.into_bytes(),
        timeout: args.timeout,
        max_wait: args.max_wait,
        expect: args.expect,
    };
    match send(&config, &mut std::io::stdout()) {
        Ok(report) => match report.shortfall() {
            Some(shortfall) => {
                eprintln!("error: {shortfall}");
                ExitCode::from(1)
            }
            None => ExitCode::SUCCESS,
        },
        Err(error) => fail_unless_closed(error),
    }
}
