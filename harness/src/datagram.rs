//! What a listener records about each datagram: the evidence a test asserts on.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use mcast_vocab::Interface;

/// One received datagram and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Datagram {
    /// The bytes, cut to the listener's buffer when [`Datagram::truncated`].
    pub payload: Vec<u8>,
    /// The sender's address and port.
    pub source: SocketAddr,
    /// The destination address in the IP header (`IP_PKTINFO` / `IPV6_PKTINFO`): the group.
    pub destination: IpAddr,
    /// The interface the datagram arrived on (`ipi_ifindex` / `ipi6_ifindex`).
    pub interface: Interface,
    /// The IP TTL or IPv6 hop limit it arrived with (`IP_RECVTTL` / `IPV6_RECVHOPLIMIT`).
    pub ttl: Option<u8>,
    /// True when the datagram was longer than the buffer (`MSG_TRUNC`).
    pub truncated: bool,
    /// When it arrived: filled by the kernel at arrival (`SO_TIMESTAMPNS`), before the
    /// listener's thread ran, so gaps between datagrams are the gaps on the wire. (Only a
    /// datagram that arrives while the kernel is still switching stamping on, just after the
    /// first socket on the machine asked, carries the time it was read instead.)
    pub received_at: SystemTime,
}

impl Datagram {
    /// The payload as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

impl fmt::Display for Datagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ttl = self.ttl.map_or("?".to_string(), |t| t.to_string());
        let mut text: String = self.text().chars().take(60).collect();
        text = text.escape_debug().to_string();
        write!(
            f,
            "{} bytes from {} to {} on {} (index {}), ttl {ttl}{}: \"{text}\"",
            self.payload.len(),
            self.source,
            self.destination,
            self.interface.name,
            self.interface.index,
            if self.truncated { ", truncated" } else { "" },
        )
    }
}
