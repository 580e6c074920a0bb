// ANCHOR: why_connect_picks_eth0
//! The article's client: the same datagram sent two ways, with or without a fix.
//!
//! Step 4 of the article: one datagram whose content is `sendto()` goes out with
//! sendto(2), naming the group on every call; one whose content is `send()` goes
//! out with send(2) on a socket that was first connect(2)ed to the group. On a host
//! whose default route leaves through `eth0` and whose group route points at `lo`,
//! the two take different paths.
//!
//! Why, on Linux: connect(2) on a UDP socket looks the route up once and also picks
//! the socket's source address. The group's route through `lo` offers no usable
//! source (`lo` only has 127.0.0.1, which is host-scoped), so the kernel picks the
//! address of another interface, here `eth0`'s. Then it looks the route up again
//! *with that source*, and for a multicast destination the kernel has a special
//! rule: a source address that belongs to an interface selects that interface (see
//! "Special hack" in `net/ipv4/route.c`). So the connected socket is tied to
//! `eth0`. sendto(2) on an unconnected socket looks the route up with no source and
//! follows the /32 route.
//!
//! The fixes ([`Fix`]) tell the kernel the interface before it guesses.
// ANCHOR_END: why_connect_picks_eth0

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use mcast_vocab::{Group, Interface};

/// How a datagram is handed to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendMethod {
    /// sendto(2) on an unconnected socket, with the group as destination.
    SendTo,
    /// connect(2) to the group, then send(2) without a destination.
    ConnectThenSend,
}

impl SendMethod {
    /// Both methods in the article's order.
    pub const BOTH: [SendMethod; 2] = [SendMethod::SendTo, SendMethod::ConnectThenSend];

    /// The article's payload for this method: `sendto()` or `send()`.
    pub fn payload(self) -> &'static str {
        match self {
            SendMethod::SendTo => "sendto()",
            SendMethod::ConnectThenSend => "send()",
        }
    }

    /// How a person would name the calls: `sendto()` or `connect()+send()`.
    pub fn calls(self) -> &'static str {
        match self {
            SendMethod::SendTo => "sendto()",
            SendMethod::ConnectThenSend => "connect()+send()",
        }
    }
}

/// A socket option set on the sending socket before anything else, to pin the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fix {
    /// No option: the article's client as written.
    None,
    /// `IP_MULTICAST_IF` set to the loopback address 127.0.0.1 (for IPv6,
    /// `IPV6_MULTICAST_IF` set to `lo`'s index): multicast from this socket leaves through
    /// the interface that owns that address, whatever the routing table says.
    MulticastIf,
    /// `SO_BINDTODEVICE` to `lo`: every packet of this socket, multicast or not, is tied to
    /// `lo`. Needs `CAP_NET_RAW` before Linux 5.7; harmless here as root in a namespace.
    BindToDevice,
}

impl Fix {
    /// Every fix, starting with none.
    pub const ALL: [Fix; 3] = [Fix::None, Fix::MulticastIf, Fix::BindToDevice];

    /// The kernel option this fix sets, for output (`-` for none).
    pub fn option(self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (Fix::None, _) => "-",
            (Fix::MulticastIf, false) => "IP_MULTICAST_IF=127.0.0.1",
            (Fix::MulticastIf, true) => "IPV6_MULTICAST_IF=lo",
            (Fix::BindToDevice, _) => "SO_BINDTODEVICE=lo",
        }
    }
}

/// Opens a UDP socket for `group`'s family and applies `fix`, with `loopback` being `lo`.
fn sending_socket(group: Group, fix: Fix, loopback: &Interface) -> io::Result<Socket> {
    let domain = if group.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    match (fix, group.ip()) {
        (Fix::None, _) => {}
        (Fix::MulticastIf, IpAddr::V4(_)) => socket.set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?,
        (Fix::MulticastIf, IpAddr::V6(_)) => socket.set_multicast_if_v6(loopback.index)?,
        (Fix::BindToDevice, _) => socket.bind_device(Some(loopback.name.as_bytes()))?,
    }
    Ok(socket)
}

// ANCHOR: send_once
/// Sends `payload` to `group` with `method` on a fresh socket prepared with `fix`;
/// returns the socket's local address afterwards (where replies would go).
pub fn send_once(
    group: Group,
    method: SendMethod,
    fix: Fix,
    loopback: &Interface,
    payload: &[u8],
) -> io::Result<SocketAddr> {
    let socket = sending_socket(group, fix, loopback)?;
    match method {
        SendMethod::SendTo => {
            socket.send_to(payload, &group.socket_addr().into())?;
        }
        SendMethod::ConnectThenSend => {
            socket.connect(&group.socket_addr().into())?;
            socket.send(payload)?;
        }
    }
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("a UDP socket without an IP address"))
}
// ANCHOR_END: send_once
