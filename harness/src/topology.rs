//! Building segments of hosts, and optionally a router between them, out of namespaces.
//!
//! [`crate::Lan`] is one segment; [`crate::Routed`] is two or more segments and a router.
//! Both are built here, in one pass on one thread: each namespace is created and configured
//! while the thread is inside it (sysctls act on the caller's namespace), then every link is
//! waited for (see `ready.rs`).
//!
//! Addressing: segment number `s` is `10.0.s.0/24` and `fd00:0:0:s::/64`; its k-th host is
//! `10.0.s.k` and `fd00:0:0:s::k` (k in hexadecimal there); the router is `.254` on every
//! segment. A LAN (segment 0, no router) of more than 254 hosts cannot be numbered in a /24:
//! it is `10.0.0.0/22` instead, and its k-th host `10.0.0.0 + k` (`10.0.0.255`, then
//! `10.0.1.0`, ... up to `10.0.3.254` for the 1022nd), while a LAN that fits a /24 keeps
//! `10.0.0.0/24`. Its IPv6 prefix stays `fd00::/64`.
//!
//! A name given on several segments is one host with one interface on each, in the order
//! named: `eth0` on the first, `eth1` on the next, ..., each holding that segment's address
//! for the host's position there. Its default routes leave through `eth0`. It has at most one
//! interface per segment, so at most [`crate::MAX_SEGMENTS`]; a name given twice on one
//! segment is refused. Reverse-path filtering is off in such a host (the kernel's default,
//! set explicitly because a namespace inherits the machine's IPv4 settings), so a datagram
//! whose source the host would route through another interface is still delivered.
//!
//! Interface indices are chosen, not discovered: a host's (and the router's) `eth{n}` is
//! `2 + n`, and switch port k (toward the k-th host of its segment, the router last) is
//! `10 + k`.
//!
//! [`Switches`] keeps the switches and every host's cable, and puts impairments on either
//! end of a cable for both topologies (through `impair.rs`).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::error::{Context, Error};
use crate::host::{Host, HostInterface};
use crate::impair::{self, Impairment};
use crate::namespace::{Namespace, sysctl};
use crate::netlink::{Route, Rtnl, Veth};
use crate::ready::{self, READY_DEADLINE};
use crate::snooping::SnoopingTimers;

pub(crate) use crate::host::ETH0;
/// What the switch of a [`crate::Lan`] does with multicast. A Linux bridge that snoops learns
/// which ports have members from their IGMP/MLD reports (the membership table, its mdb),
/// but filters by it only while it knows of a querier: without one it still floods every
/// group to every port (measured in `docs/tests/kernel/snooping.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Snooping {
    /// No snooping: every group to every port at once (the default).
    #[default]
    Off,
    /// Snooping, no querier: the table is learnt, the groups are still flooded.
    WithoutQuerier,
    /// Snooping, and the switch is the segment's querier (IGMP and MLD queries from the
    /// bridge, answer time 100 ms): each group goes only to the ports with a member.
    WithQuerier,
}

/// Switch port k (toward the k-th host of a segment) has index `SWITCH_PORTS + k`.
pub(crate) const SWITCH_PORTS: u32 = 10;
/// The bridge's index in a switch's namespace.
pub(crate) const BRIDGE: u32 = 2;
/// The router's host number on every segment.
pub(crate) const ROUTER: u16 = 254;
/// The most hosts a [`crate::Lan`] has: as many as `10.0.0.0/22` numbers (a Linux bridge
/// takes at most 1023 ports).
pub const MAX_LAN_HOSTS: usize = 1022;
/// The most hosts a segment of a [`crate::Routed`] network has: `.1` to `.253`.
const MAX_ROUTED_HOSTS: usize = 253;
/// The most hosts a segment numbers in a /24 (`.1` to `.254`).
const FITS_A_24: usize = 254;

/// One segment: its number (the third octet) and the names of its hosts, in order.
pub(crate) struct Segment {
    pub(crate) number: u8,
    pub(crate) names: Vec<String>,
}

/// What was built: the switches with every cable, the hosts in the order first named, and
/// the router if asked.
pub(crate) struct Built {
    pub(crate) switches: Switches,
    pub(crate) hosts: Vec<Host>,
    pub(crate) router: Option<Host>,
}

/// The addresses of host `k` on segment `s` (see the module docs).
pub(crate) fn addresses(s: u8, k: u16) -> (Ipv4Addr, Ipv6Addr) {
    (
        Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, s, 0)) + u32::from(k)),
        Ipv6Addr::new(0xfd00, 0, 0, s.into(), 0, 0, 0, k),
    )
}

