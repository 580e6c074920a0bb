//! Frames as an `AF_PACKET` socket hands them over: Ethernet, then IPv4 or IPv6, then UDP.
//!
//! A listener proves a datagram arrived; a capture proves which way it crossed an interface
//! and what its IP header said (the TTL as it left, the source the kernel picked). Captures
//! on `lo` carry an all-zero Ethernet header, so one parser reads both. IPv6 extension
//! headers and IPv4 fragments after the first are not decoded: nothing here sends them.
//!
//! Frames are input from the network: [`udp`] never panics on any bytes, and says why it
//! refused a frame ([`FrameError`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which way a frame crossed the captured interface (from `sll_pkttype`, see `packet(7)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received by this interface (`PACKET_HOST`, `PACKET_MULTICAST`, ...).
    Incoming,
    /// Sent out of this interface (`PACKET_OUTGOING`).
    Outgoing,
}

impl Direction {
    /// The direction for a `sockaddr_ll`'s `sll_pkttype`.
    pub fn from_packet_type(packet_type: u8) -> Direction {
        if packet_type == libc::PACKET_OUTGOING {
            Direction::Outgoing
        } else {
            Direction::Incoming
        }
    }
}

/// Why a frame is not a UDP datagram this parser can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame ends inside a header: `needed` bytes were needed, `had` were captured.
    #[error("frame cut inside its headers ({had} bytes captured, {needed} needed)")]
    Truncated {
        /// Bytes the headers need.
        needed: usize,
        /// Bytes the frame has.
        had: usize,
    },
    /// An Ethernet frame carrying something else than IP (ARP, for instance).
    #[error("not an IP frame (ethertype {0:#06x})")]
    NotIp(u16),
    /// An IP packet carrying something else than UDP (IGMP, ICMP, ...), or an IPv4 fragment
    /// after the first, which has no UDP header.
    #[error("not a UDP datagram (IP protocol {0})")]
    NotUdp(u8),
    /// A header field that cannot be true: an IPv4 header under 20 bytes, a UDP length under 8.
    #[error("malformed {0} header")]
    Malformed(&'static str),
}

/// A UDP datagram read out of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpFrame {
    /// Sender address and port.
    pub source: SocketAddr,
    /// Destination address (the group) and port.
    pub destination: SocketAddr,
    /// The TTL or hop limit in the IP header as the frame crossed.
    pub ttl: u8,
    /// The UDP payload as captured.
    pub payload: Vec<u8>,
    /// True when the capture holds less payload than the UDP header announces (a short
    /// snapshot length): `payload` is then what was captured. Ethernet padding beyond the
    /// announced length is never taken for payload.
    pub truncated: bool,
}

const ETHERNET: usize = 14;
const UDP: u8 = 17;

/// Decodes an Ethernet frame (as `AF_PACKET` with `SOCK_RAW` gives it) carrying UDP.
pub fn udp(frame: &[u8]) -> Result<UdpFrame, FrameError> {
    let ethertype = u16::from_be_bytes([byte(frame, 12)?, byte(frame, 13)?]);
    let packet = &frame[ETHERNET..];
    match ethertype {
        0x0800 => ipv4(packet).map_err(|e| shift(e, ETHERNET)),
        0x86dd => ipv6(packet).map_err(|e| shift(e, ETHERNET)),
        other => Err(FrameError::NotIp(other)),
    }
}

/// Decodes an IP packet (no link-layer header) carrying UDP.
pub fn udp_in_ip(packet: &[u8]) -> Result<UdpFrame, FrameError> {
    match byte(packet, 0)? >> 4 {
        4 => ipv4(packet),
        6 => ipv6(packet),
        _ => Err(FrameError::Malformed("IP version")),
    }
}

fn ipv4(ip: &[u8]) -> Result<UdpFrame, FrameError> {
    let header = usize::from(byte(ip, 0)? & 0x0f) * 4;
    if header < 20 {
        return Err(FrameError::Malformed("IPv4"));
    }
    need(ip, header)?;
    let protocol = ip[9];
    let fragment_offset = u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff;
    if protocol != UDP || fragment_offset != 0 {
        return Err(FrameError::NotUdp(protocol));
    }
    let source = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let destination = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    datagram(ip, header, source.into(), destination.into(), ip[8])
}

