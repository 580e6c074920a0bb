//! What the integration tests share: the two address families as test parameters, and a
//! reader that collects datagrams until a sentinel arrives.
//!
//! Each test builds its own sandbox with `harness::or_skip!(Sandbox::new())`, which skips
//! (after printing why) when no sandbox can be built, and fails instead under
//! `HARNESS_REQUIRE_SANDBOX=1`. `Sandbox::new` returns only once IPv6 multicast on `eth0` is
//! routable and leaves from the link-local address. Before it promised that, a join on "any
//! interface" (index 0) failed with `ENODEV` in 10 of 40 fresh sandboxes here, and a
//! datagram to `ff02::123` sometimes left from `fd00::1`, which changes who answers whom.

#![allow(dead_code)] // each test file uses its own subset

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use harness::Host;
use mcast_vocab::{Group, Interface};
use rust_diary::{GROUP_V4, group_v6};

/// Generous bound on how long anything may take; only ever reached when a test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(3);

/// One address family as it exists in a harness sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// IPv4: the group is routed over `lo`.
    V4,
    /// IPv6: the group lives on `eth0` (IPv6 multicast is never delivered on `lo`).
    V6,
}

impl Family {
    /// The diary's name for the family, which is also its listener's response.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// The diary's group: 224.0.0.123:7645 or [ff02::123]:7645.
    pub(crate) fn group(self) -> Group {
        match self {
            Family::V4 => GROUP_V4,
            Family::V6 => group_v6(),
        }
    }

    /// A second group of the same family and port: 224.0.0.124 or ff02::124.
    pub(crate) fn other_group(self) -> Group {
        let ip: IpAddr = match self {
            Family::V4 => "224.0.0.124".parse().unwrap(),
            Family::V6 => "ff02::124".parse().unwrap(),
        };
        Group::new(ip, self.group().port()).unwrap()
    }

    /// The sandbox interface this family's multicast arrives on.
    pub(crate) fn interface_name(self) -> &'static str {
        match self {
            Family::V4 => "lo",
            Family::V6 => "eth0",
        }
    }

    /// The sandbox interface, resolved by name; call inside the sandbox (`host.run`).
    pub(crate) fn interface(self) -> Interface {
        Interface::named(self.interface_name()).expect("the sandbox interface exists")
    }

    /// The host's own unicast address of this family.
    pub(crate) fn host_address(self, host: &Host) -> IpAddr {
        match self {
            Family::V4 => host.ipv4().into(),
            Family::V6 => host.ipv6().into(),
        }
    }
}

/// Reads `socket` until every text in `expected` and the `sentinel` have arrived (or the
/// deadline passes), then takes whatever else is already queued. Returns the texts sorted,
/// so callers compare sets.
///
/// The sentinel is sent last, by the same socket and along the same path as the rest:
/// once it is in, anything that was going to be delivered before it is in too, so an
/// absent datagram is shown to be filtered without waiting out a window.
pub(crate) fn receive_until(socket: &UdpSocket, expected: &[&str], sentinel: &str) -> Vec<String> {
    let deadline = Instant::now() + DEADLINE;
    let mut got: Vec<String> = Vec::new();
    let mut buf = [0u8; 1024];
    let done = |got: &Vec<String>| {
        got.iter().any(|t| t == sentinel) && expected.iter().all(|e| got.iter().any(|t| t == e))
    };
    while !done(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left)).unwrap();
        match socket.recv_from(&mut buf) {
            Ok((len, _)) => got.push(String::from_utf8_lossy(&buf[..len]).into_owned()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("reading the listening socket: {e}"),
        }
    }
    socket.set_nonblocking(true).unwrap();
    while let Ok((len, _)) = socket.recv_from(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..len]).into_owned());
    }
    got.sort();
    got
}

/// Sorted owned copies of `texts`, to compare with [`receive_until`].
pub(crate) fn sorted(texts: &[&str]) -> Vec<String> {
    let mut texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    texts.sort();
    texts
}

/// Sends each `(text, destination)` in order from one socket.
pub(crate) fn send_all(socket: &UdpSocket, datagrams: &[(&str, SocketAddr)]) {
    for (text, to) in datagrams {
        socket
            .send_to(text.as_bytes(), to)
            .unwrap_or_else(|e| panic!("sending {text:?} to {to}: {e}"));
    }
}
