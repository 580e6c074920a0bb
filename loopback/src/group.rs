//! The article's group and port: `224.16.17.8` on a random port between 2001 and 10000.
//!
//! The C article hard-codes `224.16.17.8` in its `run.sh` and draws a random port so that
//! two runs never collide. A [`Group`] (from `mcast-vocab`) keeps the pair as one value that
//! is known to be multicast, so nothing further down has to check again.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mcast_vocab::{Group, GroupError};

/// The group the article's `run.sh` routes over `lo`: `224.16.17.8`.
const ARTICLE_GROUP: Ipv4Addr = Ipv4Addr::new(224, 16, 17, 8);

/// The IPv6 group this crate uses for its IPv6 trial (not in the article): `ff15::1:8`,
/// a transient group of site-local scope, so it can never be one somebody else relies on.
const IPV6_TRIAL_GROUP: Ipv6Addr = Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 1, 8);

/// The lowest port the article draws at random.
const FIRST_RANDOM_PORT: u16 = 2001;
/// The highest port the article draws at random.
const LAST_RANDOM_PORT: u16 = 10000;

/// The article's group `224.16.17.8` on `port` (refused only for port 0).
pub fn article(port: u16) -> Result<Group, GroupError> {
    Group::new(ARTICLE_GROUP.into(), port)
}

/// The IPv6 trial group `ff15::1:8` on `port` (refused only for port 0).
pub fn ipv6_trial(port: u16) -> Result<Group, GroupError> {
    Group::new(IPV6_TRIAL_GROUP.into(), port)
}

/// The host route (`/32` or `/128`) that sends only this group somewhere, as `ip route`
/// writes it: the article's `route add 224.16.17.8/32 ... dev lo`.
pub fn host_route(group: &Group) -> String {
    match group.ip() {
        IpAddr::V4(ip) => format!("{ip}/32"),
        IpAddr::V6(ip) => format!("{ip}/128"),
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

    /// IPv4 groups route as /32, IPv6 groups as /128, as `ip route` writes them.
    #[test]
    fn host_routes_are_32_for_ipv4_and_128_for_ipv6() {
        assert_eq!(host_route(&article(6666).unwrap()), "224.16.17.8/32");
        assert_eq!(host_route(&ipv6_trial(6666).unwrap()), "ff15::1:8/128");
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
