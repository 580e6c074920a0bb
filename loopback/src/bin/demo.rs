//! The article's `run.sh`: which send follows the route over `lo`?
//!
//! Runs in the network namespace it is started in, which must be a throwaway one (a lab
//! shell, the book's walkthrough sandbox, `unshare -rn`): it refuses the machine's own with
//! one line (see `loopback::namespace`). There it adds the group's host routes via `lo`,
//! runs [`loopback::Experiment`] three times (the article as written, the two fixes, and
//! IPv6), prints what the listener heard, what the capture saw, a verdict per send and the
//! kernel's reason for what was seen, and removes the routes again.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use loopback::group::{self, random_port};
use loopback::route::HostRoute;
use loopback::{Experiment, Fix, namespace, why};

/// Reproduce the C article "Multicast Over Loopback" in this (throwaway) network namespace.
///
/// Adds routes for 224.16.17.8 and ff15::1:8 via lo, joins the group on lo, and sends one
/// datagram with sendto(2) and one with connect(2) + send(2), watching eth0 (the default
/// interface) with a capture. Then the same with IP_MULTICAST_IF and SO_BINDTODEVICE set,
/// and with the IPv6 group. Needs lo, eth0 and CAP_NET_ADMIN: run it in a lab shell.
#[derive(Parser)]
#[command(version)]
struct Arguments {
    /// UDP port for the group (default: random in 2001..=10000, as in the article).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// How long to wait for a datagram before calling it unseen, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    patience_ms: u64,
}

fn main() -> ExitCode {
    match run(Arguments::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`demo | head -1`): end quietly, routes removed.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("demo: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(arguments: Arguments) -> anyhow::Result<()> {
    namespace::ensure_throwaway()?;
    let port = arguments.port.unwrap_or_else(random_port);
    let ipv4 = group::article(port)?;
    let ipv6 = group::ipv6_trial(port)?;
    // Steps 2 and 7 of the article: the routes go away when these are dropped.
    let routes = [HostRoute::add(&ipv4, "lo")?, HostRoute::add(&ipv6, "lo")?];
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "this namespace: route {}, route {}",
        routes[0], routes[1]
    )?;

    let trials = [
        ("the article: no fix", ipv4, vec![Fix::None]),
        ("the fixes", ipv4, vec![Fix::MulticastIf, Fix::BindToDevice]),
        ("IPv6, all three", ipv6, Fix::ALL.to_vec()),
    ];
    for (title, group, fixes) in trials {
        let mut experiment = Experiment::article(group).with_fixes(fixes);
        experiment.patience = Duration::from_millis(arguments.patience_ms);
        let outcome = experiment
            .run()
            .with_context(|| format!("{title}: failed"))?;
        writeln!(out)?;
        writeln!(out, "== {title}: group {group} ==")?;
        write!(out, "{outcome}")?;
        writeln!(out, "why: {}", why::reasons(&outcome))?;
    }
    Ok(())
}
