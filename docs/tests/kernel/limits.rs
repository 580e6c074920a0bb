//! How many groups one socket may join, measured (troubleshooting's "The memberships limit").
//!
//! Two limits apply to one socket, each per network namespace:
//! - IPv4 counts: `net.ipv4.igmp_max_memberships` (20 by default) joins per socket, and the
//!   next `IP_ADD_MEMBERSHIP` fails with `ENOBUFS`.
//! - Both families pay for each membership out of the socket's option memory, bounded by
//!   `net.core.optmem_max`. IPv6 has no counter, so this is its only limit: the join that
//!   would cross it fails with `ENOMEM`. IPv4 meets it too once the counter is raised.
//!
//! Each test changes the sysctls inside its own sandbox only.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

use harness::{Host, SANDBOX_IPV4, Sandbox};
use socket2::{Domain, Protocol, Socket, Type};

/// Sets `name` to `value` inside `host` (`sysctl -w`); panics with sysctl's words if refused.
fn set_sysctl(host: &Host, name: &str, value: u64) {
    let output = host
        .output(
            Command::new("sysctl")
                .arg("-qw")
                .arg(format!("{name}={value}")),
        )
        .expect("sysctl runs");
    assert!(
        output.status.success(),
        "sysctl {name}={value}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Reads `name` inside `host` (`sysctl -n`).
fn sysctl(host: &Host, name: &str) -> u64 {
    let output = host
        .output(Command::new("sysctl").arg("-n").arg(name))
        .expect("sysctl runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("sysctl {name} printed {text:?}"))
}

/// The `n`-th of many distinct IPv4 groups, 239.1.0.1 onwards.
fn ipv4_group(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(239, 1, 0, 1)) + n)
}

/// The `n`-th of many distinct IPv6 groups, ff15::1:0 onwards.
fn ipv6_group(n: u32) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 1, 0)) + u128::from(n))
}

/// Joins `join(socket, n)` for n = 0, 1, ... on one new socket of `domain` inside `host`
/// until a join fails or `ceiling` joins succeeded: how many succeeded, and the error.
fn joins_until_refused(
    host: &Host,
    domain: Domain,
    ceiling: u32,
    join: impl Fn(&Socket, u32) -> io::Result<()> + Send,
) -> (u32, Option<i32>) {
    host.run(move || {
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        for n in 0..ceiling {
            if let Err(error) = join(&socket, n) {
                return (n, error.raw_os_error());
            }
        }
        (ceiling, None)
    })
}

fn join_v4(socket: &Socket, n: u32) -> io::Result<()> {
    socket.join_multicast_v4(&ipv4_group(n), &SANDBOX_IPV4)
}

/// One IPv4 socket holds `net.ipv4.igmp_max_memberships` joins (20 by default) and the next
/// fails with ENOBUFS, a misleading "No buffer space available". The limit is per socket: a
/// second socket joins another 20. Raising the sysctl raises the limit.
#[test]
fn ipv4_socket_holds_igmp_max_memberships_joins_then_enobufs() {
    let host = harness::or_skip!(Sandbox::new());
    assert_eq!(sysctl(&host, "net.ipv4.igmp_max_memberships"), 20);
    let first = joins_until_refused(&host, Domain::IPV4, 1000, join_v4);
    assert_eq!(first, (20, Some(libc::ENOBUFS)), "the 21st join fails");
    let second = joins_until_refused(&host, Domain::IPV4, 1000, join_v4);
    assert_eq!(
        second,
        (20, Some(libc::ENOBUFS)),
        "per socket, not per host"
    );

    set_sysctl(&host, "net.ipv4.igmp_max_memberships", 50);
    let raised = joins_until_refused(&host, Domain::IPV4, 1000, join_v4);
    assert_eq!(raised, (50, Some(libc::ENOBUFS)));
}

/// IPv6 has no membership counter: one socket joined 1000 groups on `eth0` without error.
/// What bounds it is `net.core.optmem_max`, the socket's option memory, from which every
/// membership is paid: the join that would cross it fails with ENOMEM. With a sixteenth of
/// the memory, a sixteenth of the joins succeed. IPv4, with its counter raised out of the
/// way, meets the same bound (and reports ENOBUFS).
#[test]
fn ipv6_joins_are_bounded_by_optmem_max_not_by_a_count() {
    let host = harness::or_skip!(Sandbox::new());
    let eth0 = host.interface_index("eth0").unwrap();
    let join_v6 = move |socket: &Socket, n: u32| socket.join_multicast_v6(&ipv6_group(n), eth0);

    let thousand = joins_until_refused(&host, Domain::IPV6, 1000, join_v6);
    assert_eq!(thousand, (1000, None), "1000 IPv6 joins on one socket");

    let optmem = sysctl(&host, "net.core.optmem_max");
    let (full, error) = joins_until_refused(&host, Domain::IPV6, 1_000_000, join_v6);
    assert_eq!(error, Some(libc::ENOMEM), "{full} joins, then");
    set_sysctl(&host, "net.core.optmem_max", optmem / 16);
    let (small, error) = joins_until_refused(&host, Domain::IPV6, 1_000_000, join_v6);
    assert_eq!(error, Some(libc::ENOMEM), "{small} joins, then");
    assert!(
        small * 16 <= full && full < (small + 1) * 16,
        "joins scale with optmem_max: {full} with {optmem} bytes, {small} with {}",
        optmem / 16
    );
    println!(
        "IPv6: {full} joins with optmem_max {optmem} ({} bytes each), {small} with {}",
        optmem / u64::from(full),
        optmem / 16
    );

    set_sysctl(&host, "net.ipv4.igmp_max_memberships", 1_000_000);
    let (v4_small, error) = joins_until_refused(&host, Domain::IPV4, 1_000_000, join_v4);
    assert_eq!(error, Some(libc::ENOBUFS), "{v4_small} IPv4 joins, then");
    assert!(
        v4_small < 1000,
        "IPv4 meets optmem_max too: {v4_small} joins with {} bytes",
        optmem / 16
    );
    set_sysctl(&host, "net.core.optmem_max", optmem);
    let (v4_full, _) = joins_until_refused(&host, Domain::IPV4, 1_000_000, join_v4);
    println!(
        "IPv4 with the counter out of the way: {v4_full} joins with optmem_max {optmem}, \
         {v4_small} with {}",
        optmem / 16
    );
}
