//! The article's server: a UDP socket on the group, joined on one interface, that reports
//! the interface each datagram arrived on.
//!
//! Step 3 of the article: "start a UDP listener on the multicast address and on the previously
//! unused port on the loopback interface". The listener is ready when [`GroupListener::join`]
//! returns: the socket is bound and the membership is in place, so a datagram sent afterwards
//! cannot be missed. That replaces the article's `sleep 5`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

use mcast_vocab::{Group, Interface, recv_with_arrival, request_arrival_info};
use nix::sys::socket::MsgFlags;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

/// One datagram as the listener heard it: what, from whom, to which address, on which
/// interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heard {
    /// The datagram's bytes.
    pub payload: Vec<u8>,
    /// The sender's address and port (with its scope id, for IPv6).
    pub source: SocketAddr,
    /// The destination address in the IP header (the group).
    pub destination: IpAddr,
    /// The interface it arrived on, from `IP_PKTINFO` / `IPV6_PKTINFO`.
    pub interface: Interface,
}

impl Heard {
    /// The payload as text (invalid UTF-8 is replaced), for printing.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// A socket bound to a group's address and port and joined on exactly one interface.
#[derive(Debug)]
pub struct GroupListener {
    socket: Socket,
    group: Group,
}

impl GroupListener {
    /// Binds `group` (address and port) and joins it on `interface` only.
    ///
    /// Socket options, in the order they are set:
    /// - `SO_REUSEADDR`: several listeners on one port may coexist, as with the article's
    ///   server started next to other programs.
    /// - `IP_ADD_MEMBERSHIP` with an `ip_mreqn` naming the interface index (or
    ///   `IPV6_JOIN_GROUP` with the index): the membership lives on that interface alone,
    ///   so the kernel accepts the group there and nowhere else.
    /// - `IP_PKTINFO` / `IPV6_RECVPKTINFO`: every datagram comes with the index of the
    ///   interface it arrived on, which is the article's "records the interface".
    pub fn join(group: Group, interface: &Interface) -> io::Result<GroupListener> {
        let domain = if group.is_ipv6() {
            Domain::IPV6
        } else {
            Domain::IPV4
        };
        let socket = Socket::new(domain, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&group.socket_addr().into())?;
        match group.ip() {
            IpAddr::V4(ip) => {
                socket
                    .join_multicast_v4_n(&ip, &InterfaceIndexOrAddress::Index(interface.index))?;
            }
            IpAddr::V6(ip) => socket.join_multicast_v6(&ip, interface.index)?,
        }
        request_arrival_info(&socket, group.is_ipv6(), false)?;
        socket.set_nonblocking(true)?;
        Ok(GroupListener { socket, group })
    }

    /// A datagram that is already queued, without waiting.
    pub fn try_next(&self) -> io::Result<Option<Heard>> {
        let mut payload = vec![0u8; 2048];
        let arrival = match recv_with_arrival(&self.socket, &mut payload, MsgFlags::empty()) {
            Ok(arrival) => arrival,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(error) => return Err(error),
        };
        payload.truncate(arrival.length.min(payload.len()));
        let unknown = || io::Error::other("a datagram without its sender or IP_PKTINFO");
        Ok(Some(Heard {
            payload,
            source: arrival.source.ok_or_else(unknown)?,
            destination: arrival.destination.unwrap_or(self.group.ip()),
            interface: Interface::at_index(arrival.interface_index.ok_or_else(unknown)?),
        }))
    }
}

impl AsFd for GroupListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