/// The IPv4 prefix length of a segment with `hosts` hosts: 24 when they fit, else 22.
pub(crate) fn prefix(hosts: usize) -> u8 {
    if hosts <= FITS_A_24 { 24 } else { 22 }
}

/// One host to build: its name and, for each of its interfaces in order, the segment (index
/// into the segments) and its position k there.
struct Plan<'a> {
    name: &'a str,
    cables: Vec<(usize, u16)>,
}

/// The hosts of `segments`, each once, in the order first named.
fn plans(segments: &[Segment]) -> Vec<Plan<'_>> {
    let mut plans: Vec<Plan> = Vec::new();
    let mut known: HashMap<&str, usize> = HashMap::new();
    for (segment, s) in segments.iter().enumerate() {
        for (name, k) in s.names.iter().zip(1u16..) {
            let at = *known.entry(name).or_insert_with(|| {
                plans.push(Plan {
                    name,
                    cables: Vec::new(),
                });
                plans.len() - 1
            });
            plans[at].cables.push((segment, k));
        }
    }
    plans
}

/// The interfaces a plan gives its host.
fn interfaces(plan: &Plan, segments: &[Segment]) -> Vec<HostInterface> {
    plan.cables
        .iter()
        .zip(0u32..)
        .map(|(&(segment, k), n)| {
            let (ipv4, ipv6) = addresses(segments[segment].number, k);
            HostInterface {
                name: format!("eth{n}"),
                index: ETH0 + n,
                ipv4,
                prefix: prefix(segments[segment].names.len()),
                ipv6,
            }
        })
        .collect()
}

/// What each new namespace becomes, in creation order.
enum Role {
    Switch,
    Router,
    Host(usize),
}

pub(crate) fn build(segments: &[Segment], with_router: bool) -> crate::Result<Built> {
    build_with(segments, with_router, Snooping::Off, &SnoopingTimers::new())
}

