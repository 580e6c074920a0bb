//! A multicast group and port, checked once when parsed.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::Error;

/// A multicast group address with a UDP port: `224.6.8.11:6811` or `[ff02::123]:7645`.
///
/// Constructing one checks that the address really is multicast (IPv4 224.0.0.0/4, IPv6
/// ff00::/8), so code that holds a `Group` never has to check again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Group {
    addr: SocketAddr,
}

impl Group {
    /// A group from an address and a port; fails if `ip` is not a multicast address.
    pub fn new(ip: IpAddr, port: u16) -> crate::Result<Group> {
        if !ip.is_multicast() {
            return Err(Error::Invalid(format!(
                "{ip} is not a multicast address (expected 224.0.0.0/4 or ff00::/8)"
            )));
        }
        Ok(Group {
            addr: SocketAddr::new(ip, port),
        })
    }

    /// Parses `ADDRESS:PORT` (IPv6 in brackets: `[ff02::1]:3000`).
    pub fn parse(text: &str) -> crate::Result<Group> {
        let addr: SocketAddr = text.parse().map_err(|_| {
            Error::Invalid(format!(
                "{text:?} is not a group and port (expected e.g. 224.6.8.11:6811 or [ff02::123]:7645)"
            ))
        })?;
        Group::new(addr.ip(), addr.port())
    }

    /// The group address.
    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Group and port as a socket address, ready for `sendto`.
    pub fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    /// True for an IPv6 group.
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The same group on another port.
    pub fn with_port(&self, port: u16) -> Group {
        Group {
            addr: SocketAddr::new(self.addr.ip(), port),
        }
    }
}

impl FromStr for Group {
    type Err = Error;
    fn from_str(s: &str) -> crate::Result<Group> {
        Group::parse(s)
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unicast addresses are refused with a message naming the value.
    #[test]
    fn unicast_address_is_refused_by_name() {
        let err = Group::parse("10.0.0.1:5000").unwrap_err().to_string();
        assert!(err.contains("10.0.0.1 is not a multicast address"), "{err}");
    }

    /// Both families parse, IPv6 in brackets.
    #[test]
    fn both_families_parse() {
        assert_eq!(Group::parse("224.6.8.11:6811").unwrap().port(), 6811);
        assert!(Group::parse("[ff02::123]:7645").unwrap().is_ipv6());
        assert!(Group::parse("ff02::123").is_err());
    }
}
