//! Typed values at the edge: a multicast group, a TTL, an interface, and the
//! [`Config`] that bundles them.
//!
//! The Ruby scripts hard-code their addresses as strings (`MULTICAST_ADDR =
//! "224.0.0.1"`, `PORT = 3000`) and hand them to the socket as they are. A typo
//! such as `"224.0.0.1000"` or a unicast address only shows up when a datagram
//! silently goes nowhere. Here every string is parsed once, at the command line,
//! into a type that cannot be wrong afterwards: a [`Group`] is always a multicast
//! address with a port, an [`Interface`] is a name that resolved to a kernel
//! index, and a [`Config`] refuses a link-local IPv6 group without an interface.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::str::FromStr;

/// Why a value given on the command line (or to a constructor) was refused.
///
/// Every message names the bad value and what was expected instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not an IPv4 or IPv6 address.
    #[error("`{0}` is not an IP address (expected e.g. 224.0.0.1 or ff02::1)")]
    NotAnAddress(String),
    /// The address parsed but is not in a multicast range.
    #[error("{0} is not a multicast address (expected 224.0.0.0/4 for IPv4 or ff00::/8 for IPv6)")]
    NotMulticast(IpAddr),
    /// The text is not `ADDRESS:PORT` (or `[ADDRESS]:PORT` for IPv6).
    #[error("`{0}` is not ADDRESS:PORT (expected e.g. 224.6.8.11:6811 or [ff02::1]:6811)")]
    NotASocketAddress(String),
    /// A TTL outside 0..=255.
    #[error("`{0}` is not a TTL (expected a whole number from 0 to 255)")]
    BadTtl(String),
    /// No interface with that name exists in this network namespace.
    #[error("no network interface named `{0}` here (see `ip link` for the names)")]
    NoSuchInterface(String),
    /// An interface-local or link-local IPv6 group was given without `--interface`.
    #[error(
        "{0} is a link-local IPv6 group: it exists once per link, so say which link with --interface (e.g. --interface eth0)"
    )]
    NeedsInterface(IpAddr),
}

/// A multicast group and UDP port: where datagrams are sent and what receivers join.
///
/// Construction checks that the address is multicast (IPv4 `224.0.0.0/4`, IPv6
/// `ff00::/8`), so code holding a `Group` never has to check again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group {
    ip: IpAddr,
    port: u16,
}

impl Group {
    /// `send.rb` and `receive.rb`: the all-hosts group 224.0.0.1, port 3000.
    pub const SEND_RECEIVE: Group = Group {
        ip: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 1)),
        port: 3000,
    };

    /// The backchannel chat: 224.6.8.11, port 6811, as in the released code that
    /// real peers run (the article's prose says 224.6.1.88 and 6188; the wire wins).
    pub const BACKCHANNEL: Group = Group {
        ip: IpAddr::V4(Ipv4Addr::new(224, 6, 8, 11)),
        port: 6811,
    };

    /// A group from an address and a port; fails unless `ip` is multicast.
    pub fn new(ip: IpAddr, port: u16) -> Result<Group, ConfigError> {
        if ip.is_multicast() {
            Ok(Group { ip, port })
        } else {
            Err(ConfigError::NotMulticast(ip))
        }
    }

    /// Parses just the address part (`224.0.0.1`, `ff02::1`) and pairs it with `port`.
    pub fn parse_ip(text: &str, port: u16) -> Result<Group, ConfigError> {
        let ip = text
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| ConfigError::NotAnAddress(text.to_string()))?;
        Group::new(ip, port)
    }

    /// The group address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True for IPv6 groups whose scope is one interface or one link (`ff01::/16`,
    /// `ff02::/16`): the same address names a different group on every link, so
    /// sending or joining needs an interface.
    pub fn is_link_scoped(&self) -> bool {
        match self.ip {
            IpAddr::V4(_) => false,
            // The low nibble of the second byte is the scope (RFC 4291 section 2.7).
            IpAddr::V6(v6) => matches!(v6.octets()[1] & 0x0f, 1 | 2),
        }
    }

    /// The address to `sendto()`: for IPv6 it carries the interface as scope id.
    pub fn socket_addr(&self, interface: Option<&Interface>) -> SocketAddr {
        match self.ip {
            IpAddr::V4(v4) => SocketAddr::from((v4, self.port)),
            IpAddr::V6(v6) => {
                let scope = interface.map_or(0, |i| i.index());
                SocketAddr::V6(SocketAddrV6::new(v6, self.port, 0, scope))
            }
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SocketAddr::from((self.ip, self.port)).fmt(f)
    }
}

