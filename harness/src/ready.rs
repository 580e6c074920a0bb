//! Waiting until a new link really carries traffic.
//!
//! Setting a veth up returns before the link is usable. The kernel's "linkwatch" worker
//! finishes the job a moment later: it records the carrier, sets the operational state and
//! swaps the `noop` queue discipline (which drops every frame) for the real one. IPv6 comes
//! after that: until then an IPv6 multicast send fails with `ENETUNREACH` (measured here:
//! 0.03 to 10 ms after `set up`, longer when both CPUs are busy). A sandbox that returned
//! early would make a test's first send fail one run in three, so we wait, by asking the
//! kernel the same questions a test's first send will ask, and with a deadline that only
//! bounds failure.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddrV6, UdpSocket};
use std::time::{Duration, Instant};

use crate::error::{Context, Error};
use crate::netlink::Rtnl;

/// How long the kernel may take to finish bringing a link up before we call it a failure.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(10);

/// Returns once link `index` is operationally up with a real transmit queue.
pub(crate) fn wait_for_link(
    rtnl: &mut Rtnl,
    index: u32,
    until: Instant,
    what: &str,
) -> crate::Result<()> {
    while !rtnl
        .link_usable(index)
        .doing(|| format!("reading the state of {what}"))?
    {
        if Instant::now() >= until {
            return Err(timed_out(&format!("{what} is not up")));
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Returns once the calling thread's namespace can send IPv6 multicast out of `interface`
/// from its link-local address. `connect` on a UDP socket looks the route up and picks the
/// source address without sending anything: first to a global-scope group (fails with
/// `ENETUNREACH` until the `ff00::/8` route exists), then to `ff02::1` on the interface (the
/// source is the unique-local address until the link-local one is there).
pub(crate) fn wait_for_ipv6_multicast(
    interface: u32,
    until: Instant,
    what: &str,
) -> crate::Result<()> {
    let global_group = SocketAddrV6::new(Ipv6Addr::new(0xff0e, 0, 0, 0, 0, 0, 0, 1), 9, 0, 0);
    let all_nodes_here =
        SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), 9, 0, interface);
    // A fresh socket each time: a connected socket keeps the source address it got first.
    let source_for = |group: SocketAddrV6| {
        let probe = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)).ok()?;
        probe.connect(group).ok()?;
        probe.local_addr().ok()
    };
    let ready = || {
        source_for(global_group).is_some()
            && source_for(all_nodes_here)
                .is_some_and(|a| matches!(a.ip(), IpAddr::V6(s) if s.is_unicast_link_local()))
            && !local_route_missing(interface)
    };
    while !ready() {
        if Instant::now() >= until {
            return Err(timed_out(&format!(
                "{what} cannot send IPv6 multicast from a link-local address, or has an address without its local route"
            )));
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Whether an IPv6 address of `interface` has no local route yet. An address is usable as a
/// source as soon as it is added, even with `nodad`, but its local route (what delivers a
/// reply sent to it) is only put in place when a kernel worker completes the address: on a
/// busy machine a reply to a test's first datagram could be sent before that and be lost.
/// Read from this thread's namespace's `/proc` files (`if_inet6`, and `ipv6_route`, which
/// lists the local table: `RTF_LOCAL` host routes); where they cannot be read, nothing is
/// waited for.
fn local_route_missing(interface: u32) -> bool {
    let read = |name: &str| std::fs::read_to_string(format!("/proc/thread-self/net/{name}"));
    let (Ok(addresses), Ok(routes)) = (read("if_inet6"), read("ipv6_route")) else {
        return false;
    };
    const RTF_LOCAL: u32 = 0x8000_0000;
    let local: Vec<&str> = routes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = u32::from_str_radix(fields.get(8)?, 16).ok()?;
            (fields.get(1) == Some(&"80") && flags & RTF_LOCAL != 0).then_some(fields[0])
        })
        .collect();
    addresses.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let on_it = fields
            .get(1)
            .and_then(|index| u32::from_str_radix(index, 16).ok())
            == Some(interface);
        on_it && !local.contains(&fields[0])
    })
}

fn timed_out(what: &str) -> Error {
    Error::Io {
        doing: "waiting for a new link to come up".into(),
        cause: io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} after {READY_DEADLINE:?}"),
        ),
    }
}
