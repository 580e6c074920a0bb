//! A multicast group and UDP port, checked once where it enters the program.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::str::FromStr;

use crate::Interface;

/// Why a text or an address is not a [`Group`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The text is not `ADDRESS:PORT` (IPv6 in brackets).
    #[error("`{0}` is not ADDRESS:PORT (expected e.g. 224.6.8.11:6811 or [ff02::123]:7645)")]
    NotAddressAndPort(String),
    /// The text is not an IP address at all.
    #[error("`{0}` is not an IP address (expected e.g. 224.3.29.71 or ff05::329:71)")]
    NotAnAddress(String),
    /// The address is valid but outside 224.0.0.0/4 and ff00::/8.
    #[error("{0} is not a multicast address (expected 224.0.0.0/4 or ff00::/8)")]
    NotMulticast(IpAddr),
    /// An IPv6 group whose scope field is 0, which RFC 4291 reserves: no node may send to it.
    #[error(
        "{0} has the reserved IPv6 multicast scope 0 (expected a scope from 1 to f, e.g. ff02:: or ff05::)"
    )]
    ReservedScope(Ipv6Addr),
    /// Port 0 means "any port" to `bind` and is refused by `sendto`: no group lives there.
    #[error("port 0 cannot be a group's port (expected 1 to 65535)")]
    PortZero,
    /// An interface- or link-local IPv6 group was used without saying which interface.
    #[error(
        "{0} is a {scope} IPv6 group: it exists once per link, so it needs an interface (e.g. --interface eth0)",
        scope = Scope::of(*.0).map_or("scoped", Scope::name)
    )]
    NeedsInterface(Ipv6Addr),
}

/// The scope of an IPv6 multicast group: the low four bits of its second byte (RFC 4291
/// section 2.7, RFC 7346). It says how far the group reaches, and so whether an address alone
/// names it: an interface- or link-local group exists once per link and needs an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// 1, `ff01::`: never leaves the interface (loopback of multicast).
    InterfaceLocal,
    /// 2, `ff02::`: one link; routers never forward it.
    LinkLocal,
    /// 3, `ff03::`: realm-local (RFC 7346).
    RealmLocal,
    /// 4, `ff04::`: admin-local, the smallest scope configured by administrators.
    AdminLocal,
    /// 5, `ff05::`: one site.
    SiteLocal,
    /// 8, `ff08::`: one organisation.
    OrganizationLocal,
    /// e, `ff0e::`: the whole Internet.
    Global,
    /// 6, 7, 9 to d: unassigned scopes, still valid on the wire; f is reserved but usable.
    Other(u8),
}

impl Scope {
    /// The scope of `address`, or `None` if it is not multicast or has the reserved scope 0.
    pub fn of(address: Ipv6Addr) -> Option<Scope> {
        if !address.is_multicast() {
            return None;
        }
        Some(match address.octets()[1] & 0x0f {
            0 => return None,
            1 => Scope::InterfaceLocal,
            2 => Scope::LinkLocal,
            3 => Scope::RealmLocal,
            4 => Scope::AdminLocal,
            5 => Scope::SiteLocal,
            8 => Scope::OrganizationLocal,
            0xe => Scope::Global,
            other => Scope::Other(other),
        })
    }

    /// True for the scopes that exist once per link (interface- and link-local): a socket
    /// address for such a group is only complete with an interface as its scope id.
    pub fn needs_interface(self) -> bool {
        matches!(self, Scope::InterfaceLocal | Scope::LinkLocal)
    }

    /// A reader's name for the scope, e.g. `link-local`.
    pub fn name(self) -> &'static str {
        match self {
            Scope::InterfaceLocal => "interface-local",
            Scope::LinkLocal => "link-local",
            Scope::RealmLocal => "realm-local",
            Scope::AdminLocal => "admin-local",
            Scope::SiteLocal => "site-local",
            Scope::OrganizationLocal => "organization-local",
            Scope::Global => "global",
            Scope::Other(_) => "unassigned-scope",
        }
    }
}

/// A multicast group address with a UDP port: `224.6.8.11:6811` or `[ff02::123]:7645`.
///
/// Building one checks that the address is multicast (IPv4 `224.0.0.0/4`, IPv6 `ff00::/8`
/// with a scope other than the reserved 0) and that the port is not 0, so code that holds a
/// `Group` never checks again. The group carries no interface: for an interface- or
/// link-local IPv6 group, [`Group::socket_addr_on`] adds one as the scope id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group {
    ip: IpAddr,
    port: u16,
}