/// [`build`], with switches that snoop as `snooping` says, with `timers`. A querier is
/// switched on last, once every port is up and the timers are set: from that moment the
/// bridge waits one query response interval before it filters (see
/// [`crate::Lan::with_snooping`], which waits for that).
pub(crate) fn build_with(
    segments: &[Segment],
    with_router: bool,
    snooping: Snooping,
    timers: &SnoopingTimers,
) -> crate::Result<Built> {
    validate(segments, with_router)?;
    timers.validate()?;
    if snooping == Snooping::Off && !timers.is_default() {
        return Err(Error::Invalid(format!(
            "snooping timers ({timers}) need a switch that snoops, not Snooping::Off"
        )));
    }
    // What the kernel must have, named before anything is built.
    crate::Capability::Veth.check()?;
    crate::Capability::Bridge.check()?;
    if snooping != Snooping::Off {
        crate::Capability::Snooping.check()?;
    }
    let until = Instant::now() + READY_DEADLINE;
    let plans = plans(segments);
    let mut roles: Vec<Role> = segments.iter().map(|_| Role::Switch).collect();
    if with_router {
        roles.push(Role::Router);
    }
    roles.extend((0..plans.len()).map(Role::Host));
    // A second netlink socket into each switch, for plugging hosts in from their own namespaces.
    let switches: Mutex<Vec<Rtnl>> = Mutex::new(Vec::new());
    let created = crate::namespace::Namespace::create_many(roles.len(), |i, namespace, rtnl| {
        let mut switches = switches.lock().unwrap_or_else(|p| p.into_inner());
        match &roles[i] {
            Role::Switch => {
                build_switch(rtnl, snooping, timers)?;
                switches.push(Rtnl::open().doing(|| "a second socket into the switch".into())?);
                Ok(())
            }
            Role::Router => build_router(&mut switches, segments, namespace, rtnl),
            Role::Host(p) => build_host(
                &plans[*p],
                &mut switches,
                segments,
                with_router,
                namespace,
                rtnl,
            ),
        }
    })?;

    let switch_sockets = switches.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut switch_namespaces = Vec::new();
    let mut hosts = Vec::new();
    let mut router = None;
    let mut cables = Vec::new();
    for ((namespace, rtnl), role) in created.into_iter().zip(&roles) {
        match role {
            Role::Switch => switch_namespaces.push(namespace),
            Role::Router => {
                let interfaces = segments
                    .iter()
                    .zip(0u32..)
                    .map(|(segment, n)| {
                        let (ipv4, ipv6) = addresses(segment.number, ROUTER);
                        HostInterface {
                            name: format!("eth{n}"),
                            index: ETH0 + n,
                            ipv4,
                            prefix: 24,
                            ipv6,
                        }
                    })
                    .collect();
                router = Some(Host::with_interfaces("router", namespace, rtnl, interfaces));
            }
            Role::Host(p) => {
                let plan = &plans[*p];
                let interfaces = interfaces(plan, segments);
                for (interface, &(segment, k)) in interfaces.iter().zip(&plan.cables) {
                    cables.push(Cable {
                        host: plan.name.to_owned(),
                        interface: interface.name.clone(),
                        index: interface.index,
                        segment,
                        port: SWITCH_PORTS + u32::from(k),
                    });
                }
                hosts.push(Host::with_interfaces(
                    plan.name, namespace, rtnl, interfaces,
                ));
            }
        }
    }
    let built = Built {
        switches: Switches {
            sockets: switch_sockets.into_iter().map(Mutex::new).collect(),
            cables,
            namespaces: switch_namespaces,
        },
        hosts,
        router,
    };
    // Every cable's switch end, then every host's (and the router's) end, then IPv6 in each.
    for (n, segment) in segments.iter().enumerate() {
        let ports = segment.names.len() as u32 + u32::from(with_router);
        let mut socket = built.switches.socket(n);
        for port in 1..=ports {
            ready::wait_for_link(
                &mut socket,
                SWITCH_PORTS + port,
                until,
                &format!("switch port{port}"),
            )?;
        }
    }
    for host in built.hosts.iter().chain(&built.router) {
        for interface in host.interfaces() {
            ready::wait_for_link(
                &mut host.rtnl(),
                interface.index,
                until,
                &format!("{} of host {}", interface.name, host.name()),
            )?;
        }
    }
    if snooping == Snooping::WithQuerier {
        // The bridge's first MLD query decides whether it filters IPv6 groups at all: only if
        // it had a (link-local) source address for it.
        for switch in &built.switches.namespaces {
            switch.run(|| ready::wait_for_ipv6_multicast(BRIDGE, until, "the switch"))?;
        }
        for n in 0..segments.len() {
            built
                .switches
                .socket(n)
                .set_querier(BRIDGE)
                .doing(|| "making the switch the querier".into())?;
        }
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                built
                    .hosts
                    .iter()
                    .chain(&built.router)
                    .try_for_each(|host| {
                        host.enter()?;
                        host.interfaces().iter().try_for_each(|interface| {
                            ready::wait_for_ipv6_multicast(
                                interface.index,
                                until,
                                &format!("{} of host {}", interface.name, host.name()),
                            )
                        })
                    })
            })
            .join()
            .expect("readiness thread panicked")
    })?;
    Ok(built)
}

/// Inside a new host's namespace: one cable per segment it is on (`eth0`, `eth1`, ...) with
/// its addresses there, and default routes out of `eth0`.
fn build_host(
    plan: &Plan,
    switches: &mut [Rtnl],
    segments: &[Segment],
    with_router: bool,
    namespace: &Namespace,
    rtnl: &mut Rtnl,
) -> crate::Result<()> {
    let interfaces = interfaces(plan, segments);
    let name = plan.name;
    let first = interfaces[0].ipv4;
    let doing = |what: &str| format!("building host {name} ({first}): {what}");
    prepare_host(rtnl).doing(|| doing("sysctls"))?;
    if interfaces.len() > 1 {
        for key in ["all", "default"] {
            sysctl(&format!("net/ipv4/conf/{key}/rp_filter"), "0")
                .doing(|| doing("reverse-path filtering off"))?;
        }
    }
    for (interface, &(segment, k)) in interfaces.iter().zip(&plan.cables) {
        let port = SWITCH_PORTS + u32::from(k);
        plug(
            &mut switches[segment],
            port,
            (&interface.name, interface.index),
            namespace,
        )
        .doing(|| {
            doing(&format!(
                "cable {} to switch {}",
                interface.name, segments[segment].number
            ))
        })?;
        configure(
            rtnl,
            interface.index,
            interface.ipv4,
            interface.ipv6,
            interface.prefix,
        )
        .doing(|| doing(&format!("addresses on {}", interface.name)))?;
    }
    let gateway = with_router.then(|| addresses(segments[plan.cables[0].0].number, ROUTER));
    default_routes(rtnl, gateway).doing(|| doing("default routes"))
}

