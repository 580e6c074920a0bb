//! A tiny packet capture: UDP frames crossing one interface, in both directions.
//!
//! The article's WARNING suggests `tcpdump -i eth0 port 6666` to see where the connected
//! send went. [`Capture`] does that from inside the program with an `AF_PACKET` socket
//! bound to one interface: the kernel hands it a copy of every frame that interface sends
//! or receives, tagged with the direction. Only Ethernet + IPv4/IPv6 + UDP is decoded; IPv6
//! extension headers are not (the datagrams here have none).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Instant;

use crate::interface::Interface;

/// Which way a frame crossed the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Direction {
    /// Sent by this host through the interface (`PACKET_OUTGOING`).
    Outgoing,
    /// Received from the wire.
    Incoming,
}

/// A UDP datagram seen in a frame on the captured interface.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Sighting {
    /// The interface the capture is bound to.
    pub interface: Interface,
    /// Whether the frame was leaving or arriving.
    pub direction: Direction,
    /// Source address and port from the IP and UDP headers.
    pub source: SocketAddr,
    /// Destination address and port from the IP and UDP headers.
    pub destination: SocketAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

impl Sighting {
    /// The payload as text (invalid UTF-8 is replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// An `AF_PACKET` socket bound to one interface; ready (bound) when [`Capture::on`] returns.
#[derive(Debug)]
pub struct Capture {
    socket: OwnedFd,
    interface: Interface,
}

impl AsFd for Capture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Capture {
    /// Opens `socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)` and binds it to `interface`, so it sees
    /// that interface's frames only. Needs `CAP_NET_RAW` (root in the namespace).
    pub fn on(interface: &Interface) -> io::Result<Capture> {
        let protocol = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                i32::from(protocol),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let socket = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid start.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol;
        address.sll_ifindex = interface.index as i32;
        // SAFETY: the pointer and length describe `address`, which outlives the call.
        let bound = unsafe {
            libc::bind(
                socket.as_raw_fd(),
                (&raw const address).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if bound < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Capture {
            socket,
            interface: interface.clone(),
        })
    }

    /// The interface this capture watches.
    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// The next UDP datagram seen, or `None` if none shows up before `deadline`.
    /// Frames that are not UDP over IP are skipped.
    pub fn next_udp_before(&self, deadline: Instant) -> io::Result<Option<Sighting>> {
        loop {
            while let Some(frame) = self.try_frame()? {
                if let Some(sighting) = frame {
                    return Ok(Some(sighting));
                }
            }
            if !crate::wait_readable(&self.socket, deadline)? {
                return Ok(None);
            }
        }
    }

    /// Reads one queued frame: `None` when the queue is empty, `Some(None)` for a frame that
    /// is not UDP, `Some(Some(_))` for a UDP datagram.
    fn try_frame(&self) -> io::Result<Option<Option<Sighting>>> {
        let mut buffer = [0u8; 2048];
        // SAFETY: as above, sockaddr_ll is plain data.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut from_length = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: buffer and address pointers with their true lengths.
        let length = unsafe {
            libc::recvfrom(
                self.socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
                (&raw mut from).cast(),
                &mut from_length,
            )
        };
        if length < 0 {
            let error = io::Error::last_os_error();
            return match error.kind() {
                io::ErrorKind::WouldBlock => Ok(None),
                _ => Err(error),
            };
        }
        let direction = if from.sll_pkttype == libc::PACKET_OUTGOING {
            Direction::Outgoing
        } else {
            Direction::Incoming
        };
        Ok(Some(parse_udp(&buffer[..length as usize]).map(
            |(source, destination, ttl, payload)| Sighting {
                interface: self.interface.clone(),
                direction,
                source,
                destination,
                ttl,
                payload,
            },
        )))
    }
}

type Udp = (SocketAddr, SocketAddr, u8, Vec<u8>);

/// Decodes Ethernet + IPv4/IPv6 + UDP; `None` for anything else.
fn parse_udp(frame: &[u8]) -> Option<Udp> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(14..)?;
    let (source, destination, ttl, udp) = match ethertype {
        0x0800 => {
            let header_length = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 17 {
                return None;
            }
            let source: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let destination: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (
                IpAddr::from(Ipv4Addr::from(source)),
                IpAddr::from(Ipv4Addr::from(destination)),
                *ip.get(8)?,
                ip.get(header_length..)?,
            )
        }
        0x86dd => {
            if *ip.get(6)? != 17 {
                return None;
            }
            let source: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let destination: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (
                IpAddr::from(Ipv6Addr::from(source)),
                IpAddr::from(Ipv6Addr::from(destination)),
                *ip.get(7)?,
                ip.get(40..)?,
            )
        }
        _ => return None,
    };
    let port = |at: usize| Some(u16::from_be_bytes([*udp.get(at)?, *udp.get(at + 1)?]));
    let udp_length = usize::from(port(4)?);
    let payload = udp.get(8..udp_length.max(8))?.to_vec();
    Some((
        SocketAddr::new(source, port(0)?),
        SocketAddr::new(destination, port(2)?),
        ttl,
        payload,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made Ethernet/IPv4/UDP frame decodes to its addresses, TTL and payload, and
    /// trailing Ethernet padding is not taken for payload.
    #[test]
    fn ipv4_udp_frame_decodes_without_padding() {
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00]);
        frame.extend([
            0x45, 0, 0, 33, 0, 0, 0, 0, 1, 17, 0, 0, 10, 0, 0, 1, 224, 16, 17, 8,
        ]);
        frame.extend([0x1f, 0x90, 0x1a, 0x0a, 0, 14, 0, 0]);
        frame.extend(b"send()");
        frame.extend([0u8; 10]);
        let (source, destination, ttl, payload) = parse_udp(&frame).unwrap();
        assert_eq!(source, "10.0.0.1:8080".parse().unwrap());
        assert_eq!(destination, "224.16.17.8:6666".parse().unwrap());
        assert_eq!((ttl, payload.as_slice()), (1, &b"send()"[..]));
    }

    /// An ARP frame is not UDP.
    #[test]
    fn non_ip_frames_are_skipped() {
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x06]);
        frame.extend([0u8; 28]);
        assert_eq!(parse_udp(&frame), None);
    }
}
