//! Building segments of hosts, and optionally a router between them, out of namespaces.
//!
//! [`crate::Lan`] is one segment; [`crate::Routed`] is two segments and a router. Both are
//! built here, in one pass on one thread: each namespace is created and configured while the
//! thread is inside it (sysctls act on the caller's namespace), then every link is waited for
//! (see `ready.rs`).
//!
//! Addressing: segment number `s` is `10.0.s.0/24` and `fd00:0:0:s::/64`; its k-th host is
//! `10.0.s.k` and `fd00:0:0:s::k`; the router is `.254` on every segment. Interface indices
//! are chosen, not discovered: a host's `eth0` is 2, the router's `eth{n}` is `2 + n`, and
//! switch port k is `10 + k`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Context, Error};
use crate::host::Host;
use crate::lan::Snooping;
use crate::namespace::{Namespace, sysctl};
use crate::netlink::Rtnl;
use crate::ready::{self, READY_DEADLINE};

/// A host's `eth0` (and the router's first interface) has index 2.
pub(crate) const ETH0: u32 = 2;
/// Switch port k (toward the k-th host of a segment) has index `SWITCH_PORTS + k`.
pub(crate) const SWITCH_PORTS: u32 = 10;
/// The bridge's index in a switch's namespace.
pub(crate) const BRIDGE: u32 = 2;
/// The router's host number on every segment.
pub(crate) const ROUTER: u8 = 254;

/// One segment: its number (the third octet) and the names of its hosts, in order.
pub(crate) struct Segment {
    pub(crate) number: u8,
    pub(crate) names: Vec<String>,
}

/// What was built: the switches (kept alive) with a netlink socket into each, the hosts in
/// order, and the router if asked.
pub(crate) struct Built {
    pub(crate) switches: Vec<Namespace>,
    pub(crate) switch_sockets: Vec<Rtnl>,
    pub(crate) hosts: Vec<Host>,
    pub(crate) router: Option<Host>,
}

/// The addresses of host `k` on segment `s`.
pub(crate) fn addresses(s: u8, k: u8) -> (Ipv4Addr, Ipv6Addr) {
    (
        Ipv4Addr::new(10, 0, s, k),
        Ipv6Addr::new(0xfd00, 0, 0, s.into(), 0, 0, 0, k.into()),
    )
}

/// What each new namespace becomes, in creation order.
enum Role<'a> {
    Switch,
    Router,
    Host {
        segment: usize,
        k: u8,
        name: &'a str,
    },
}

pub(crate) fn build(segments: &[Segment], with_router: bool) -> crate::Result<Built> {
    build_with(segments, with_router, Snooping::Off)
}

