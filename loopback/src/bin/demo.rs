//! The article's `run.sh`, in a throwaway sandbox: which send follows the route over `lo`?
//!
//! Builds a host whose default route is `eth0` on a virtual segment, adds the group's host
//! route via `lo`, runs [`loopback::Experiment`] three times (the article as written, the two
//! fixes, and IPv6) and prints what the listener heard, what the capture saw and a verdict per
//! send. Nothing touches the real host: the namespaces are held by file descriptors of this
//! process and vanish when it exits, Ctrl-C included (the demo starts no child processes).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use loopback::group::{IPV6_TRIAL_GROUP, random_port};
use loopback::{Experiment, Fix, Group};

/// Reproduce the C article "Multicast Over Loopback" inside a sandbox.
///
/// A listener joins 224.16.17.8 on `lo`; one datagram is sent with sendto(2) and one with
/// connect(2) + send(2), in a network namespace whose default route leaves through `eth0` and
/// whose route for the group points at `lo`. Then the same with IP_MULTICAST_IF and
/// SO_BINDTODEVICE set, and with an IPv6 group. Needs root or unprivileged user namespaces.
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

const WHY_ARTICLE: &str = "connect() picked eth0's address as the source, and a multicast \
route lookup with a source address uses that address's interface";
const WHY_FIXES: &str = "both options name lo before the route lookup, so nothing is guessed";
const WHY_IPV6: &str = "IPv6 reads the local table first, where `multicast ff00::/8 dev eth0` \
matches, so the /128 via lo is never used; pinned to lo, the kernel treats a route through lo as \
a reject route and drops the datagram (Ip6OutNoRoutes)";

fn main() -> ExitCode {
    match run(Arguments::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(arguments: Arguments) -> anyhow::Result<()> {
    let port = arguments.port.unwrap_or_else(random_port);
    let patience = Duration::from_millis(arguments.patience_ms);
    let ipv4 = Group::article(port)?;
    let ipv6 = Group::new(IPV6_TRIAL_GROUP.into(), port)?;

    let lan = harness::Lan::new(["host"]).context("cannot build the sandbox")?;
    let host = lan.host("host");
    for group in [ipv4, ipv6] {
        host.add_route(&group.host_route(), "lo")
            .with_context(|| format!("cannot add the route {} dev lo", group.host_route()))?;
    }
    println!(
        "sandbox: host {} with eth0 {} (default route), route {} dev lo, route {} dev lo",
        host.name(),
        host.ipv4(),
        ipv4.host_route(),
        ipv6.host_route()
    );

    let sections = [
        ("the article: no fix", ipv4, vec![Fix::None], WHY_ARTICLE),
        (
            "the fixes",
            ipv4,
            vec![Fix::MulticastIf, Fix::BindToDevice],
            WHY_FIXES,
        ),
        ("IPv6, all three", ipv6, Fix::ALL.to_vec(), WHY_IPV6),
    ];
    for (title, group, fixes, why) in sections {
        let mut experiment = Experiment::article(group).with_fixes(fixes);
        experiment.patience = patience;
        let outcome = host
            .run(|| experiment.run())
            .with_context(|| format!("{title}: failed"))?;
        println!();
        println!("== {title}: group {group} ==");
        print!("{outcome}");
        println!("why: {why}");
    }
    Ok(())
}
