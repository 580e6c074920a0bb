//! The article's server: a UDP socket on the group, joined on one interface, that reports
//! the interface each datagram arrived on.
//!
//! Step 3 of the article: "start a UDP listener on the multicast address and on the previously
//! unused port on the loopback interface". The listener is ready when [`GroupListener::join`]
//! returns: the socket is bound and the membership is in place, so a datagram sent afterwards
//! cannot be missed. That replaces the article's `sleep 5`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;
use std::time::Instant;

use nix::sys::socket::{self, ControlMessageOwned, MsgFlags, SockaddrStorage, sockopt};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

use crate::group::Group;
use crate::interface::Interface;

/// One datagram as the listener saw it: what, from whom, to which address, on which interface.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Arrival {
    /// The datagram's bytes.
    pub payload: Vec<u8>,
    /// The sender's address and port.
    pub source: SocketAddr,
    /// The destination address in the IP header (the group).
    pub destination: IpAddr,
    /// The interface it arrived on, from `IP_PKTINFO` / `IPV6_PKTINFO`.
    pub interface: Interface,
}

impl Arrival {
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
                socket::setsockopt(&socket.as_fd(), sockopt::Ipv4PacketInfo, &true)?;
            }
            IpAddr::V6(ip) => {
                socket.join_multicast_v6(&ip, interface.index)?;
                socket::setsockopt(&socket.as_fd(), sockopt::Ipv6RecvPacketInfo, &true)?;
            }
        }
        socket.set_nonblocking(true)?;
        Ok(GroupListener { socket, group })
    }

    /// The group this listener is bound to.
    pub fn group(&self) -> Group {
        self.group
    }

    /// The next datagram, or `None` if nothing arrives before `deadline`.
    pub fn next_before(&self, deadline: Instant) -> io::Result<Option<Arrival>> {
        loop {
            if let Some(arrival) = self.try_next()? {
                return Ok(Some(arrival));
            }
            if !crate::wait_readable(&self.socket, deadline)? {
                return Ok(None);
            }
        }
    }

    /// A datagram that is already queued, without waiting.
    pub fn try_next(&self) -> io::Result<Option<Arrival>> {
        let mut payload = vec![0u8; 2048];
        let mut control = nix::cmsg_space!(libc::in6_pktinfo);
        let mut buffers = [io::IoSliceMut::new(&mut payload)];
        let message = match socket::recvmsg::<SockaddrStorage>(
            std::os::fd::AsRawFd::as_raw_fd(&self.socket),
            &mut buffers,
            Some(&mut control),
            MsgFlags::empty(),
        ) {
            Ok(message) => message,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(errno) => return Err(errno.into()),
        };
        let length = message.bytes;
        let source = message
            .address
            .as_ref()
            .and_then(storage_to_socket_addr)
            .unwrap_or_else(|| SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0));
        let mut destination = self.group.ip();
        let mut index = 0;
        for control in message.cmsgs()? {
            match control {
                ControlMessageOwned::Ipv4PacketInfo(info) => {
                    index = info.ipi_ifindex as u32;
                    destination = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)).into();
                }
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    index = info.ipi6_ifindex;
                    destination = Ipv6Addr::from(info.ipi6_addr.s6_addr).into();
                }
                _ => {}
            }
        }
        payload.truncate(length);
        Ok(Some(Arrival {
            payload,
            source,
            destination,
            interface: Interface::by_index(index),
        }))
    }
}

fn storage_to_socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::new(v4.ip().into(), v4.port()));
    }
    storage
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::new(v6.ip().into(), v6.port()))
}

impl AsFd for GroupListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
