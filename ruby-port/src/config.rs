//! [`Config`]: everything a socket of this port needs, checked as a whole.
//!
//! Each value is checked where it is parsed ([`Group`], [`Interface`], [`Ttl`]
//! come from `mcast-vocab`); what only the combination can get wrong is checked
//! here: a link-local IPv6 group without an interface.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use mcast_vocab::{Group, GroupError, Interface, Ttl};

use crate::defaults::{BACKCHANNEL_GROUP, SEND_RECEIVE_GROUP};
use crate::reuse::Reuse;

/// Where to send and what to join: everything `send`, `receive` and the chat
/// client need to set up a socket.
///
/// Built with [`Config::new`] (which checks that a link-local IPv6 group comes
/// with an interface) and adjusted with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    group: Group,
    interface: Option<Interface>,
    ttl: Ttl,
    reuse: Reuse,
    source: Option<IpAddr>,
}

impl Config {
    /// A config for `group`, optionally tied to one interface, with TTL 1 and
    /// both reuse options. Fails for `ff01::`/`ff02::` groups without an
    /// interface ([`Group::check_interface`]).
    pub fn new(group: Group, interface: Option<Interface>) -> Result<Config, GroupError> {
        group.check_interface(interface.as_ref())?;
        Ok(Config {
            group,
            interface,
            ttl: Ttl::default(),
            reuse: Reuse::default(),
            source: None,
        })
    }

    /// `send.rb`/`receive.rb`'s defaults: 224.0.0.1:3000, TTL 1, any interface.
    pub fn send_receive() -> Config {
        Config::new(SEND_RECEIVE_GROUP, None).expect("an IPv4 group needs no interface")
    }

    /// The chat's defaults: 224.6.8.11:6811, TTL 1, any interface.
    pub fn backchannel() -> Config {
        Config::new(BACKCHANNEL_GROUP, None).expect("an IPv4 group needs no interface")
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

    /// The same config joining for datagrams from `source` only: a source-specific join,
    /// (S,G) in routing terms. Refused when `source` is not a unicast address of the group's
    /// family, the one line naming the value and what was expected.
    ///
    /// Any group may be joined this way (IGMPv3 and MLDv2 filter sources for every group);
    /// only in `232.0.0.0/8` and `ff3x::/32` (RFC 4607) does the network build per-source
    /// trees and deliver nothing to a plain, any-source join.
    pub fn with_source(mut self, source: IpAddr) -> Result<Config, String> {
        let group = self.group.ip();
        if source.is_ipv4() != group.is_ipv4() {
            let family = if group.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(format!(
                "{source} cannot send to {group} (expected an {family} sender)"
            ));
        }
        if source.is_multicast() || source.is_unspecified() {
            return Err(format!(
                "{source} cannot send to a group (expected the unicast address of a sender, e.g. 10.0.0.1)"
            ));
        }
        self.source = Some(source);
        Ok(self)
    }

    /// The one sender a source-specific join accepts, if one was chosen.
    pub fn source(&self) -> Option<IpAddr> {
        self.source
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
    pub(crate) fn reuse(&self) -> Reuse {
        self.reuse
    }

    /// The address `sendto()` uses: for a link-local IPv6 group, the
    /// interface is its scope id.
    pub(crate) fn destination(&self) -> SocketAddr {
        self.group.socket_addr_on(self.interface.as_ref())
    }
}

/// The group, its one source if any, and where it is joined: `224.0.0.1:3000 on any
/// interface`, `232.1.1.1:3000 from 10.0.0.1 on eth0`, `[ff02::1]:3000 on eth0`.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.group)?;
        if let Some(source) = self.source {
            write!(f, " from {source}")?;
        }
        match &self.interface {
            Some(interface) => write!(f, " on {interface}"),
            None => write!(f, " on any interface"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ff02:: names a group per link: without an interface the config is
    /// refused with vocabulary's error; with one, the interface becomes the
    /// destination's scope id.
    #[test]
    fn link_local_ipv6_groups_need_an_interface() {
        let group = Group::parse("[ff02::1]:3000").unwrap();
        assert!(matches!(
            Config::new(group, None),
            Err(GroupError::NeedsInterface(_))
        ));
        let lo = Interface::named("lo").unwrap();
        let config = Config::new(group, Some(lo.clone())).unwrap();
        match config.destination() {
            SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), lo.index),
            other => panic!("expected IPv6, got {other}"),
        }
    }

    /// The defaults are the article's: TTL 1, both reuse options, any interface.
    #[test]
    fn default_configs_are_the_articles() {
        let config = Config::send_receive();
        assert_eq!(
            (config.ttl(), config.reuse(), config.interface()),
            (Ttl(1), Reuse::Both, None)
        );
        assert_eq!(config.to_string(), "224.0.0.1:3000 on any interface");
        assert_eq!(
            Config::backchannel().to_string(),
            "224.6.8.11:6811 on any interface"
        );
    }

    /// A config with an interface names it where it says where it joins.
    #[test]
    fn display_names_the_chosen_interface() {
        let lo = Interface::named("lo").unwrap();
        let config = Config::new(Group::parse("[ff02::1]:3000").unwrap(), Some(lo)).unwrap();
        assert_eq!(config.to_string(), "[ff02::1]:3000 on lo");
    }

    /// A source-specific config names its one sender; a source of the other family, a
    /// group address or the unspecified address is refused naming the value.
    #[test]
    fn a_source_must_be_a_unicast_sender_of_the_groups_family() {
        let group = Group::parse("232.1.1.1:3000").unwrap();
        let config = Config::new(group, None).unwrap();
        let ssm = config
            .clone()
            .with_source("10.0.0.1".parse().unwrap())
            .unwrap();
        assert_eq!(
            ssm.to_string(),
            "232.1.1.1:3000 from 10.0.0.1 on any interface"
        );
        let error = config
            .clone()
            .with_source("fd00::1".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            error,
            "fd00::1 cannot send to 232.1.1.1 (expected an IPv4 sender)"
        );
        for bad in ["239.1.1.1", "0.0.0.0"] {
            let error = config
                .clone()
                .with_source(bad.parse().unwrap())
                .unwrap_err();
            assert!(
                error.starts_with(&format!("{bad} cannot send to a group")),
                "{error}"
            );
        }
    }
}
