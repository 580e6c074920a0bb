//! `receive`: join a multicast group and print what arrives (the article's `receive.rb`).

use std::io::Write;
use std::net::IpAddr;

use clap::Parser;
use ruby_port::{Receiver, SEND_RECEIVE_GROUP, cli};

/// Join a multicast group and print each datagram as it arrives, as the
/// article's receive.rb does: 224.0.0.1 port 3000 unless told otherwise.
///
/// Several receivers can run on one host at once: each sets SO_REUSEADDR and
/// SO_REUSEPORT before binding, and the kernel gives every one of them its own
/// copy of each datagram. Control characters in what arrives are shown as
/// symbols (␛, ␊), never sent to your terminal.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    network: cli::NetworkArgs,
    /// Also show the sender, the destination address and the interface it arrived on
    #[arg(long, short)]
    verbose: bool,
    /// Exit after this many datagrams [default: run until interrupted]
    #[arg(long, short = 'n', value_name = "N")]
    count: Option<u64>,
    /// Accept datagrams from this sender only: a source-specific join, as
    /// 232.0.0.0/8 and ff3x::/32 groups expect [default: any sender]
    #[arg(long, short, value_name = "ADDRESS")]
    source: Option<IpAddr>,
}

fn main() {
    let args = Args::parse();
    // ANCHOR: main
    let mut config = args.network.config_or_exit(SEND_RECEIVE_GROUP);
    if let Some(source) = args.source {
        config = config
            .with_source(source)
            .unwrap_or_else(|e| cli::exit_with(2, format_args!("--source: {e}")));
    }
    let receiver = Receiver::join(&config).unwrap_or_else(|e| cli::exit_with(1, e));
    if args.verbose {
        eprintln!("joined {config}; waiting");
    }
    let mut stdout = std::io::stdout().lock();
    let mut seen = 0;
    let mut buffer = Vec::new();
    while args.count.is_none_or(|n| seen < n) {
        let line = match receiver.recv_reusing(&mut buffer) {
            Ok(datagram) => writeln!(stdout, "{}", datagram.display(args.verbose)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => cli::exit_with(1, format!("receiving: {e}")),
        };
        cli::written_or_exit(line);
        seen += 1;
    }
}
// ANCHOR_END: main