/// [`build`], with switches that snoop as `snooping` says. A querier is switched on last, once
/// every port is up: from that moment the bridge waits one query response interval before it
/// filters (see [`crate::Lan::with_snooping`], which waits for that).
pub(crate) fn build_with(
    segments: &[Segment],
    with_router: bool,
    snooping: Snooping,
) -> crate::Result<Built> {
    validate(segments, with_router)?;
    let until = Instant::now() + READY_DEADLINE;
    let mut roles: Vec<Role> = segments.iter().map(|_| Role::Switch).collect();
    if with_router {
        roles.push(Role::Router);
    }
    for (segment, s) in segments.iter().enumerate() {
        for (name, k) in s.names.iter().zip(1u8..) {
            roles.push(Role::Host { segment, k, name });
        }
    }
    // A second netlink socket into each switch, for plugging hosts in from their own namespaces.
    let switches: Mutex<Vec<Rtnl>> = Mutex::new(Vec::new());
    let created = crate::namespace::Namespace::create_many(roles.len(), |i, namespace, rtnl| {
        let mut switches = switches.lock().unwrap_or_else(|p| p.into_inner());
        match &roles[i] {
            Role::Switch => {
                build_switch(rtnl, snooping)?;
                switches.push(Rtnl::open().doing(|| "a second socket into the switch".into())?);
                Ok(())
            }
            Role::Router => build_router(&mut switches, segments, namespace, rtnl),
            Role::Host { segment, k, name } => {
                let s = segments[*segment].number;
                let doing = |what: &str| format!("building host {name} (10.0.{s}.{k}): {what}");
                prepare_host(rtnl).doing(|| doing("sysctls"))?;
                let port = SWITCH_PORTS + u32::from(*k);
                plug(&mut switches[*segment], port, ("eth0", ETH0), namespace)
                    .doing(|| doing("cable to the switch"))?;
                let (ipv4, ipv6) = addresses(s, *k);
                configure(rtnl, ETH0, ipv4, ipv6).doing(|| doing("addresses"))?;
                let gateway = with_router.then(|| addresses(s, ROUTER));
                default_routes(rtnl, gateway).doing(|| doing("default routes"))
            }
        }
    })?;

    let mut switch_sockets = switches.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut built = Built {
        switches: Vec::new(),
        switch_sockets: Vec::new(),
        hosts: Vec::new(),
        router: None,
    };
    for ((namespace, rtnl), role) in created.into_iter().zip(&roles) {
        match role {
            Role::Switch => built.switches.push(namespace),
            Role::Router => {
                let (ipv4, ipv6) = addresses(segments[0].number, ROUTER);
                built.router = Some(Host::new("router", namespace, rtnl, ipv4, ipv6));
            }
            Role::Host { segment, k, name } => {
                let (ipv4, ipv6) = addresses(segments[*segment].number, *k);
                built
                    .hosts
                    .push(Host::new(name, namespace, rtnl, ipv4, ipv6));
            }
        }
    }
    // Every cable's switch end, then every host's end, then IPv6 in each host.
    for (socket, segment) in switch_sockets.iter_mut().zip(segments) {
        let ports = segment.names.len() as u32 + u32::from(with_router);
        for port in 1..=ports {
            ready::wait_for_link(
                socket,
                SWITCH_PORTS + port,
                until,
                &format!("switch port{port}"),
            )?;
        }
    }
    if let Some(router) = &built.router {
        for n in 0..segments.len() as u32 {
            ready::wait_for_link(
                &mut router.rtnl(),
                ETH0 + n,
                until,
                &format!("router eth{n}"),
            )?;
        }
    }
    for host in &built.hosts {
        ready::wait_for_link(
            &mut host.rtnl(),
            ETH0,
            until,
            &format!("eth0 of host {}", host.name()),
        )?;
    }
    if snooping == Snooping::WithQuerier {
        // The bridge's first MLD query decides whether it filters IPv6 groups at all: only if
        // it had a (link-local) source address for it.
        for switch in &built.switches {
            switch.run(|| ready::wait_for_ipv6_multicast(BRIDGE, until, "the switch"))?;
        }
        for socket in &mut switch_sockets {
            socket
                .set_querier(BRIDGE)
                .doing(|| "making the switch the querier".into())?;
        }
    }
    built.switch_sockets = switch_sockets;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                built
                    .hosts
                    .iter()
                    .chain(&built.router)
                    .try_for_each(|host| {
                        host.enter()?;
                        ready::wait_for_ipv6_multicast(
                            ETH0,
                            until,
                            &format!("host {}", host.name()),
                        )
                    })
            })
            .join()
            .expect("readiness thread panicked")
    })?;
    Ok(built)
}

/// Inside a switch's namespace: a bridge that floods every multicast frame to every port
/// (snooping off), or snoops. No IPv6 of its own (so no MLD chatter), except for a querier:
/// a Linux bridge sends MLD queries, and filters IPv6 groups, only once it has an IPv6
/// (link-local) address.
fn build_switch(rtnl: &mut Rtnl, snooping: Snooping) -> crate::Result<()> {
    if snooping == Snooping::WithQuerier {
        sysctl("net/ipv6/conf/default/accept_dad", "0")
            .doing(|| "IPv6 addresses usable at once in the switch".into())?;
    } else {
        sysctl("net/ipv6/conf/all/disable_ipv6", "1").doing(|| "IPv6 off in the switch".into())?;
        sysctl("net/ipv6/conf/default/disable_ipv6", "1")
            .doing(|| "IPv6 off in the switch".into())?;
    }
    match snooping {
        Snooping::Off => rtnl.add_flooding_bridge("br0", BRIDGE),
        Snooping::WithoutQuerier | Snooping::WithQuerier => {
            rtnl.add_snooping_bridge("br0", BRIDGE, RESPONSE_INTERVAL)
        }
    }
    .doing(|| "creating bridge br0".into())?;
    rtnl.set_up(BRIDGE).doing(|| "bridge up".into())
}

