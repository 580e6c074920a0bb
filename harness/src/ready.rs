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
    };
    while !ready() {
        if Instant::now() >= until {
            return Err(timed_out(&format!(
                "{what} cannot send IPv6 multicast from a link-local address"
            )));
        }
        std::thread::yield_now();
    }
    Ok(())
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