impl FromStr for Group {
    type Err = ConfigError;

    /// Parses `224.6.8.11:6811` or `[ff02::1]:6811`.
    fn from_str(text: &str) -> Result<Group, ConfigError> {
        let addr = text
            .trim()
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::NotASocketAddress(text.to_string()))?;
        Group::new(addr.ip(), addr.port())
    }
}

/// How many routers a datagram may cross: `IP_MULTICAST_TTL` for IPv4,
/// `IPV6_MULTICAST_HOPS` for IPv6.
///
/// The article sets 1, which keeps datagrams on the local network: the first
/// router decrements the TTL to 0 and drops them. 0 would keep them on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ttl(pub u8);

impl Ttl {
    /// The article's value: stay on the local network.
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
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Ttl, ConfigError> {
        text.trim()
            .parse::<u8>()
            .map(Ttl)
            .map_err(|_| ConfigError::BadTtl(text.to_string()))
    }
}

/// A network interface, resolved from its name to the kernel's index.
///
/// Resolution happens in the calling thread's network namespace, so resolve
/// the name where the socket will live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    name: String,
    index: u32,
}

impl Interface {
    /// Looks `name` up with `if_nametoindex(3)`.
    pub fn named(name: &str) -> Result<Interface, ConfigError> {
        let index = nix::net::if_::if_nametoindex(name)
            .map_err(|_| ConfigError::NoSuchInterface(name.to_string()))?;
        Ok(Interface {
            name: name.to_string(),
            index,
        })
    }

    /// Looks the name of interface `index` up with `if_indextoname(3)`;
    /// `None` if no interface has that index (any more).
    pub fn with_index(index: u32) -> Option<Interface> {
        let name = nix::net::if_::if_indextoname(index).ok()?;
        Some(Interface {
            name: name.to_string_lossy().into_owned(),
            index,
        })
    }

    /// The name, e.g. `eth0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kernel's index for the interface (what `ip link` prints first).
    pub fn index(&self) -> u32 {
        self.index
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Which address-reuse option lets several programs on one host bind the same port.
///
/// Without either, a second `receive` on the host fails with `EADDRINUSE`. On
/// Linux both options make every socket bound to the port get its own copy of
/// each multicast datagram (`SO_REUSEPORT`'s load balancing applies to unicast
/// only). They differ in who may share: `SO_REUSEPORT` only sockets of the same
/// user that all set it; `SO_REUSEADDR` any sockets that all set it. A socket
/// with only one of the two cannot share with a socket that has only the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reuse {
    /// `SO_REUSEADDR`, as the released backchannel gem sets.
    Address,
    /// `SO_REUSEPORT`, as the article's `receive.rb` and client set.
    Port,
    /// Both, so this program can share the port with either original.
    #[default]
    Both,
    /// Neither: the port belongs to the first program that binds it.
    Exclusive,
}

/// Where to send and what to join: everything `send`, `receive` and the chat
/// client need to set up a socket.
///
/// Built with [`Config::new`] (which checks that a link-scoped IPv6 group comes
/// with an interface) and adjusted with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    group: Group,
    interface: Option<Interface>,
    ttl: Ttl,
    reuse: Reuse,
}

impl Config {
    /// A config for `group`, optionally tied to one interface, with TTL 1 and
    /// both reuse options. Fails for `ff01::`/`ff02::` groups without an interface.
    pub fn new(group: Group, interface: Option<Interface>) -> Result<Config, ConfigError> {
        if group.is_link_scoped() && interface.is_none() {
            return Err(ConfigError::NeedsInterface(group.ip()));
        }
        Ok(Config {
            group,
            interface,
            ttl: Ttl::default(),
            reuse: Reuse::default(),
        })
    }

