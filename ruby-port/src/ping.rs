//! `ping` to a group, without the `ping` program: one ICMP echo request on a raw socket.
//!
//! The Ruby article pings 224.0.0.251 and gets one echo reply per member host, all with the
//! request's sequence number. [`ping_group`] sends such a request from the calling thread's
//! network namespace and collects the replies, so the claim can be checked where no `ping`
//! is installed (`tests/suite/ping.rs` does, and the tour). Raw sockets need `CAP_NET_RAW`, which
//! root and the harness's user namespaces have.
//!
//! A pinger that does not know the members waits out a window, as the article's does. One
//! that knows which hosts might answer (a test, on a network it built) need not:
//! [`ping_group_among`] follows the group request with a unicast request to each of them,
//! and each host answers requests in the order they reach it, so once a host has answered
//! the unicast one, its answer to the group request, if it gives one, has arrived.

use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// The identifier our echo requests carry, so replies to other pings are ignored.
const IDENTIFIER: u16 = 0x5eed;
/// The identifier of [`ping_group_among`]'s unicast requests, which close the window.
const CLOSING_IDENTIFIER: u16 = 0x5eee;

/// One echo reply: who answered, with which sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EchoReply {
    /// The answering host's address.
    pub from: Ipv4Addr,
    /// The sequence number it echoed.
    pub sequence: u16,
}

/// An ICMP echo request (type 8) with [`IDENTIFIER`], `sequence` and a short payload.
fn echo_request(sequence: u16) -> Vec<u8> {
    echo_request_with(IDENTIFIER, sequence)
}

/// An ICMP echo request (type 8) with `identifier`, `sequence` and a short payload.
fn echo_request_with(identifier: u16, sequence: u16) -> Vec<u8> {
    let mut packet = vec![8, 0, 0, 0];
    packet.extend_from_slice(&identifier.to_be_bytes());
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(b"workshop");
    let checksum = internet_checksum(&packet);
    packet[2..4].copy_from_slice(&checksum.to_be_bytes());
    packet
}

/// The one's-complement sum of RFC 1071 that ICMP uses.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sends one echo request with `sequence` to `group` (TTL 1) and returns every echo reply
/// to it that arrives within `window`, in arrival order. The window is the only way to
/// know that nobody else will answer: like the Python article's sender, a pinger cannot
/// know how many members there are.
pub fn ping_group(group: Ipv4Addr, sequence: u16, window: Duration) -> io::Result<Vec<EchoReply>> {
    let socket = pinger()?;
    socket.send_to(
        &echo_request(sequence),
        &SocketAddr::from((group, 0)).into(),
    )?;
    let deadline = Instant::now() + window;
    let mut replies = Vec::new();
    while let Some((reply, identifier)) = next_reply(&socket, deadline)? {
        if identifier == IDENTIFIER {
            replies.push(reply);
        }
    }
    Ok(replies)
}

/// [`ping_group`] on a network whose hosts are known: sends one echo request with `sequence`
/// to `group` (TTL 1), then one to each of `hosts` (unicast), and returns the replies to the
/// group request, in arrival order, once every one of `hosts` has answered its unicast
/// request: a host answers in the order the requests reach it, so by then its answer to the
/// group request, if it gave one, has arrived. A host that has not answered by `deadline` is
/// an error ([`io::ErrorKind::TimedOut`]) naming it.
pub fn ping_group_among(
    group: Ipv4Addr,
    sequence: u16,
    hosts: &[Ipv4Addr],
    deadline: Duration,
) -> io::Result<Vec<EchoReply>> {
    let socket = pinger()?;
    socket.send_to(
        &echo_request(sequence),
        &SocketAddr::from((group, 0)).into(),
    )?;
    for &host in hosts {
        socket.send_to(
            &echo_request_with(CLOSING_IDENTIFIER, sequence),
            &SocketAddr::from((host, 0)).into(),
        )?;
    }
    let deadline = Instant::now() + deadline;
    let mut waiting: Vec<Ipv4Addr> = hosts.to_vec();
    let mut replies = Vec::new();
    while !waiting.is_empty() {
        let Some((reply, identifier)) = next_reply(&socket, deadline)? else {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer to a unicast echo request from {waiting:?} in time"),
            ));
        };
        match identifier {
            IDENTIFIER => replies.push(reply),
            CLOSING_IDENTIFIER if reply.sequence == sequence => {
                waiting.retain(|&host| host != reply.from)
            }
            _ => {}
        }
    }
    Ok(replies)
}

/// A raw ICMP socket whose multicast goes no further than the segment (TTL 1).
fn pinger() -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
    socket.set_multicast_ttl_v4(1)?;
    Ok(socket)
}

/// The next echo reply to one of our requests, with the identifier it carries; `None` once
/// `deadline` has passed.
fn next_reply(socket: &Socket, deadline: Instant) -> io::Result<Option<(EchoReply, u16)>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        let mut buffer = [0u8; 1500];
        let n = match (&*socket).read(&mut buffer) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let packet = &buffer[..n];
        // A raw IPv4 socket hands over the IP header too: skip it (IHL words of 4 bytes).
        let header = usize::from(packet[0] & 0x0f) * 4;
        let Some(icmp) = packet.get(header..header + 8) else {
            continue;
        };
        let identifier = u16::from_be_bytes([icmp[4], icmp[5]]);
        if icmp[0] == 0 && matches!(identifier, IDENTIFIER | CLOSING_IDENTIFIER) {
            let reply = EchoReply {
                from: Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]),
                sequence: u16::from_be_bytes([icmp[6], icmp[7]]),
            };
            return Ok(Some((reply, identifier)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A correct checksum makes the whole packet sum to 0xffff (checksum 0 over it).
    #[test]
    fn echo_request_checksum_verifies() {
        let packet = echo_request(7);
        assert_eq!(internet_checksum(&packet), 0);
        assert_eq!(&packet[4..8], &[0x5e, 0xed, 0, 7]);
    }
}
