//! What the harness's own tests share: a plain multicast sender and a unicast receive.
// Each test binary includes this module and uses part of it.
#![allow(dead_code)]

use std::net::{IpAddr, UdpSocket};
use std::time::Duration;

use harness::Group;
use socket2::{Domain, Socket, Type};

/// Sends `payload` to `group` from a fresh socket with the given TTL (hop limit for IPv6),
/// in whatever namespace the calling thread is in.
pub(crate) fn send(group: Group, payload: &[u8], ttl: u32) {
    let domain = if group.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, None).unwrap();
    if group.is_ipv6() {
        socket.set_multicast_hops_v6(ttl).unwrap();
    } else {
        socket.set_multicast_ttl_v4(ttl).unwrap();
    }
    socket
        .send_to(payload, &group.socket_addr().into())
        .unwrap();
}

/// The next datagram on `socket` (waiting at most `deadline`): its bytes and its sender's
/// address.
pub(crate) fn receive(socket: &UdpSocket, deadline: Duration) -> (Vec<u8>, IpAddr) {
    socket.set_read_timeout(Some(deadline)).unwrap();
    let mut buffer = [0u8; 1500];
    let (n, from) = socket.recv_from(&mut buffer).unwrap();
    (buffer[..n].to_vec(), from.ip())
}
