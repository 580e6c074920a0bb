//! `diary`: the diary's test as a command, and its fixed listener and client as two more.
//!
//! Run it only inside a network namespace you made (`unshare -n`, or the harness): joining
//! a group announces the membership on the network.

// The `///` comments below are clap's help text, where `[ff02::123]:7645` is an address,
// not a rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::fmt::Display;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use mcast_vocab::{Group, Interface};
use rust_diary::report::{Answered, Listening, Totals};
use rust_diary::{Bind, GROUP_V4, IPV4, IPV6, ListenOptions, Responder, ask, diary};

/// The Rust diary's multicast listener test, as written and as fixed.
#[derive(Parser)]
#[command(name = "diary", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the diary's test as written: listener and client in one process, on
    /// 224.0.0.123:7645 or [ff02::123]:7645. The IPv6 one cannot work on Linux (and hangs):
    /// see the crate docs.
    Original {
        /// Which of the diary's two tests to run.
        #[arg(value_enum)]
        family: Family,
    },
    /// The fixed listener: join GROUP, answer every datagram with RESPONSE.
    Respond {
        /// Group and port, e.g. 224.0.0.123:7645 or [ff02::123]:7645.
        #[arg(long, default_value_t = GROUP_V4)]
        group: Group,
        /// Interface to join on, by name (resolved here, e.g. eth0). Required to bind an
        /// IPv6 link-local group; otherwise the route to the group decides.
        #[arg(long, value_parser = Interface::named)]
        interface: Option<Interface>,
        /// What to bind: the group (only its datagrams) or the wildcard (anything for
        /// the port).
        #[arg(long, value_enum, default_value_t = Bind::Group)]
        bind: Bind,
        /// Also hear groups that other sockets on this host joined (IP_MULTICAST_ALL on;
        /// matters only with --bind wildcard).
        #[arg(long)]
        multicast_all: bool,
        /// The answer; defaults to "ipv4" or "ipv6", as in the diary.
        #[arg(long)]
        response: Option<String>,
        /// Exit after answering this many datagrams (default: run until killed).
        #[arg(long)]
        count: Option<usize>,
    },
    /// The fixed client: send MESSAGE to GROUP and print the first reply.
    Ask {
        /// Group and port, e.g. 224.0.0.123:7645 or [ff02::123]:7645.
        #[arg(long, default_value_t = GROUP_V4)]
        group: Group,
        /// Interface to send by, by name (resolved here). Without it the route decides.
        #[arg(long, value_parser = Interface::named)]
        interface: Option<Interface>,
        /// What to send.
        #[arg(long, default_value = "Hello from client!")]
        message: String,
        /// How long to wait for a reply, in milliseconds (at least 1).
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
        timeout_ms: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Family {
    /// test_ipv4_multicast
    Ipv4,
    /// test_ipv6_multicast
    Ipv6,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`diary respond | head -1`): end quietly.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("diary: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one line to stdout; unlike `println!`, a closed stdout is an error to return,
/// not a panic.
fn say(line: impl Display) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

fn run(command: Command) -> std::io::Result<()> {
    match command {
        Command::Original { family } => {
            // The diary's code prints with `println!` from its threads, as written; Rust would
            // turn a closed stdout (`diary original ipv4 | head -1`) into a panic there. The
            // default SIGPIPE action ends the process quietly instead, as for a C program.
            // SAFETY: signal(2) with SIG_DFL, before any thread is started.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            match family {
                Family::Ipv4 => diary::test_multicast("ipv4", *IPV4),
                Family::Ipv6 => diary::test_multicast("ipv6", *IPV6),
            }
            Ok(())
        }
        Command::Respond {
            group,
            interface,
            bind,
            multicast_all,
            response,
            count,
        } => {
            let mut options = ListenOptions::default()
                .bind(bind)
                .multicast_all(multicast_all);
            if let Some(interface) = &interface {
                options = options.interface(interface.clone());
            }
            let response = response
                .unwrap_or_else(|| if group.is_ipv6() { "ipv6" } else { "ipv4" }.to_owned());
            let responder = Responder::start(response.clone(), &group, &options)?;
            let bound = responder.local_addr();
            let interface = interface.as_ref();
            say(Listening {
                group: &group,
                interface,
                bound,
            })?;
            // Ends after --count datagrams, or when the responder's thread has ended.
            for heard in responder.answers().take(count.unwrap_or(usize::MAX)) {
                let response = &response;
                say(Answered {
                    heard: &heard,
                    response,
                })?;
            }
            let tally = responder.tally();
            responder.stop()?;
            say(Totals(&tally))
        }
        Command::Ask {
            group,
            interface,
            message,
            timeout_ms,
        } => {
            let within = Duration::from_millis(timeout_ms);
            let reply = ask(&group, interface.as_ref(), message.as_bytes(), within)?;
            say(reply)
        }
    }
}
