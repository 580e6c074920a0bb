//! A multicast group and port, checked once at the edge.
//!
//! The C article hard-codes `224.16.17.8` in its `run.sh` and draws a random port between
//! 2001 and 10000 so that two runs never collide. [`Group`] keeps that pair as one value that
//! is known to be multicast, so nothing further down has to check again.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// The group the article's `run.sh` routes over `lo`: `224.16.17.8`.
pub const ARTICLE_GROUP: Ipv4Addr = Ipv4Addr::new(224, 16, 17, 8);

/// The IPv6 group this crate uses for its IPv6 trial (not in the article): `ff15::1:8`,
/// a transient group of site-local scope, so it can never be one somebody else relies on.
pub const IPV6_TRIAL_GROUP: Ipv6Addr = Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 1, 8);

/// The lowest port the article draws at random.
pub const FIRST_RANDOM_PORT: u16 = 2001;
/// The highest port the article draws at random.
pub const LAST_RANDOM_PORT: u16 = 10000;

/// A multicast group address with a UDP port; the address is checked to be multicast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Group(SocketAddr);

/// Why a string or address is not a usable [`Group`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GroupError {
    /// The address is a valid IP address, but not in 224.0.0.0/4 or ff00::/8.
    #[error("{0} is not a multicast address (expected 224.0.0.0/4 or ff00::/8)")]
    NotMulticast(IpAddr),
    /// The text is not `address:port` (IPv6 in brackets: `[ff15::1:8]:6666`).
    #[error(
        "`{0}` is not a group with a port (expected e.g. 224.16.17.8:6666 or [ff15::1:8]:6666)"
    )]
    Unparsable(String),
    /// Port 0 would let the kernel pick a port, which a receiver cannot guess.
    #[error("port 0 cannot be a group's port (expected 1..=65535)")]
    PortZero,
}

impl Group {
    /// Checks that `ip` is multicast and `port` is not zero.
    pub fn new(ip: IpAddr, port: u16) -> Result<Self, GroupError> {
        if !ip.is_multicast() {
            return Err(GroupError::NotMulticast(ip));
        }
        if port == 0 {
            return Err(GroupError::PortZero);
        }
        Ok(Group(SocketAddr::new(ip, port)))
    }

    /// The article's group `224.16.17.8` on `port`.
    pub fn article(port: u16) -> Result<Self, GroupError> {
        Group::new(ARTICLE_GROUP.into(), port)
    }

    /// The group address.
    pub fn ip(&self) -> IpAddr {
        self.0.ip()
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.0.port()
    }

    /// Address and port together, ready for `sendto(2)` or `connect(2)`.
    pub fn socket_addr(&self) -> SocketAddr {
        self.0
    }

    /// True for an IPv6 group.
    pub fn is_ipv6(&self) -> bool {
        self.0.is_ipv6()
    }

    /// The host route (`/32` or `/128`) that sends only this group somewhere, as `ip route`
    /// writes it: the article's `route add 224.16.17.8/32 ... dev lo`.
    pub fn host_route(&self) -> String {
        match self.ip() {
            IpAddr::V4(ip) => format!("{ip}/32"),
            IpAddr::V6(ip) => format!("{ip}/128"),
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Group {
    type Err = GroupError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let address: SocketAddr = text
            .parse()
            .map_err(|_| GroupError::Unparsable(text.to_string()))?;
        Group::new(address.ip(), address.port())
    }
}

/// A port drawn at random from 2001..=10000, the article's range. Randomness comes from the
/// standard library's hash seeds, which is plenty for "two runs do not collide".
pub fn random_port() -> u16 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    let span = u64::from(LAST_RANDOM_PORT - FIRST_RANDOM_PORT) + 1;
    FIRST_RANDOM_PORT + (hasher.finish() % span) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unicast address is refused with a message that names it.
    #[test]
    fn unicast_address_is_refused_by_name() {
        let error = "10.0.0.1:6666".parse::<Group>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "10.0.0.1 is not a multicast address (expected 224.0.0.0/4 or ff00::/8)"
        );
    }

    /// IPv6 groups are written in brackets and give a /128 host route.
    #[test]
    fn ipv6_group_parses_and_routes_as_128() {
        let group: Group = "[ff15::1:8]:6666".parse().unwrap();
        assert!(group.is_ipv6());
        assert_eq!(group.host_route(), "ff15::1:8/128");
        assert_eq!(Group::article(6666).unwrap().host_route(), "224.16.17.8/32");
    }

    /// Random ports stay inside the article's range.
    #[test]
    fn random_ports_stay_in_the_articles_range() {
        for _ in 0..1000 {
            let port = random_port();
            assert!(
                (FIRST_RANDOM_PORT..=LAST_RANDOM_PORT).contains(&port),
                "{port}"
            );
        }
    }
}
