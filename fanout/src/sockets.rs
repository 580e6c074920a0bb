//! The sockets of the fan-out tool and the options that shape them.
//!
//! Everything here is plain IPv4 over `lo`, with the lesson of the C article applied: the
//! multicast sender names its interface with `IP_MULTICAST_IF` before connect(2), so its
//! connected socket cannot wander off to the default interface.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd};

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

/// `lo`'s interface index, the same in every network namespace.
const LO: u32 = 1;

/// `SO_MEMINFO` (not in every libc release): the socket's memory counters, drops included.
const SO_MEMINFO: libc::c_int = 55;
/// Index of the drop counter in the `SO_MEMINFO` array (`SK_MEMINFO_DROPS`).
const SK_MEMINFO_DROPS: usize = 8;
/// Length of the `SO_MEMINFO` array (`SK_MEMINFO_VARS`).
const SK_MEMINFO_VARS: usize = 9;

/// The largest receive buffer the tool asks for, in bytes: the kernel doubles the request
/// and keeps it in an `int`, so much more cannot be granted anyway.
pub const MAX_RECEIVE_BUFFER: usize = 1 << 30;

/// Where a receiver listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Bound to the group and port, joined on `lo` (interface index 1).
    Group(SocketAddrV4),
    /// Bound to 127.0.0.1 on a port of the kernel's choosing.
    Unicast,
}

/// A receiving socket: bound, joined if multicast, with the receive buffer asked for.
///
/// - `SO_REUSEADDR`: many receivers on one group and port.
/// - `SO_RCVBUFFORCE`, falling back to `SO_RCVBUF`: the queue where datagrams wait for the
///   reader. When it is full the kernel drops the datagram and counts it; that is where
///   loopback loses messages.
/// - `IP_ADD_MEMBERSHIP` on `lo`'s index for a group.
pub fn receiver_socket(endpoint: Endpoint, receive_buffer: Option<usize>) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    if let Some(bytes) = receive_buffer {
        set_receive_buffer(&socket, bytes)?;
    }
    match endpoint {
        Endpoint::Group(group) => {
            socket.bind(&SocketAddr::V4(group).into())?;
            socket.join_multicast_v4_n(group.ip(), &InterfaceIndexOrAddress::Index(LO))?;
        }
        Endpoint::Unicast => {
            socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
        }
    }
    Ok(socket)
}

/// Sets the receive buffer, forcing past `net.core.rmem_max` when allowed (root).
fn set_receive_buffer(socket: &Socket, bytes: usize) -> io::Result<()> {
    let bytes = bytes.min(MAX_RECEIVE_BUFFER);
    if setsockopt(socket, sockopt::RcvBufForce, &bytes).is_ok() {
        return Ok(());
    }
    socket.set_recv_buffer_size(bytes)
}

/// How many datagrams the kernel dropped because this socket's queue was full
/// (`SK_MEMINFO_DROPS` from `SO_MEMINFO`, the same counter `SO_RXQ_OVFL` reports).
pub fn kernel_drops(socket: &Socket) -> io::Result<u64> {
    let mut values = [0u32; SK_MEMINFO_VARS];
    let mut length = std::mem::size_of_val(&values) as libc::socklen_t;
    // SAFETY: getsockopt into an array of the size we pass.
    let result = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            values.as_mut_ptr().cast(),
            &mut length,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::from(values[SK_MEMINFO_DROPS]))
}

/// `SO_RXQ_OVFL`: every received datagram carries the socket's drop counter as it was when
/// the datagram was queued, so drops can be pinned to a point in the stream.
pub fn enable_drop_counts(socket: &Socket) -> io::Result<()> {
    Ok(setsockopt(socket, sockopt::RxqOvfl, &1)?)
}

/// A sending socket connected to `destination`.
///
/// For a group, with `multicast_loop` on (the default everywhere), it first sets
/// `IP_MULTICAST_IF` to 127.0.0.1, the fix from the article's experiment, so the connected
/// socket stays on `lo`; `IP_MULTICAST_LOOP` then hands each datagram to local members.
///
/// With `multicast_loop` off it sets `IP_MULTICAST_IF` to `lo` by index (an `ip_mreqn`,
/// so the source address stays the route's, 10.0.0.1 in a sandbox) and turns
/// `IP_MULTICAST_LOOP` off. Local members still get every datagram: the copy that `lo`
/// transmits comes straight back in as `lo`'s input. With a 127.0.0.1 source that input copy
/// is dropped as a martian (a loopback source needs `route_localnet`), which is why the
/// looped mode pins by address and this one by index.
pub fn sender_socket(destination: SocketAddrV4, multicast_loop: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    if destination.ip().is_multicast() {
        if multicast_loop {
            socket.set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?;
        } else {
            mcast_vocab::sockopt::set_multicast_if_v4_index(&socket, LO)?;
        }
        socket.set_multicast_loop_v4(multicast_loop)?;
    }
    socket.connect(&SocketAddr::V4(destination).into())?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unicast receiver reports no drops while nothing overflowed, and gets the buffer it
    /// asked for, doubled (the kernel books its own overhead). Unicast over 127.0.0.1 only,
    /// so this is safe outside a sandbox.
    #[test]
    fn unicast_receiver_counts_no_drops_and_gets_its_buffer() {
        let socket = receiver_socket(Endpoint::Unicast, Some(4096)).unwrap();
        enable_drop_counts(&socket).unwrap();
        assert_eq!(kernel_drops(&socket).unwrap(), 0);
        assert_eq!(socket.recv_buffer_size().unwrap(), 8192);
    }
}