impl Group {
    /// An IPv4 group for a constant, such as an article's default. Checked like
    /// [`Group::new`], but at compile time when used in a `const`: a wrong constant does not
    /// build. Outside a `const` it panics, so parse run-time input with [`Group::new`].
    pub const fn ipv4(ip: std::net::Ipv4Addr, port: u16) -> Group {
        assert!(ip.is_multicast(), "not a multicast address");
        assert!(port != 0, "port 0 is not a group's port");
        Group {
            ip: IpAddr::V4(ip),
            port,
        }
    }

    /// A group from an address and a port; fails unless `ip` is a usable multicast address
    /// and `port` is not 0.
    pub fn new(ip: IpAddr, port: u16) -> Result<Group, GroupError> {
        Group::check_ip(ip)?;
        if port == 0 {
            return Err(GroupError::PortZero);
        }
        Ok(Group { ip, port })
    }

    /// Parses `ADDRESS:PORT`: `224.6.8.11:6811` or `[ff02::123]:7645` (the same as
    /// `text.parse::<Group>()`).
    pub fn parse(text: &str) -> Result<Group, GroupError> {
        let address: SocketAddr = text
            .trim()
            .parse()
            .map_err(|_| GroupError::NotAddressAndPort(text.to_string()))?;
        Group::new(address.ip(), address.port())
    }

    /// Parses just an address (`224.3.29.71`, `ff05::329:71` or `[ff05::329:71]`) and pairs
    /// it with `port`: for programs that take `--group` and `--port` apart.
    pub fn parse_address(text: &str, port: u16) -> Result<Group, GroupError> {
        Group::new(Group::check_address(text)?, port)
    }

    /// Parses and checks just a group's address, with no port yet: what a command line's
    /// `--group` option is checked with while it is parsed, before `--port` is known.
    pub fn check_address(text: &str) -> Result<IpAddr, GroupError> {
        let trimmed = text.trim();
        let bare = trimmed
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(trimmed);
        let ip = bare
            .parse::<IpAddr>()
            .map_err(|_| GroupError::NotAnAddress(text.to_string()))?;
        Group::check_ip(ip)?;
        Ok(ip)
    }

    /// Whether `ip` can be a group: multicast, and for IPv6 of a scope that is not reserved.
    fn check_ip(ip: IpAddr) -> Result<(), GroupError> {
        match ip {
            IpAddr::V4(v4) if !v4.is_multicast() => Err(GroupError::NotMulticast(ip)),
            IpAddr::V6(v6) if !v6.is_multicast() => Err(GroupError::NotMulticast(ip)),
            IpAddr::V6(v6) if Scope::of(v6).is_none() => Err(GroupError::ReservedScope(v6)),
            _ => Ok(()),
        }
    }

    /// The group address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True for an IPv6 group.
    pub fn is_ipv6(&self) -> bool {
        self.ip.is_ipv6()
    }

    /// The IPv6 scope; `None` for IPv4.
    pub fn scope(&self) -> Option<Scope> {
        match self.ip {
            IpAddr::V4(_) => None,
            IpAddr::V6(v6) => Scope::of(v6),
        }
    }

    /// True when the group exists once per link (IPv6 `ff01::`, `ff02::`), so sending to it,
    /// binding it or joining it needs an interface.
    pub fn needs_interface(&self) -> bool {
        self.scope().is_some_and(Scope::needs_interface)
    }

    /// Checks that an interface comes along where the group needs one.
    pub fn check_interface(&self, interface: Option<&Interface>) -> Result<(), GroupError> {
        match (self.ip, interface) {
            (IpAddr::V6(v6), None) if self.needs_interface() => Err(GroupError::NeedsInterface(v6)),
            _ => Ok(()),
        }
    }

    /// Group and port as a socket address with no interface (scope id 0).
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// Group and port as a socket address for `sendto` or `bind`. For an IPv6 group that
    /// [needs an interface](Group::needs_interface), `interface` becomes the scope id; for
    /// any other group the scope id stays 0, since the kernel ignores it there.
    pub fn socket_addr_on(&self, interface: Option<&Interface>) -> SocketAddr {
        match self.ip {
            IpAddr::V4(_) => self.socket_addr(),
            IpAddr::V6(v6) => {
                let scope_id = match interface {
                    Some(interface) if self.needs_interface() => interface.index,
                    _ => 0,
                };
                SocketAddr::V6(SocketAddrV6::new(v6, self.port, 0, scope_id))
            }
        }
    }
}

impl FromStr for Group {
    type Err = GroupError;

