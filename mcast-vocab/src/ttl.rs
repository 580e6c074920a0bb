//! How far a multicast datagram may travel: the IPv4 TTL or the IPv6 hop limit.

use std::fmt;
use std::str::FromStr;

/// Why a text is not a [`Ttl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a TTL (expected a whole number from 0 to 255)")]
#[non_exhaustive]
pub struct TtlError(pub String);

/// How many routers a datagram may cross: `IP_MULTICAST_TTL` for IPv4, `IPV6_MULTICAST_HOPS`
/// for IPv6. Each router takes one off and drops the datagram at 0, so 1 (the default, and
/// every article's value) keeps it on the local network and 0 keeps it on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ttl(pub u8);

impl Ttl {
    /// Stay on the local network: no router forwards it.
    pub const LOCAL_NETWORK: Ttl = Ttl(1);
}

impl Default for Ttl {
    fn default() -> Ttl {
        Ttl::LOCAL_NETWORK
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Ttl {
    type Err = TtlError;

    fn from_str(text: &str) -> Result<Ttl, TtlError> {
        text.trim()
            .parse::<u8>()
            .map(Ttl)
            .map_err(|_| TtlError(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TTL is a byte: 0 and 255 parse, 256 and -1 are refused by value.
    #[test]
    fn ttls_are_bytes() {
        assert_eq!("0".parse(), Ok(Ttl(0)));
        assert_eq!("255".parse(), Ok(Ttl(255)));
        let error = "256".parse::<Ttl>().unwrap_err().to_string();
        assert_eq!(
            error,
            "`256` is not a TTL (expected a whole number from 0 to 255)"
        );
        assert!("-1".parse::<Ttl>().is_err());
        assert_eq!(Ttl::default(), Ttl(1));
    }
}
