//! A multicast group and port, checked once so that nothing downstream has to.
//!
//! The diary asserts `addr.is_multicast()` at the top of its test; here the check moves
//! into a type. A [`Group`] can only be built from a multicast address, so a function
//! that takes one never needs to ask again.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::addresses::{IPV4, IPV6, PORT};

/// Why a text or an address is not a [`Group`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// The text is not an `address:port` pair.
    #[error("`{0}` is not an address and port: expected e.g. 224.0.0.123:7645 or [ff02::123]:7645")]
    Syntax(String),
    /// The address is fine but not in 224.0.0.0/4 or ff00::/8.
    #[error("{0} is not a multicast address: expected one in 224.0.0.0/4 or ff00::/8")]
    NotMulticast(IpAddr),
}

/// A multicast address and a UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group(SocketAddr);

impl Group {
    /// Pairs `ip` with `port`, refusing an `ip` that is not multicast.
    pub fn new(ip: IpAddr, port: u16) -> Result<Self, GroupError> {
        if ip.is_multicast() {
            Ok(Self(SocketAddr::new(ip, port)))
        } else {
            Err(GroupError::NotMulticast(ip))
        }
    }

    /// The diary's IPv4 group and port, `224.0.0.123:7645`.
    pub fn diary_v4() -> Self {
        Self(SocketAddr::new(*IPV4, PORT))
    }

    /// The diary's IPv6 group and port, `[ff02::123]:7645`.
    pub fn diary_v6() -> Self {
        Self(SocketAddr::new(*IPV6, PORT))
    }

    /// The group address.
    pub fn ip(&self) -> IpAddr {
        self.0.ip()
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.0.port()
    }

    /// Address and port together, as a destination for `send_to`.
    pub fn socket_addr(&self) -> SocketAddr {
        self.0
    }

    /// Whether this is an IPv6 group.
    pub fn is_ipv6(&self) -> bool {
        self.0.is_ipv6()
    }

    /// The same group on another port.
    pub fn with_port(&self, port: u16) -> Self {
        Self(SocketAddr::new(self.ip(), port))
    }
}

impl FromStr for Group {
    type Err = GroupError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let addr: SocketAddr = text
            .parse()
            .map_err(|_| GroupError::Syntax(text.to_owned()))?;
        Self::new(addr.ip(), addr.port())
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both diary groups parse from their usual spelling.
    #[test]
    fn diary_groups_parse_from_text() {
        assert_eq!("224.0.0.123:7645".parse(), Ok(Group::diary_v4()));
        assert_eq!("[ff02::123]:7645".parse(), Ok(Group::diary_v6()));
    }

    /// A unicast address is refused, and the error names it and the expected ranges.
    #[test]
    fn unicast_address_is_not_a_group() {
        let err = "10.0.0.1:7645".parse::<Group>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "10.0.0.1 is not a multicast address: expected one in 224.0.0.0/4 or ff00::/8"
        );
    }

    /// A missing port is a syntax error that quotes the text.
    #[test]
    fn group_without_port_is_a_syntax_error() {
        let err = "224.0.0.123".parse::<Group>().unwrap_err();
        assert_eq!(err, GroupError::Syntax("224.0.0.123".into()));
        assert!(err.to_string().contains("`224.0.0.123`"));
    }
}
