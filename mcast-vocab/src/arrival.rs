//! What the kernel can say about a received datagram beyond its bytes.
//!
//! A plain `recv` gives bytes and a sender. Asked with socket options, the kernel also
//! attaches control messages to each datagram: `IP_PKTINFO` / `IPV6_PKTINFO` (the interface
//! it arrived on and the destination address in its IP header: the group) and `IP_TTL` /
//! `IPV6_HOPLIMIT` (the TTL or hop limit it arrived with). `MSG_TRUNC` makes `recvmsg` report
//! the datagram's real length even when the buffer was too small. This is the evidence every
//! listener in the workspace records; it is decoded here once.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};

/// One received datagram's evidence (its bytes are in the caller's buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Arrival {
    /// The sender's address and port, with flow info and scope id for IPv6, when the kernel
    /// reported one. After `shutdown(2)` a blocked `recvmsg` returns 0 bytes and, through
    /// nix 0.31, may still show the previous sender here: a reader that shuts its own socket
    /// down must stop on its own flag, not on this field.
    pub source: Option<SocketAddr>,
    /// The destination address of the IP header (`ipi_addr` / `ipi6_addr`): the group.
    pub destination: Option<IpAddr>,
    /// The index of the interface it arrived on (`ipi_ifindex` / `ipi6_ifindex`).
    pub interface_index: Option<u32>,
    /// The TTL or hop limit it arrived with.
    pub ttl: Option<u8>,
    /// The datagram's real length, which may exceed the buffer.
    pub length: usize,
    /// True when the datagram was longer than the buffer and was cut (`MSG_TRUNC`).
    pub truncated: bool,
    /// When it arrived, filled by the kernel at arrival (`SO_TIMESTAMPNS`, asked for with
    /// [`request_receive_timestamps`]); `None` on a socket that did not ask.
    pub received_at: Option<SystemTime>,
}

/// Asks the kernel for the evidence on `socket`: `IP_PKTINFO` and, with `ttl`, `IP_RECVTTL`
/// for IPv4; `IPV6_RECVPKTINFO` and `IPV6_RECVHOPLIMIT` for IPv6.
pub fn request_arrival_info(socket: &impl AsFd, ipv6: bool, ttl: bool) -> io::Result<()> {
    let fd = socket.as_fd();
    if ipv6 {
        setsockopt(&fd, sockopt::Ipv6RecvPacketInfo, &true)?;
        if ttl {
            setsockopt(&fd, sockopt::Ipv6RecvHopLimit, &true)?;
        }
    } else {
        setsockopt(&fd, sockopt::Ipv4PacketInfo, &true)?;
        if ttl {
            setsockopt(&fd, sockopt::Ipv4RecvTtl, &true)?;
        }
    }
    Ok(())
}

/// Asks the kernel to stamp each datagram `socket` receives with the time it arrived
/// (`SO_TIMESTAMPNS`), which [`recv_with_arrival`] reports as [`Arrival::received_at`]. The
/// stamp is taken when the packet reaches the host, before the reader is scheduled, so the
/// gaps between stamps are the gaps on the wire, not the reader's.
pub fn request_receive_timestamps(socket: &impl AsFd) -> io::Result<()> {
    setsockopt(&socket.as_fd(), sockopt::ReceiveTimestampns, &true)?;
    Ok(())
}

/// One `recvmsg(2)` into `buffer`, with `MSG_TRUNC` and the control messages decoded.
///
/// Pass `MsgFlags::MSG_DONTWAIT` in `flags` for a non-blocking read (then an empty queue is
/// an error of kind `WouldBlock`). `EINTR` is returned as `Interrupted`, for the caller to retry.
pub fn recv_with_arrival(
    socket: &impl AsFd,
    buffer: &mut [u8],
    flags: nix::sys::socket::MsgFlags,
) -> io::Result<Arrival> {
    let mut control = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, nix::sys::time::TimeSpec);
    let mut iov = [IoSliceMut::new(buffer)];
    let message = recvmsg::<SockaddrStorage>(
        socket.as_fd().as_raw_fd(),
        &mut iov,
        Some(&mut control),
        flags | MsgFlags::MSG_TRUNC,
    )?;
    let mut arrival = Arrival {
        source: message.address.as_ref().and_then(socket_addr_of),
        destination: None,
        interface_index: None,
        ttl: None,
        length: message.bytes,
        truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
        received_at: None,
    };
    for cmsg in message.cmsgs().into_iter().flatten() {
        match cmsg {
            ControlMessageOwned::Ipv4PacketInfo(info) => {
                arrival.interface_index = u32::try_from(info.ipi_ifindex).ok();
                arrival.destination = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    info.ipi_addr.s_addr,
                ))));
            }
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                arrival.interface_index = Some(info.ipi6_ifindex);
                arrival.destination = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
            }
            ControlMessageOwned::Ipv4Ttl(ttl) => arrival.ttl = u8::try_from(ttl).ok(),
            ControlMessageOwned::Ipv6HopLimit(hops) => arrival.ttl = u8::try_from(hops).ok(),
            ControlMessageOwned::ScmTimestampns(time) => {
                arrival.received_at = system_time(time.tv_sec(), time.tv_nsec());
            }
            _ => {}
        }
    }
    Ok(arrival)
}

