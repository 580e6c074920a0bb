//! Reading one datagram with a small buffer, as the originals do, without losing track of
//! how big it really was.
//!
//! The original sender reads at most 16 bytes and the receiver at most 1024; the kernel
//! silently drops whatever does not fit. Passing `MSG_TRUNC` to `recvmsg(2)` makes Linux
//! return the datagram's real length anyway, so our programs can say when a datagram was
//! cut short instead of pretending it was small.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use nix::sys::socket::{MsgFlags, SockaddrLike, SockaddrStorage, recvmsg};

/// One datagram as read from a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The bytes that fitted in the buffer.
    pub payload: Vec<u8>,
    /// The datagram's real length; larger than `payload.len()` when it was truncated.
    pub length: usize,
    /// Who sent it.
    pub source: SocketAddr,
}

impl Received {
    /// Whether the datagram was longer than the buffer.
    pub fn truncated(&self) -> bool {
        self.length > self.payload.len()
    }
}

/// Receives one datagram into a buffer of `capacity` bytes. A socket read timeout shows up
/// as an error of kind [`io::ErrorKind::WouldBlock`].
pub fn receive(socket: &impl AsRawFd, capacity: usize) -> io::Result<Received> {
    let mut buffer = vec![0u8; capacity];
    let (length, source) = {
        let mut slices = [IoSliceMut::new(&mut buffer)];
        let message =
            recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut slices, None, MsgFlags::MSG_TRUNC)
                .map_err(io::Error::from)?;
        (message.bytes, message.address)
    };
    let source = source
        .and_then(|a| socket_addr(&a))
        .ok_or_else(|| io::Error::other("datagram without an IP source address"))?;
    buffer.truncate(length.min(capacity));
    Ok(Received {
        payload: buffer,
        length,
        source,
    })
}

fn socket_addr(address: &SockaddrStorage) -> Option<SocketAddr> {
    match address.family()? {
        nix::sys::socket::AddressFamily::Inet => Some(SocketAddr::from(*address.as_sockaddr_in()?)),
        nix::sys::socket::AddressFamily::Inet6 => {
            Some(SocketAddr::from(*address.as_sockaddr_in6()?))
        }
        _ => None,
    }
}

/// Whether an error is the socket's read timeout expiring (`EAGAIN` on Linux).
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