fn ipv6(ip: &[u8]) -> Result<UdpFrame, FrameError> {
    need(ip, 40)?;
    if ip[6] != UDP {
        return Err(FrameError::NotUdp(ip[6]));
    }
    let address = |at: usize| {
        let octets: [u8; 16] = ip[at..at + 16].try_into().expect("16 bytes");
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    datagram(ip, 40, address(8), address(24), ip[7])
}

fn datagram(
    ip: &[u8],
    at: usize,
    source: IpAddr,
    destination: IpAddr,
    ttl: u8,
) -> Result<UdpFrame, FrameError> {
    need(ip, at + 8).map_err(|e| shift(e, 0))?;
    let udp = &ip[at..];
    let field = |i: usize| u16::from_be_bytes([udp[i], udp[i + 1]]);
    let announced = usize::from(field(4));
    if announced < 8 {
        return Err(FrameError::Malformed("UDP"));
    }
    let end = announced.min(udp.len());
    Ok(UdpFrame {
        source: SocketAddr::new(source, field(0)),
        destination: SocketAddr::new(destination, field(2)),
        ttl,
        payload: udp[8..end].to_vec(),
        truncated: end < announced,
    })
}

fn byte(bytes: &[u8], at: usize) -> Result<u8, FrameError> {
    bytes.get(at).copied().ok_or(FrameError::Truncated {
        needed: at + 1,
        had: bytes.len(),
    })
}

fn need(bytes: &[u8], length: usize) -> Result<(), FrameError> {
    if bytes.len() < length {
        Err(FrameError::Truncated {
            needed: length,
            had: bytes.len(),
        })
    } else {
        Ok(())
    }
}

/// Reports a truncation in terms of the whole frame, not the part a helper saw.
fn shift(error: FrameError, offset: usize) -> FrameError {
    match error {
        FrameError::Truncated { needed, had } => FrameError::Truncated {
            needed: needed + offset,
            had: had + offset,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_frame(payload: &[u8], padding: usize) -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00]);
        let total = (20 + 8 + payload.len()) as u16;
        frame.extend([0x45, 0]);
        frame.extend(total.to_be_bytes());
        frame.extend([0, 0, 0, 0, 1, 17, 0, 0, 10, 0, 0, 1, 224, 16, 17, 8]);
        frame.extend(8080u16.to_be_bytes());
        frame.extend(6666u16.to_be_bytes());
        frame.extend((8 + payload.len() as u16).to_be_bytes());
        frame.extend([0, 0]);
        frame.extend(payload);
        frame.extend(vec![0u8; padding]);
        frame
    }

    /// Addresses, ports, TTL and payload come out; Ethernet padding is not payload.
    #[test]
    fn ipv4_frame_decodes_without_its_padding() {
        let got = udp(&ipv4_frame(b"send()", 10)).unwrap();
        assert_eq!(got.source, "10.0.0.1:8080".parse().unwrap());
        assert_eq!(got.destination, "224.16.17.8:6666".parse().unwrap());
        assert_eq!(
            (got.ttl, got.payload.as_slice(), got.truncated),
            (1, &b"send()"[..], false)
        );
    }

    /// The truncation rule, pinned: a frame cut inside its payload gives what was captured,
    /// marked truncated; a frame cut inside its headers is refused with both lengths.
    #[test]
    fn truncated_frames_keep_what_was_captured() {
        let frame = ipv4_frame(b"0123456789", 0);
        let cut = udp(&frame[..frame.len() - 4]).unwrap();
        assert_eq!(
            (cut.payload.as_slice(), cut.truncated),
            (&b"012345"[..], true)
        );
        assert_eq!(
            udp(&frame[..14 + 20 + 4]),
            Err(FrameError::Truncated {
                needed: 42,
                had: 38
            })
        );
        assert_eq!(
            udp(&frame[..10]),
            Err(FrameError::Truncated {
                needed: 13,
                had: 10
            })
        );
    }

    /// ARP is not IP; IGMP is not UDP; an IPv6 UDP packet without link layer decodes.
    #[test]
    fn other_protocols_are_named() {
        let mut arp = vec![0u8; 12];
        arp.extend([0x08, 0x06]);
        assert_eq!(udp(&arp), Err(FrameError::NotIp(0x0806)));
        let mut igmp = ipv4_frame(b"", 0);
        igmp[14 + 9] = 2;
        assert_eq!(udp(&igmp), Err(FrameError::NotUdp(2)));
        let mut v6 = vec![0x60, 0, 0, 0, 0, 10, 17, 3];
        v6.extend(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1).octets());
        v6.extend(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x123).octets());
        v6.extend([0x1d, 0xdd, 0x1d, 0xdd, 0, 10, 0, 0, b'h', b'i']);
        let got = udp_in_ip(&v6).unwrap();
        assert_eq!(got.destination, "[ff02::123]:7645".parse().unwrap());
        assert_eq!((got.ttl, got.payload.as_slice()), (3, &b"hi"[..]));
    }

    proptest::proptest! {
        /// Any bytes at all: the parser answers, never panics.
        #[test]
        fn no_bytes_make_the_parser_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = udp(&bytes);
            let _ = udp_in_ip(&bytes);
        }

        /// Any cut of a valid frame is either refused as truncated or decoded with a payload
        /// that is a prefix of the real one.
        #[test]
        fn every_cut_of_a_frame_is_a_prefix_or_refused(cut in 0usize..60) {
            let frame = ipv4_frame(b"0123456789", 0);
            match udp(&frame[..cut.min(frame.len())]) {
                Ok(got) => proptest::prop_assert!(b"0123456789".starts_with(&got.payload)),
                Err(error) => {
                    let truncated = matches!(error, FrameError::Truncated { .. });
                    proptest::prop_assert!(truncated, "{}", error);
                }
            }
        }
    }
}