    /// Parses `ADDRESS:PORT`, see [`Group::parse`].
    fn from_str(text: &str) -> Result<Group, GroupError> {
        Group::parse(text)
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.socket_addr().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(text: &str) -> Result<Group, GroupError> {
        text.parse()
    }

    /// Both families parse from `ADDRESS:PORT`; IPv6 needs brackets.
    #[test]
    fn both_families_parse_with_a_port() {
        assert_eq!(group("224.6.8.11:6811").unwrap().port(), 6811);
        assert!(group("[ff02::123]:7645").unwrap().is_ipv6());
        assert_eq!(
            group("ff02::123"),
            Err(GroupError::NotAddressAndPort("ff02::123".into()))
        );
        assert_eq!(
            group(" 224.0.0.1:3000 ").unwrap().to_string(),
            "224.0.0.1:3000"
        );
    }

    /// A unicast address is refused, and the message names it and the ranges.
    #[test]
    fn unicast_addresses_are_refused_by_name() {
        let error = group("10.0.0.1:5000").unwrap_err();
        assert_eq!(
            error.to_string(),
            "10.0.0.1 is not a multicast address (expected 224.0.0.0/4 or ff00::/8)"
        );
        assert!(group("[fd00::1]:5000").is_err());
        assert!(group("240.0.0.1:5000").is_err());
        assert!(group("239.255.255.255:5000").is_ok());
    }

    /// Port 0 is not a group's port: a receiver binding it would get a random one.
    #[test]
    fn port_zero_is_refused() {
        assert_eq!(group("224.0.0.1:0"), Err(GroupError::PortZero));
    }

    /// The scope-0 rule, pinned: `ff00::`/`ff10::` groups are reserved and refused at the
    /// edge, so no later check has to decide whether scope 0 "needs an interface".
    #[test]
    fn reserved_scope_zero_is_refused() {
        let error = group("[ff00::123]:7645").unwrap_err();
        assert!(matches!(error, GroupError::ReservedScope(_)), "{error}");
        assert!(error.to_string().contains("scope 0"), "{error}");
        assert!(group("[ff10::1]:7645").is_err());
        assert_eq!(Scope::of("ff00::1".parse().unwrap()), None);
    }

    /// Only interface- and link-local groups need an interface; every other scope and IPv4 do not.
    #[test]
    fn only_interface_and_link_local_groups_need_an_interface() {
        assert!(group("[ff01::1]:1").unwrap().needs_interface());
        assert!(group("[ff02::123]:1").unwrap().needs_interface());
        assert!(group("[ff12::123]:1").unwrap().needs_interface());
        for other in [
            "[ff03::1]:1",
            "[ff05::1]:1",
            "[ff0e::1]:1",
            "[ff15::1:8]:1",
            "224.0.0.1:1",
        ] {
            assert!(!group(other).unwrap().needs_interface(), "{other}");
        }
        let link_local = group("[ff02::1]:3000").unwrap();
        let error = link_local.check_interface(None).unwrap_err();
        assert!(error.to_string().contains("link-local"), "{error}");
        assert!(error.to_string().contains("--interface"), "{error}");
    }

    /// The interface becomes the scope id of a link-local group's socket address, and only there.
    #[test]
    fn interface_is_the_scope_id_of_link_local_groups_only() {
        let eth0 = Interface {
            index: 7,
            name: "eth0".into(),
        };
        let link = group("[ff02::123]:7645")
            .unwrap()
            .socket_addr_on(Some(&eth0));
        let SocketAddr::V6(link) = link else {
            panic!("IPv6 expected")
        };
        assert_eq!(link.scope_id(), 7);
        let site = group("[ff05::123]:7645")
            .unwrap()
            .socket_addr_on(Some(&eth0));
        let SocketAddr::V6(site) = site else {
            panic!("IPv6 expected")
        };
        assert_eq!(site.scope_id(), 0);
    }

    /// An address is checked without a port: multicast, scope not reserved; port 0 is no
    /// concern yet.
    #[test]
    fn an_address_is_checked_without_a_port() {
        assert_eq!(
            Group::check_address("239.1.2.3"),
            Ok(IpAddr::from([239, 1, 2, 3]))
        );
        assert_eq!(
            Group::check_address("[ff02::1:3]"),
            Ok("ff02::1:3".parse::<IpAddr>().unwrap())
        );
        assert_eq!(
            Group::check_address("10.0.0.1"),
            Err(GroupError::NotMulticast(IpAddr::from([10, 0, 0, 1])))
        );
        assert!(matches!(
            Group::check_address("ff00::1"),
            Err(GroupError::ReservedScope(_))
        ));
    }

    /// The address-only form takes brackets or none and quotes text that is no address.
    #[test]
    fn address_only_form_pairs_with_a_port() {
        assert_eq!(
            Group::parse_address("[ff05::329:71]", 10000),
            Group::parse_address("ff05::329:71", 10000)
        );
        assert_eq!(
            Group::parse_address("224.3.29", 10000),
            Err(GroupError::NotAnAddress("224.3.29".into()))
        );
        assert!(
            Group::parse_address("224.3.29", 1)
                .unwrap_err()
                .to_string()
                .contains("`224.3.29`")
        );
    }
}