/// The snooping querier's query response interval, in hundredths of a second (10 s by
/// default): how long hosts have to answer a query, and how long the bridge waits after
/// becoming querier before it filters. Not under 10: an IGMPv2 query carries it in tenths of
/// a second, and one that says 0 is an IGMPv1 query, after which hosts send no leaves.
const RESPONSE_INTERVAL: u64 = 10;

/// Inside a new host's namespace, before any link exists: IPv6 addresses usable at once
/// (no duplicate address detection: the kernel skips it when both `all` and the interface say
/// 0, and `all` starts at 0), and `lo` up.
fn prepare_host(rtnl: &mut Rtnl) -> std::io::Result<()> {
    sysctl("net/ipv6/conf/default/accept_dad", "0")?;
    rtnl.set_up(1)
}

/// Inside the router's namespace: one interface per segment (`eth0`, `eth1`, ...) at `.254`,
/// unicast forwarding on. Multicast forwarding is added by [`crate::Routed::forward`].
fn build_router(
    switches: &mut [Rtnl],
    segments: &[Segment],
    namespace: &Namespace,
    rtnl: &mut Rtnl,
) -> crate::Result<()> {
    let doing = |what: &str| format!("building the router: {what}");
    prepare_host(rtnl).doing(|| doing("sysctls"))?;
    sysctl("net/ipv4/ip_forward", "1").doing(|| doing("IPv4 forwarding"))?;
    for (n, (switch, segment)) in switches.iter_mut().zip(segments).enumerate() {
        let index = ETH0 + n as u32;
        let name = format!("eth{n}");
        let port = SWITCH_PORTS + segment.names.len() as u32 + 1;
        plug(switch, port, (&name, index), namespace).doing(|| doing(&format!("cable {name}")))?;
        let (ipv4, ipv6) = addresses(segment.number, ROUTER);
        configure(rtnl, index, ipv4, ipv6).doing(|| doing(&format!("addresses on {name}")))?;
    }
    Ok(())
}

/// A veth from switch port `port` to `name` (with index `index`) in `namespace`.
fn plug(
    switch: &mut Rtnl,
    port: u32,
    (name, index): (&str, u32),
    namespace: &Namespace,
) -> std::io::Result<()> {
    switch.add_veth(
        (&format!("port{}", port - SWITCH_PORTS), port),
        (name, index),
        Some(namespace.as_fd()),
    )?;
    switch.set_master(port, BRIDGE)?;
    switch.set_up(port)
}

fn configure(rtnl: &mut Rtnl, index: u32, ipv4: Ipv4Addr, ipv6: Ipv6Addr) -> std::io::Result<()> {
    rtnl.add_address(index, IpAddr::V4(ipv4), 24)?;
    rtnl.add_address(index, IpAddr::V6(ipv6), 64)?;
    rtnl.set_up(index)
}

/// Default routes out of `eth0`: on-link on a lone segment, via the router where there is one.
fn default_routes(rtnl: &mut Rtnl, gateway: Option<(Ipv4Addr, Ipv6Addr)>) -> std::io::Result<()> {
    let (v4, v6) = match gateway {
        Some((v4, v6)) => (Some(IpAddr::V4(v4)), Some(IpAddr::V6(v6))),
        None => (None, None),
    };
    rtnl.add_route(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, ETH0, None, v4)?;
    rtnl.add_route(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, ETH0, None, v6)
}

fn validate(segments: &[Segment], with_router: bool) -> crate::Result<()> {
    for segment in segments {
        let names = &segment.names;
        let most = if with_router { 253 } else { 254 };
        if names.is_empty() || names.len() > most {
            return Err(Error::Invalid(format!(
                "a segment needs 1 to {most} hosts, got {}",
                names.len()
            )));
        }
    }
    let all: Vec<&String> = segments.iter().flat_map(|s| &s.names).collect();
    for (i, name) in all.iter().enumerate() {
        if name.is_empty() || all[..i].contains(name) || (with_router && *name == "router") {
            return Err(Error::Invalid(format!(
                "host names must be non-empty and unique{}, got {name:?} at position {}",
                if with_router {
                    " (and not \"router\")"
                } else {
                    ""
                },
                i + 1
            )));
        }
    }
    Ok(())
}
