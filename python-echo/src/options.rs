//! The other command-line values, each parsed once into a type that cannot be wrong:
//! a [`Ttl`], an [`Interface`] resolved to its index, and a reply timeout.

use std::ffi::CStr;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

/// A value given on the command line (or to a config) that cannot be used.
///
/// Each message names the bad value and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not an IP address.
    #[error("{0:?} is not an IP address (expected e.g. 224.3.29.71 or ff05::329:71)")]
    NotAnAddress(String),
    /// The address is a valid address but not a multicast group.
    #[error(
        "{0} is not a multicast group (expected an IPv4 address in 224.0.0.0/4 or an IPv6 address in ff00::/8)"
    )]
    NotMulticast(IpAddr),
    /// The TTL is not a number from 0 to 255.
    #[error("{0:?} is not a TTL (expected a whole number from 0 to 255)")]
    BadTtl(String),
    /// The timeout is not a positive number of seconds.
    #[error("{0:?} is not a timeout (expected a positive number of seconds, e.g. 0.2)")]
    BadTimeout(String),
    /// No interface has this name (or index) in this network namespace.
    #[error("no network interface named {0:?} here (see `ip link` for the names)")]
    NoSuchInterface(String),
}

/// Time-to-live of outgoing multicast: how many routers a datagram may cross.
///
/// The article's sender packs `1` into a single byte for `IP_MULTICAST_TTL`: 1 keeps the
/// datagram on the local segment, 0 keeps it on this host, up to 255 lets multicast
/// routers forward it that many times. For IPv6 the same number is the hop limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ttl(pub u8);

impl Default for Ttl {
    /// The article's TTL, 1: never past the first router.
    fn default() -> Self {
        Ttl(1)
    }
}

impl FromStr for Ttl {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim()
            .parse::<u8>()
            .map(Ttl)
            .map_err(|_| ParseError::BadTtl(text.to_string()))
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A network interface of this host, resolved from its name to the index the kernel uses.
///
/// The article always lets the kernel choose (`INADDR_ANY`); `--interface` pins the choice.
/// Resolution looks at the network namespace of the calling thread, so a test resolves an
/// interface inside the sandbox host it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    /// The name, e.g. `eth0`.
    pub name: String,
    /// The kernel's index for it (`if_nametoindex`).
    pub index: u32,
    /// Its first IPv4 address, if it has one. IPv4's `IP_MULTICAST_IF` names the outgoing
    /// interface by an address, as the article says of `IP_ADD_MEMBERSHIP`.
    pub ipv4: Option<Ipv4Addr>,
}

impl Interface {
    /// Looks up an interface by name, or by index when `name` is a number.
    pub fn resolve(name: &str) -> Result<Self, ParseError> {
        let missing = || ParseError::NoSuchInterface(name.to_string());
        let (name, index) = match name.parse::<u32>() {
            Ok(index) => {
                let cname = nix::net::if_::if_indextoname(index).map_err(|_| missing())?;
                let cname: &CStr = &cname;
                (cname.to_string_lossy().into_owned(), index)
            }
            Err(_) => {
                let index = nix::net::if_::if_nametoindex(name).map_err(|_| missing())?;
                (name.to_string(), index)
            }
        };
        let ipv4 = nix::ifaddrs::getifaddrs().ok().and_then(|addresses| {
            addresses
                .filter(|a| a.interface_name == name)
                .find_map(|a| a.address?.as_sockaddr_in().map(|s| s.ip()))
        });
        Ok(Interface { name, index, ipv4 })
    }
}

impl FromStr for Interface {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Interface::resolve(text)
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (index {})", self.name, self.index)
    }
}

/// The article's reply timeout: the sender gives up after 0.2 s without a reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);

/// Parses a timeout given in seconds (`0.2`, `1`, `1.5`); zero and negatives are refused,
/// since a zero socket timeout would mean "wait forever" to the kernel.
pub fn parse_timeout(text: &str) -> Result<Duration, ParseError> {
    let bad = || ParseError::BadTimeout(text.to_string());
    let seconds: f64 = text.trim().parse().map_err(|_| bad())?;
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TTL is one byte, like the article's `struct.pack('b', 1)`: 256 does not fit.
    #[test]
    fn ttl_must_fit_in_one_byte() {
        assert_eq!("1".parse::<Ttl>(), Ok(Ttl(1)));
        assert_eq!("255".parse::<Ttl>(), Ok(Ttl(255)));
        let error = "256".parse::<Ttl>().unwrap_err().to_string();
        assert!(
            error.contains("\"256\"") && error.contains("0 to 255"),
            "{error}"
        );
        assert!("-1".parse::<Ttl>().is_err());
    }

    /// The article's 0.2 s parses, and so does a whole number; zero would mean "forever".
    #[test]
    fn timeout_is_positive_seconds() {
        assert_eq!(parse_timeout("0.2"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_timeout("3"), Ok(Duration::from_secs(3)));
        for bad in ["0", "-1", "soon", "NaN", "inf", "1e-12"] {
            let error = parse_timeout(bad).unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
    }

    /// An interface name that does not exist is refused, naming it.
    #[test]
    fn unknown_interface_is_refused_by_name() {
        let error = Interface::resolve("no-such-if0").unwrap_err().to_string();
        assert!(error.contains("\"no-such-if0\""), "{error}");
    }

    /// `lo` exists in every namespace, has index 1 and the address 127.0.0.1.
    #[test]
    fn loopback_resolves_by_name_and_by_index() {
        let by_name = Interface::resolve("lo").unwrap();
        assert_eq!(by_name.index, 1);
        let by_index = Interface::resolve("1").unwrap();
        assert_eq!(by_index.name, "lo");
        assert_eq!(by_index.ipv4, by_name.ipv4);
    }
}