/// The switches of a topology, kept alive, with a netlink socket into each and every host's
/// cable: what a `Lan` or `Routed` needs to impair a host's link from either end.
pub(crate) struct Switches {
    sockets: Vec<Mutex<Rtnl>>,
    cables: Vec<Cable>,
    // Dropped last: the switches hold the far ends of every host's cables.
    namespaces: Vec<Namespace>,
}

/// One host interface's cable: the interface at the host's end, the switch port at the other.
struct Cable {
    host: String,
    interface: String,
    /// The interface's index in the host.
    index: u32,
    /// The index of its segment (and switch) in the topology.
    segment: usize,
    /// The switch port's index in the switch.
    port: u32,
}

impl Cable {
    /// How errors name the switch's end, which sends what the host receives.
    fn toward_host(&self) -> String {
        format!("the link to host {} ({})", self.host, self.interface)
    }

    /// How errors name the host's end, which sends what the host sends.
    fn of_host(&self) -> String {
        format!("the link from host {} ({})", self.host, self.interface)
    }
}

impl Switches {
    /// The netlink socket into switch `segment` (0 for a LAN's only one).
    pub(crate) fn socket(&self, segment: usize) -> MutexGuard<'_, Rtnl> {
        self.sockets[segment]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Switch `segment`'s namespace.
    pub(crate) fn namespace(&self, segment: usize) -> &Namespace {
        &self.namespaces[segment]
    }

    /// The name of the host plugged into `port` of switch `segment`, if one is.
    pub(crate) fn host_on(&self, segment: usize, port: u32) -> Option<&str> {
        self.cables
            .iter()
            .find(|c| c.segment == segment && c.port == port)
            .map(|c| c.host.as_str())
    }

    /// The cables of host `name` among `hosts`, or only that of its `interface`. Panics,
    /// listing the hosts, if there is no such host; an unknown interface is an error that
    /// lists the host's interfaces.
    fn cables(
        &self,
        hosts: &[Host],
        name: &str,
        interface: Option<&str>,
    ) -> crate::Result<Vec<&Cable>> {
        let host = find(hosts, name);
        let cables: Vec<&Cable> = self
            .cables
            .iter()
            .filter(|c| c.host == name && interface.is_none_or(|i| c.interface == i))
            .collect();
        if cables.is_empty() {
            return Err(Error::Invalid(format!(
                "host {name} has no interface {:?} (its interfaces: {})",
                interface.unwrap_or_default(),
                host.interface_names()
            )));
        }
        Ok(cables)
    }

    /// Impairs what host `name` receives on `interface` (every interface if `None`): on the
    /// switch ports toward it.
    pub(crate) fn impair(
        &self,
        hosts: &[Host],
        name: &str,
        interface: Option<&str>,
        impairment: &Impairment,
    ) -> crate::Result<()> {
        self.cables(hosts, name, interface)?
            .iter()
            .try_for_each(|c| {
                impair::apply(
                    &mut self.socket(c.segment),
                    c.port,
                    impairment,
                    &c.toward_host(),
                )
            })
    }

    /// Impairs what host `name` sends out of `interface` (every interface if `None`): on
    /// the host's own end of each cable.
    pub(crate) fn impair_sending(
        &self,
        hosts: &[Host],
        name: &str,
        interface: Option<&str>,
        impairment: &Impairment,
    ) -> crate::Result<()> {
        let host = find(hosts, name);
        self.cables(hosts, name, interface)?
            .iter()
            .try_for_each(|c| impair::apply(&mut host.rtnl(), c.index, impairment, &c.of_host()))
    }

    /// Takes any impairment off host `name`'s cables (or that of `interface`), both ends.
    pub(crate) fn clear(
        &self,
        hosts: &[Host],
        name: &str,
        interface: Option<&str>,
    ) -> crate::Result<()> {
        self.each_end(hosts, name, interface, impair::clear)
    }

    /// Returns once host `name`'s cables (or that of `interface`) hold no frames either way.
    pub(crate) fn wait_until_drained(
        &self,
        hosts: &[Host],
        name: &str,
        interface: Option<&str>,
    ) -> crate::Result<()> {
        self.each_end(hosts, name, interface, impair::wait_until_drained)
    }

    /// `f(socket, interface index, link)` for both ends of each of host `name`'s cables (or
    /// that of `interface`): the switch's port toward the host, then the host's interface.
    fn each_end(
        &self,
        hosts: &[Host],
        name: &str,
        interface: Option<&str>,
        f: fn(&mut Rtnl, u32, &str) -> crate::Result<()>,
    ) -> crate::Result<()> {
        let host = find(hosts, name);
        self.cables(hosts, name, interface)?
            .iter()
            .try_for_each(|c| {
                f(&mut self.socket(c.segment), c.port, &c.toward_host())?;
                f(&mut host.rtnl(), c.index, &c.of_host())
            })
    }
}

