//! A packet socket: the frames that cross one interface, seen from the link layer.
//!
//! `socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)` bound to one interface, like `tcpdump -i IFACE`:
//! the kernel hands it a copy of every frame that interface sends or receives, tagged with
//! the direction (`sll_pkttype`, see `packet(7)`). `SO_TIMESTAMPNS` asks it to stamp each
//! frame with the time it crossed. The harness's capture and the loopback port's capture
//! both read frames through this one socket; [`crate::frame`] decodes what they read.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::SystemTime;

use nix::errno::Errno;
use nix::sys::socket::{ControlMessageOwned, LinkAddr, MsgFlags, recvmsg, setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};

use crate::frame::Direction;

/// An `AF_PACKET` socket bound to one interface; non-blocking, and bound (so capturing)
/// when [`PacketSocket::bind`] returns.
#[derive(Debug)]
pub struct PacketSocket {
    socket: Socket,
}

/// What the kernel said about one frame read by [`PacketSocket::recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// How many bytes of the frame are in the buffer.
    pub length: usize,
    /// Which way the frame crossed the interface.
    pub direction: Direction,
    /// When it crossed, filled by the kernel (`SO_TIMESTAMPNS`); `None` if it sent no stamp.
    pub time: Option<SystemTime>,
}

impl PacketSocket {
    /// Opens `socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)` with `SO_TIMESTAMPNS` and binds it to
    /// the interface with index `index` of the calling thread's network namespace. Needs
    /// `CAP_NET_RAW` (root in the namespace).
    pub fn bind(index: u32) -> io::Result<PacketSocket> {
        let protocol = (libc::ETH_P_ALL as u16).to_be();
        let socket = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(i32::from(protocol))),
        )?;
        socket.set_nonblocking(true)?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
        let index = i32::try_from(index)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too big"))?;
        socket.bind(&link_address(protocol, index))?;
        Ok(PacketSocket { socket })
    }

    /// Reads one queued frame into `buffer` without blocking: `None` when the queue is empty.
    pub fn recv(&self, buffer: &mut [u8]) -> io::Result<Option<Received>> {
        let mut control = nix::cmsg_space!(nix::sys::time::TimeSpec);
        let mut iov = [IoSliceMut::new(buffer)];
        let message = match recvmsg::<LinkAddr>(
            self.socket.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(message) => message,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let time = message
            .cmsgs()
            .into_iter()
            .flatten()
            .find_map(|cmsg| match cmsg {
                ControlMessageOwned::ScmTimestampns(time) => {
                    crate::arrival::system_time(time.tv_sec(), time.tv_nsec())
                }
                _ => None,
            });
        let packet_type = message.address.map_or(libc::PACKET_HOST, |a| a.pkttype());
        Ok(Some(Received {
            length: message.bytes,
            direction: Direction::from_packet_type(packet_type),
            time,
        }))
    }

    /// The socket itself, for options this type does not set (`SO_RCVBUF`, ...).
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// The `sockaddr_ll` that binds a packet socket to interface `index` for `protocol`
/// (network byte order). Neither socket2 nor nix builds one, so it is written here.
fn link_address(protocol: u16, index: i32) -> SockAddr {
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: `sockaddr_storage` is larger than and aligned for `sockaddr_ll`, and every
    // bit pattern (the zeroes it starts as) is a valid `sockaddr_ll`; `SockAddr::new` gets
    // the length of the `sockaddr_ll` written into it.
    unsafe {
        let address = storage.view_as::<libc::sockaddr_ll>();
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol;
        address.sll_ifindex = index;
        SockAddr::new(storage, size_of::<libc::sockaddr_ll>() as libc::socklen_t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The address is what `packet(7)` asks for: family, protocol and interface, and the
    /// length of a `sockaddr_ll`.
    #[test]
    fn link_address_names_family_protocol_and_interface() {
        let address = link_address(0x0300, 7);
        assert_eq!(address.family(), libc::AF_PACKET as libc::sa_family_t);
        assert_eq!(address.len() as usize, size_of::<libc::sockaddr_ll>());
        // SAFETY: the pointer is to a live `sockaddr_ll`, as the length above shows.
        let raw = unsafe { &*address.as_ptr().cast::<libc::sockaddr_ll>() };
        assert_eq!((raw.sll_protocol, raw.sll_ifindex), (0x0300, 7));
    }
}
