//! `send`: one datagram to a multicast group (the article's `send.rb`).

use clap::Parser;
use ruby_port::{SEND_RECEIVE_GROUP, Sent, cli};

/// Send MESSAGE as one UDP datagram to a multicast group, as the article's
/// send.rb does: to 224.0.0.1 port 3000 with TTL 1 unless told otherwise.
///
/// Nobody has to listen; run `receive` first (on this host or another one on
/// the same network) to see it arrive.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The text to send
    message: String,
    #[command(flatten)]
    network: cli::NetworkArgs,
    /// Say what was sent, and where
    #[arg(long, short)]
    verbose: bool,
}

fn main() {
    let args = Args::parse();
    let config = args.network.config_or_exit(SEND_RECEIVE_GROUP);
    let bytes =
        ruby_port::send(&config, args.message.as_bytes()).unwrap_or_else(|e| cli::exit_with(1, e));
    if args.verbose {
        let sent = Sent {
            bytes,
            config: &config,
        };
        println!("{sent}");
    }
}