/// The host called `name` among `hosts`; panics with the names there are.
pub(crate) fn find<'a>(hosts: &'a [Host], name: &str) -> &'a Host {
    hosts.iter().find(|h| h.name() == name).unwrap_or_else(|| {
        let known: Vec<&str> = hosts.iter().map(Host::name).collect();
        panic!("no host named {name:?} here (hosts: {})", known.join(", "))
    })
}

/// Inside a switch's namespace: a bridge that floods every multicast frame to every port
/// (snooping off), or snoops. No IPv6 of its own (so no MLD chatter), except for a querier:
/// a Linux bridge sends MLD queries, and filters IPv6 groups, only once it has an IPv6
/// (link-local) address.
fn build_switch(rtnl: &mut Rtnl, snooping: Snooping, timers: &SnoopingTimers) -> crate::Result<()> {
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
    if !timers.is_default() {
        rtnl.set_bridge_options(BRIDGE, timers.attributes())
            .doing(|| format!("setting the switch's timers: {timers}"))?;
    }
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
        configure(rtnl, index, ipv4, ipv6, 24).doing(|| doing(&format!("addresses on {name}")))?;
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
    let port_name = format!("port{}", port - SWITCH_PORTS);
    switch.add_veth(
        Veth::pair(&port_name, name)
            .indices(port, index)
            .peer_in(namespace.as_fd()),
    )?;
    switch.set_master(port, BRIDGE)?;
    switch.set_up(port)
}

fn configure(
    rtnl: &mut Rtnl,
    index: u32,
    ipv4: Ipv4Addr,
    ipv6: Ipv6Addr,
    prefix: u8,
) -> std::io::Result<()> {
    rtnl.add_address(index, IpAddr::V4(ipv4), prefix)?;
    rtnl.add_address(index, IpAddr::V6(ipv6), 64)?;
    rtnl.set_up(index)
}

/// Default routes out of `eth0`: on-link on a lone segment, via the router where there is one.
fn default_routes(rtnl: &mut Rtnl, gateway: Option<(Ipv4Addr, Ipv6Addr)>) -> std::io::Result<()> {
    let mut v4 = Route::to(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).via_interface(ETH0);
    let mut v6 = Route::to(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0).via_interface(ETH0);
    if let Some((router_v4, router_v6)) = gateway {
        v4 = v4.gateway(IpAddr::V4(router_v4));
        v6 = v6.gateway(IpAddr::V6(router_v6));
    }
    rtnl.add_route(v4)?;
    rtnl.add_route(v6)
}

/// Refuses what cannot be built, before anything is: an empty segment or one with more hosts
/// than it numbers, an empty name, a name given twice on one segment (a host has one
/// interface per segment), and a host called "router" next to the router.
fn validate(segments: &[Segment], with_router: bool) -> crate::Result<()> {
    let most = if with_router {
        MAX_ROUTED_HOSTS
    } else {
        MAX_LAN_HOSTS
    };
    for segment in segments {
        let names = &segment.names;
        if names.is_empty() || names.len() > most {
            return Err(Error::Invalid(if with_router {
                format!(
                    "segment {} needs 1 to {most} hosts (10.0.{0}.1 to 10.0.{0}.253; the router is .254), got {}",
                    segment.number,
                    names.len()
                )
            } else {
                format!(
                    "a LAN needs 1 to {most} hosts (10.0.0.1 to 10.0.3.254 in 10.0.0.0/22), got {}",
                    names.len()
                )
            }));
        }
        let mut seen = HashSet::new();
        for (name, position) in names.iter().zip(1..) {
            let invalid = |why: &str| {
                Err(Error::Invalid(format!(
                    "host names must be {why}, got {name:?} at position {position}{}",
                    if with_router {
                        format!(" of segment {}", segment.number)
                    } else {
                        String::new()
                    }
                )))
            };
            if name.is_empty() {
                return invalid("non-empty");
            }
            if with_router && name == "router" {
                return invalid("other than \"router\"");
            }
            if !seen.insert(name) {
                return invalid(if with_router {
                    "unique on a segment (a host has one interface on each segment it is named on)"
                } else {
                    "unique"
                });
            }
        }
    }
    Ok(())
}
