//! Reading one datagram with a small buffer, as the originals do, without losing track of
//! how big it really was.
//!
//! The original sender reads at most 16 bytes and the receiver at most 1024; the kernel
//! silently drops whatever does not fit. `recvmsg(2)` with `MSG_TRUNC` (through
//! [`mcast_vocab::recv_with_arrival`]) returns the datagram's real length anyway, so our
//! programs can say when a datagram was cut short instead of pretending it was small.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;

use nix::sys::socket::MsgFlags;

/// One datagram as read from a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    /// The bytes that fitted in the buffer.
    pub payload: Vec<u8>,
    /// The datagram's real length; larger than `payload.len()` when it was truncated.
    pub length: usize,
    /// Who sent it (an IPv6 sender with its scope id).
    pub source: SocketAddr,
}

impl Received {
    /// Whether the datagram was longer than the buffer.
    pub(crate) fn truncated(&self) -> bool {
        self.length > self.payload.len()
    }
}

/// Receives one datagram into a buffer of `capacity` bytes. A socket read timeout shows up
/// as an error of kind [`io::ErrorKind::WouldBlock`].
pub(crate) fn receive(socket: &impl AsFd, capacity: usize) -> io::Result<Received> {
    let mut buffer = vec![0u8; capacity];
    let arrival = mcast_vocab::recv_with_arrival(socket, &mut buffer, MsgFlags::empty())?;
    let source = arrival
        .source
        .ok_or_else(|| io::Error::other("datagram without an IP source address"))?;
    buffer.truncate(arrival.length.min(capacity));
    Ok(Received {
        payload: buffer,
        length: arrival.length,
        source,
    })
}

/// Whether an error is the socket's read timeout expiring (`EAGAIN` on Linux).
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