    /// `send.rb`/`receive.rb`'s defaults: 224.0.0.1:3000, TTL 1, any interface.
    pub fn send_receive() -> Config {
        Config::new(Group::SEND_RECEIVE, None).expect("an IPv4 group needs no interface")
    }

    /// The chat's defaults: 224.6.8.11:6811, TTL 1, any interface.
    pub fn backchannel() -> Config {
        Config::new(Group::BACKCHANNEL, None).expect("an IPv4 group needs no interface")
    }

    /// The same config with another TTL / hop limit.
    pub fn with_ttl(mut self, ttl: Ttl) -> Config {
        self.ttl = ttl;
        self
    }

    /// The same config with another address-reuse choice.
    pub fn with_reuse(mut self, reuse: Reuse) -> Config {
        self.reuse = reuse;
        self
    }

    /// The group (address and port).
    pub fn group(&self) -> Group {
        self.group
    }

    /// The interface to send from and join on, if one was chosen.
    pub fn interface(&self) -> Option<&Interface> {
        self.interface.as_ref()
    }

    /// The TTL (IPv4) or hop limit (IPv6) of sent datagrams.
    pub fn ttl(&self) -> Ttl {
        self.ttl
    }

    /// The address-reuse choice for receiving sockets.
    pub fn reuse(&self) -> Reuse {
        self.reuse
    }

    /// The address `sendto()` uses (with the interface as IPv6 scope id).
    pub fn destination(&self) -> SocketAddr {
        self.group.socket_addr(self.interface.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unicast address is refused with a message naming it and the ranges.
    #[test]
    fn unicast_addresses_are_not_groups() {
        let err = Group::parse_ip("10.0.0.1", 3000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "10.0.0.1 is not a multicast address (expected 224.0.0.0/4 for IPv4 or ff00::/8 for IPv6)"
        );
        assert!(Group::parse_ip("239.255.255.255", 1).is_ok());
        assert!(Group::parse_ip("240.0.0.1", 1).is_err());
    }

    /// Both spellings parse; a bracketed IPv6 group keeps its port.
    #[test]
    fn groups_parse_with_and_without_port() {
        let v6: Group = "[ff02::1]:6811".parse().unwrap();
        assert_eq!(v6.port(), 6811);
        assert!(v6.is_link_scoped());
        let site: Group = "[ff05::1]:6811".parse().unwrap();
        assert!(!site.is_link_scoped());
        assert_eq!(Group::BACKCHANNEL.to_string(), "224.6.8.11:6811");
        assert!(matches!(
            "224.0.0.1".parse::<Group>(),
            Err(ConfigError::NotASocketAddress(_))
        ));
    }

    /// ff02:: names a group per link, so a config without an interface is refused.
    #[test]
    fn link_local_ipv6_groups_need_an_interface() {
        let group = Group::parse_ip("ff02::1", 3000).unwrap();
        let err = Config::new(group, None).unwrap_err();
        assert!(err.to_string().contains("--interface"), "{err}");
        let lo = Interface::named("lo").unwrap();
        let config = Config::new(group, Some(lo.clone())).unwrap();
        match config.destination() {
            SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), lo.index()),
            other => panic!("expected IPv6, got {other}"),
        }
    }

    /// TTLs are bytes: 256 is refused, 0 is allowed.
    #[test]
    fn ttls_are_bytes() {
        assert_eq!("0".parse::<Ttl>(), Ok(Ttl(0)));
        assert!(
            "256"
                .parse::<Ttl>()
                .unwrap_err()
                .to_string()
                .contains("0 to 255")
        );
    }

    /// A name that does not exist is reported by name.
    #[test]
    fn unknown_interfaces_are_named_in_the_error() {
        let err = Interface::named("nosuch0").unwrap_err();
        assert!(err.to_string().contains("`nosuch0`"), "{err}");
    }
}
