//! `chat`: the backchannel chat (the article's gem executable `backchannel <HANDLE>`).

use std::io::IsTerminal;

use clap::Parser;
use ruby_port::{BACKCHANNEL_GROUP, Client, Window, cli};

/// Chat with everyone on the local network through one multicast group, as the
/// article's backchannel gem does (224.6.8.11 port 6811; it talks to the gem).
///
/// On a terminal it opens a full-screen window: messages at the top, your input
/// on the last line. Enter sends, Ctrl-T shows or hides each message's source
/// address, PageUp and PageDown scroll back through the last --scrollback
/// messages, Esc or Ctrl-C quits. With --plain, or when stdin is not a terminal,
/// it reads lines to send from stdin and prints each received message as one
/// line, which works in scripts and pipes; it exits at the end of stdin.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The name others see beside your messages
    handle: String,
    #[command(flatten)]
    network: cli::NetworkArgs,
    /// Line mode instead of the full-screen window
    #[arg(long)]
    plain: bool,
    /// Show each message's source address (the handle is only what the peer claims)
    #[arg(long, short)]
    show_source: bool,
    /// How many messages the window keeps for scrolling back (1 to 100000)
    #[arg(long, value_name = "MESSAGES", default_value_t = Window::DEFAULT_SCROLLBACK, value_parser = cli::scrollback)]
    scrollback: usize,
}

fn main() {
    let args = Args::parse();
    let config = args.network.config_or_exit(BACKCHANNEL_GROUP);
    let client = Client::new(args.handle, &config).unwrap_or_else(|e| cli::exit_with(1, e));
    let plain = args.plain || !std::io::stdin().is_terminal();
    let result = if plain {
        // On stderr, so stdout carries only messages: says the client is ready.
        eprintln!("joined {config} as {client}; lines you type are sent");
        ruby_port::run_plain(
            &client,
            std::io::BufReader::new(std::io::stdin()),
            std::io::stdout(),
            std::io::stderr(),
            args.show_source,
        )
    } else {
        let window = Window::new(args.show_source).with_scrollback(args.scrollback);
        ruby_port::run_window(&client, window)
    };
    if let Err(e) = result {
        cli::exit_with(1, e);
    }
}
