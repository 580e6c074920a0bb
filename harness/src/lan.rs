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
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Context, Error};
use crate::host::Host;
use crate::namespace::{Namespace, sysctl};
use crate::netlink::Rtnl;
use crate::ready::{self, READY_DEADLINE};

/// Hosts on one bridged segment. See the module docs for names and addresses.
pub struct Lan {
    hosts: Vec<Host>,
    // Dropped last: the switch holds the far ends of every host's eth0.
    _switch: Namespace,
}

impl Lan {
    /// Builds a LAN with one host per name, `10.0.0.1` for the first, `10.0.0.2` for the next...
    /// Returns when every link is usable.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> crate::Result<Lan> {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        validate(&names)?;
        let until = Instant::now() + READY_DEADLINE;
        // The switch's netlink socket, opened inside the switch, used while building each host.
        let switch: Mutex<Option<Rtnl>> = Mutex::new(None);
        let mut namespaces = Namespace::create_many(names.len() + 1, |i, namespace, rtnl| {
            let mut switch = switch.lock().unwrap_or_else(|p| p.into_inner());
            if i == 0 {
                build_switch(rtnl)?;
                *switch = Some(Rtnl::open().doing(|| "a second socket in the switch".into())?);
                return Ok(());
            }
            let switch = switch.as_mut().expect("the switch is built first");
            build_host(switch, i as u8, &names[i - 1], namespace, rtnl)
        })?
        .into_iter();
        // The switch's first socket is not needed: `switch` holds the one we use.
        let (switch_namespace, _) = namespaces.next().expect("switch namespace");
        let mut switch_rtnl = switch
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .expect("switch socket");
        for k in 1..=names.len() as u32 {
            ready::wait_for_link(
                &mut switch_rtnl,
                SWITCH_PORTS + k,
                until,
                &format!("switch port{k}"),
            )?;
        }
        let mut hosts = Vec::with_capacity(names.len());
        for (k, ((namespace, mut rtnl), name)) in (1u8..).zip(namespaces.zip(&names)) {
            ready::wait_for_link(&mut rtnl, ETH0, until, &format!("eth0 of host {name}"))?;
            let (ipv4, ipv6) = addresses(k);
            hosts.push(Host::new(name, namespace, rtnl, ipv4, ipv6));
        }
        // IPv6 routes come last; one thread visits every host to check them.
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    hosts.iter().try_for_each(|host| {
                        host.enter()?;
                        ready::wait_for_ipv6_multicast(until, &format!("host {}", host.name()))
                    })
                })
                .join()
                .expect("readiness thread panicked")
        })?;
        Ok(Lan {
            hosts,
            _switch: switch_namespace,
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

/// Interface indices we choose: each host's `eth0` is 2; switch port k is `SWITCH_PORTS + k`.
const ETH0: u32 = 2;
const SWITCH_PORTS: u32 = 10;
const BRIDGE: u32 = 2;

/// Host k's addresses: `10.0.0.k` and `fd00::k`.
fn addresses(k: u8) -> (Ipv4Addr, Ipv6Addr) {
    (
        Ipv4Addr::new(10, 0, 0, k),
        Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, k.into()),
    )
}

/// Runs inside the switch's namespace: no IPv6 of its own (so no MLD chatter), and a bridge
/// that floods.
fn build_switch(rtnl: &mut Rtnl) -> crate::Result<()> {
    sysctl("net/ipv6/conf/all/disable_ipv6", "1").doing(|| "IPv6 off in the switch".into())?;
    sysctl("net/ipv6/conf/default/disable_ipv6", "1").doing(|| "IPv6 off in the switch".into())?;
    rtnl.add_flooding_bridge("br0", BRIDGE)
        .doing(|| "creating bridge br0".into())?;
    rtnl.set_up(BRIDGE).doing(|| "bridge up".into())
}

/// Runs inside host k's new namespace: a veth from switch port k to this host's `eth0`,
/// addresses, and default routes.
fn build_host(
    switch: &mut Rtnl,
    k: u8,
    name: &str,
    namespace: &Namespace,
    rtnl: &mut Rtnl,
) -> crate::Result<()> {
    let doing = |what: &str| format!("building host {name} (10.0.0.{k}): {what}");
    sysctl("net/ipv6/conf/all/accept_dad", "0").doing(|| doing("DAD off"))?;
    sysctl("net/ipv6/conf/default/accept_dad", "0").doing(|| doing("DAD off"))?;
    rtnl.set_up(1).doing(|| doing("lo up"))?;
    let port = SWITCH_PORTS + u32::from(k);
    switch
        .add_veth(
            (&format!("port{k}"), port),
            ("eth0", ETH0),
            Some(namespace.as_fd()),
        )
        .doing(|| doing("veth to the switch"))?;
    switch
        .set_master(port, BRIDGE)
        .doing(|| doing("port on br0"))?;
    switch.set_up(port).doing(|| doing("port up"))?;
    let (ipv4, ipv6) = addresses(k);
    rtnl.add_address(ETH0, IpAddr::V4(ipv4), 24)
        .doing(|| doing("IPv4 address"))?;
    rtnl.add_address(ETH0, IpAddr::V6(ipv6), 64)
        .doing(|| doing("IPv6 address"))?;
    rtnl.set_up(ETH0).doing(|| doing("eth0 up"))?;
    rtnl.add_route(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, ETH0, None)
        .doing(|| doing("IPv4 default route"))?;
    rtnl.add_route(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, ETH0, None)
        .doing(|| doing("IPv6 default route"))
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
