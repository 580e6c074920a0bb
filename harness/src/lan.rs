//! Several hosts on one virtual Ethernet segment, named and numbered the Mininet way.
//!
//! ```text
//!   host a (10.0.0.1)      host b (10.0.0.2)      host c (10.0.0.3)
//!        eth0                   eth0                   eth0
//!          \                     |                     /
//!          port1               port2               port3
//!           +------------- br0 (switch) --------------+
//! ```
//! Each host is a namespace with `lo` up and one interface, `eth0`, holding `10.0.0.k/24`,
//! `fd00::k/64` and a link-local address, where k is the host's position (from 1) in the list
//! given to [`Lan::new`]. Default routes (IPv4 and IPv6) point out of `eth0`, so multicast
//! without an explicit interface leaves there, and a sender with `IP_MULTICAST_LOOP` on (the
//! default) hears its own datagram come back on `eth0`.
//!
//! The switch is a Linux bridge in a namespace of its own with IGMP/MLD snooping **off**, so it
//! floods every multicast frame to every port at once. (With snooping on, a bridge stops
//! flooding a group only after a querier has run for about ten seconds: too slow and too
//! stateful for tests. Tests that need pruning must build it themselves.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;

use crate::error::{Context, Error};
use crate::host::Host;
use crate::namespace::{Namespace, sysctl};

/// Hosts on one bridged segment. See the module docs for names and addresses.
pub struct Lan {
    hosts: Vec<Host>,
    // Dropped last: the switch holds the far ends of every host's eth0.
    _switch: Namespace,
}

impl Lan {
    /// Builds a LAN with one host per name, `10.0.0.1` for the first, `10.0.0.2` for the next...
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> crate::Result<Lan> {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        validate(&names)?;
        let mut namespaces = Namespace::create_many(names.len() + 1, |i| {
            if i == 0 {
                // The switch only forwards frames: no IPv6 of its own, so no MLD chatter.
                sysctl("net/ipv6/conf/all/disable_ipv6", "1")?;
                sysctl("net/ipv6/conf/default/disable_ipv6", "1")
            } else {
                sysctl("net/ipv6/conf/all/accept_dad", "0")?;
                sysctl("net/ipv6/conf/default/accept_dad", "0")
            }
        })?
        .into_iter();
        let (switch, mut switch_rtnl) = namespaces.next().expect("switch namespace");
        switch_rtnl
            .add_flooding_bridge("br0")
            .doing(|| "creating bridge br0".into())?;
        let bridge = switch_rtnl
            .link_index("br0")
            .doing(|| "bridge index".into())?;
        switch_rtnl.set_up(bridge).doing(|| "bridge up".into())?;

        let mut hosts = Vec::with_capacity(names.len());
        for (k, ((namespace, mut rtnl), name)) in (1u8..).zip(namespaces.zip(&names)) {
            let doing = |what: &str| format!("building host {name} (10.0.0.{k}): {what}");
            let port = format!("port{k}");
            switch_rtnl
                .add_veth(&port, "eth0", Some(namespace.as_fd()))
                .doing(|| doing("veth to the switch"))?;
            let port_index = switch_rtnl
                .link_index(&port)
                .doing(|| doing("port index"))?;
            switch_rtnl
                .set_master(port_index, bridge)
                .doing(|| doing("port on br0"))?;
            switch_rtnl.set_up(port_index).doing(|| doing("port up"))?;

            let ipv4 = Ipv4Addr::new(10, 0, 0, k);
            let ipv6 = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, k.into());
            rtnl.set_up(1).doing(|| doing("lo up"))?;
            let eth0 = rtnl.link_index("eth0").doing(|| doing("eth0 index"))?;
            rtnl.add_address(eth0, IpAddr::V4(ipv4), 24)
                .doing(|| doing("IPv4 address"))?;
            rtnl.add_address(eth0, IpAddr::V6(ipv6), 64)
                .doing(|| doing("IPv6 address"))?;
            rtnl.set_up(eth0).doing(|| doing("eth0 up"))?;
            rtnl.add_route(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, eth0, None)
                .doing(|| doing("IPv4 default route"))?;
            rtnl.add_route(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, eth0, None)
                .doing(|| doing("IPv6 default route"))?;
            hosts.push(Host::new(name, namespace, rtnl, ipv4, ipv6));
        }
        Ok(Lan {
            hosts,
            _switch: switch,
        })
    }

    /// The host called `name`. Panics, listing the hosts there are, if there is none.
    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name() == name)
            .unwrap_or_else(|| {
                let known: Vec<&str> = self.hosts.iter().map(Host::name).collect();
                panic!(
                    "no host named {name:?} in this LAN (hosts: {})",
                    known.join(", ")
                )
            })
    }

    /// All hosts, in the order they were named (host k is `hosts()[k - 1]`).
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }
}

fn validate(names: &[String]) -> crate::Result<()> {
    if names.is_empty() || names.len() > 254 {
        return Err(Error::Invalid(format!(
            "a LAN needs 1 to 254 hosts, got {}",
            names.len()
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() || names[..i].contains(name) {
            return Err(Error::Invalid(format!(
                "host names must be non-empty and unique, got {name:?} at position {}",
                i + 1
            )));
        }
    }
    Ok(())
}