/// A kernel timestamp (seconds and nanoseconds since the epoch) as a `SystemTime`.
pub(crate) fn system_time(seconds: i64, nanoseconds: i64) -> Option<SystemTime> {
    let seconds = u64::try_from(seconds).ok()?;
    let nanoseconds = u32::try_from(nanoseconds).ok()?;
    Some(UNIX_EPOCH + Duration::new(seconds, nanoseconds))
}

/// A `sockaddr` from the kernel as a `SocketAddr`, keeping an IPv6 address's flow info and
/// scope id (a link-local sender `fe80::1%eth0` is only reachable with its scope id).
pub fn socket_addr_of(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::from((v4.ip(), v4.port())));
    }
    let v6 = storage.as_sockaddr_in6()?;
    Some(SocketAddr::V6(SocketAddrV6::new(
        v6.ip(),
        v6.port(),
        v6.flowinfo(),
        v6.scope_id(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drift this pins: an IPv6 sender's scope id and flow info survive the conversion
    /// (one copy of this function used to drop them, so replies to fe80:: senders went nowhere).
    #[test]
    fn ipv6_scope_id_is_kept_through_conversion() {
        let sender = SocketAddrV6::new("fe80::1".parse().unwrap(), 7645, 5, 3);
        let storage = SockaddrStorage::from(sender);
        assert_eq!(socket_addr_of(&storage), Some(SocketAddr::V6(sender)));
    }

    /// Over loopback (no multicast needed), the evidence names `lo`, the destination, the TTL
    /// and a cut datagram's real length.
    #[test]
    fn loopback_datagram_comes_with_its_evidence() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        request_arrival_info(&receiver, false, true).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.set_ttl(9).unwrap();
        sender
            .send_to(b"hello, world", receiver.local_addr().unwrap())
            .unwrap();
        let mut buffer = [0u8; 5];
        let arrival = recv_with_arrival(&receiver, &mut buffer, MsgFlags::empty()).unwrap();
        assert_eq!(&buffer, b"hello");
        assert_eq!(arrival.source, Some(sender.local_addr().unwrap()));
        assert_eq!(arrival.destination, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(arrival.interface_index, Some(1));
        assert_eq!(arrival.ttl, Some(9));
        assert_eq!((arrival.length, arrival.truncated), (12, true));
        assert_eq!(arrival.received_at, None, "asked for no timestamp");
        receiver.set_nonblocking(true).unwrap();
        let empty = recv_with_arrival(&receiver, &mut buffer, MsgFlags::empty()).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
    }

    /// With `SO_TIMESTAMPNS` asked for, the kernel stamps each datagram with its arrival:
    /// the stamp lies between the send and the read, however late the read comes.
    ///
    /// The first socket on a machine to ask switches stamping on for every packet, and the
    /// kernel does that a moment later (it is deferred work); a datagram arriving in between
    /// is stamped when it is read instead. So a datagram stamped at its read is sent again,
    /// until one is stamped at its arrival (a deadline bounds a kernel that never does).
    #[test]
    fn kernel_stamps_the_arrival_time() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        request_receive_timestamps(&receiver).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buffer = [0u8; 16];
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let before = SystemTime::now();
            sender
                .send_to(b"tick", receiver.local_addr().unwrap())
                .unwrap();
            // Not a wait for readiness: the gap between arrival and read that the stamp
            // must show.
            std::thread::sleep(Duration::from_millis(50));
            let read_at = SystemTime::now();
            let arrival = recv_with_arrival(&receiver, &mut buffer, MsgFlags::empty()).unwrap();
            let stamp = arrival
                .received_at
                .expect("the kernel stamped the datagram");
            assert!(
                before <= stamp,
                "{stamp:?} is before the send at {before:?}"
            );
            if stamp + Duration::from_millis(40) < read_at {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{stamp:?} is the read's time ({read_at:?}), not the arrival's, for 5 s"
            );
        }
    }
}
