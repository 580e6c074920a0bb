//! Two segments (or more, [`Routed::with_segments`]) and a multicast router between them:
//! where TTL starts to matter.
//!
//! ```text
//!   segment 1: 10.0.1.0/24                      segment 2: 10.0.2.0/24
//!   a1 (10.0.1.1)  a2 (10.0.1.2)                b1 (10.0.2.1)  b2 (10.0.2.2)
//!        \            /                              \            /
//!        switch 1 -------- eth0  router  eth1 -------- switch 2
//!                      10.0.1.254      10.0.2.254
//! ```
//! Hosts have default routes via their segment's router address. A name given on several
//! segments of [`Routed::with_segments`] is one host with an interface on each (`eth0` on the
//! first it is named on, `eth1` on the next...: a receiver of an A and a B feed on two
//! networks, say), each with that segment's address for its position there, and its default
//! routes via `eth0`; [`crate::Host::interfaces`] lists them. Unicast is forwarded at once;
//! multicast only for the (source, group) pairs a test asks for with [`Routed::forward`],
//! which installs a static entry in the kernel's multicast forwarding cache, the way
//! `smcroute` does, through the `MRT_*` socket options on a raw IGMP socket held open for the
//! life of the topology (closing it turns forwarding off again).
//!
//! The kernel forwards a datagram onto an interface only when its TTL is greater than that
//! interface's threshold (1 here), and decrements it on the way: TTL 1 stays on its own
//! segment, TTL 2 arrives on the other with TTL 1. IPv6 is routed the same way, through the
//! `MRT6_*` options on a raw ICMPv6 socket: hop limit 1 stays, 2 crosses (use a group of
//! site or wider scope, `ff05::` or `ff0e::`: link-local `ff02::` groups are never forwarded).
//!
//! [`Routed::impair`] and its companions degrade one host's link, receiving or sending, the
//! way [`crate::Lan::impair`] does (on the switch port toward it, or on its own interface),
//! one receiver of a tree at a time; for a host with several interfaces, on all of them or
//! ([`Routed::impair_on`]) on one.
//!
//! Multicast forwarding needs the kernel's multicast routing (`CONFIG_IP_MROUTE`, and
//! `CONFIG_IPV6_MROUTE` for IPv6). Where it is missing the network is built all the same:
//! unicast is routed, and hosts on several segments have their interfaces. Only
//! [`Routed::forward`] fails, with [`crate::Error::Unavailable`] naming the option, which
//! [`crate::or_skip!`] turns into a skip: `harness::or_skip!(net.forward(source, group));`.
//!
//! When an expectation on any of its hosts fails, the failure message also shows the
//! router's side (`diagnostics::router`): its virtual interfaces and its forwarding cache,
//! with the kernel's packet, byte and wrong-interface counters per (group, source).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::OwnedFd;

use socket2::{Domain, Protocol, Socket, Type};

use crate::Capability;
use crate::error::{Context, Error};
use crate::host::Host;
use crate::impair::Impairment;
use crate::topology::{self, Segment, Switches, find};

/// Hosts on two or more segments joined by a multicast router. See the module docs.
pub struct Routed {
    hosts: Vec<Host>,
    router: Host,
    segments: Vec<u8>,
    /// The IPv4 routing socket, or why there is none (a kernel without `CONFIG_IP_MROUTE`).
    routing: Result<OwnedFd, Error>,
    /// The IPv6 routing socket, or why there is none (a kernel without `CONFIG_IPV6_MROUTE`).
    routing6: Result<OwnedFd, Error>,
    /// What a failed test keeps of it (`HARNESS_PAUSE`, `HARNESS_PCAP_DIR`).
    on_failure: crate::pause::OnFailure,
    /// The switches and every host's cable. Dropped last: they hold the far ends of the cables.
    switches: Switches,
}

// From <linux/mroute.h>.
const MRT_INIT: libc::c_int = 200;
const MRT_ADD_VIF: libc::c_int = 202;
const MRT_ADD_MFC: libc::c_int = 204;
const VIFF_USE_IFINDEX: u8 = 0x8;
const MAXVIFS: usize = 32;
/// The most segments a [`Routed`] network has (the router's interfaces are multicast virtual
/// interfaces, at most 32 of them; 8 keeps building quick).
pub const MAX_SEGMENTS: usize = 8;

/// Forward onto an interface only datagrams whose TTL is above this.
const THRESHOLD: u8 = 1;

// From <linux/mroute6.h>.
const MRT6_INIT: libc::c_int = 200;
const MRT6_ADD_MIF: libc::c_int = 202;
const MRT6_ADD_MFC: libc::c_int = 204;

/// `struct mif6ctl`: one interface of the IPv6 multicast router.
#[derive(Clone, Copy)]
#[repr(C)]
struct Mif6Ctl {
    mifi: u16,
    flags: u8,
    threshold: u8,
    pifi: u16,
    rate_limit: u32,
}

/// `struct mf6cctl`: one (source, group) entry of the IPv6 forwarding cache; `ifset` is the
/// bit set of the interfaces it goes out on.
#[derive(Clone, Copy)]
#[repr(C)]
struct Mf6cCtl {
    origin: libc::sockaddr_in6,
    group: libc::sockaddr_in6,
    parent: u16,
    ifset: [u32; 8],
}

/// `struct vifctl`: one virtual interface of the multicast router.
#[derive(Clone, Copy)]
#[repr(C)]
struct VifCtl {
    vifi: u16,
    flags: u8,
    threshold: u8,
    rate_limit: u32,
    local_ifindex: i32,
    remote: u32,
}

/// `struct mfcctl`: one (source, group) entry of the forwarding cache.
#[derive(Clone, Copy)]
#[repr(C)]
struct MfcCtl {
    origin: u32,
    group: u32,
    parent: u16,
    ttls: [u8; MAXVIFS],
    packets: u32,
    bytes: u32,
    wrong_interface: u32,
    expire: i32,
}

impl Routed {
    /// Keeps nothing of this network when its test fails: no pause (`HARNESS_PAUSE`), no
    /// recordings (`HARNESS_PCAP_DIR`). For a network people enter by other means, as a lab.
    pub fn keep_nothing_on_failure(&mut self) {
        self.on_failure.disarm();
    }

    /// Builds segment 1 with the hosts in `first` (10.0.1.k) and segment 2 with those in
    /// `second` (10.0.2.k), and the router between them. Returns when every link is usable.
    pub fn new<S: AsRef<str>>(
        first: impl IntoIterator<Item = S>,
        second: impl IntoIterator<Item = S>,
    ) -> crate::Result<Routed> {
        let names = |hosts: Vec<S>| hosts.iter().map(|s| s.as_ref().to_owned()).collect();
        Routed::build(vec![
            names(first.into_iter().collect()),
            names(second.into_iter().collect()),
        ])
    }

    /// Like [`Routed::new`] with any number of segments, 2 to [`MAX_SEGMENTS`]: segment n
    /// (counting from 1) holds the hosts of the n-th list (1 to 253 of them), at `10.0.n.k`
    /// and `fd00:0:0:n::k`, and the router's `eth{n-1}` is `10.0.n.254` on it.
    ///
    /// A name on several lists is one host with an interface on each of those segments, in
    /// list order (`eth0`, `eth1`, ...), holding the address of its position on each:
    ///
    /// ```no_run
    /// # use harness::Routed;
    /// let net = harness::or_skip!(Routed::with_segments([["a", "r"], ["b", "r"]]));
    /// let r = net.host("r");
    /// assert_eq!(r.ipv4_on("eth0"), std::net::Ipv4Addr::new(10, 0, 1, 2)); // a's segment
    /// assert_eq!(r.ipv4_on("eth1"), std::net::Ipv4Addr::new(10, 0, 2, 2)); // b's segment
    /// ```
    /// A name given twice on one list is refused.
    pub fn with_segments<S: AsRef<str>>(
        segments: impl IntoIterator<Item = impl IntoIterator<Item = S>>,
    ) -> crate::Result<Routed> {
        let segments: Vec<Vec<String>> = segments
            .into_iter()
            .map(|hosts| hosts.into_iter().map(|s| s.as_ref().to_owned()).collect())
            .collect();
        if !(2..=MAX_SEGMENTS).contains(&segments.len()) {
            return Err(Error::Invalid(format!(
                "a routed network has 2 to {MAX_SEGMENTS} segments, got {}",
                segments.len()
            )));
        }
        Routed::build(segments)
    }

    fn build(names: Vec<Vec<String>>) -> crate::Result<Routed> {
        let segments: Vec<Segment> = (1u8..)
            .zip(names)
            .map(|(number, names)| Segment { number, names })
            .collect();
        let built = topology::build(&segments, true)?;
        let router = built.router.expect("the router was asked for");
        // Without the kernel's multicast routing the network is still built (unicast is
        // routed, hosts may have an interface per segment); only `forward` then fails,
        // naming the missing kernel option.
        let routing = router.run(|| start_routing(segments.len()));
        let routing6 = router.run(|| start_routing_v6(segments.len()));
        // A failure message about any host also shows what the router did (a weak reference:
        // the hosts do not keep the router's namespace alive, nor the router its own).
        for host in built.hosts.iter().chain([&router]) {
            let namespace = std::sync::Arc::downgrade(router.namespace());
            let _ = host.namespace().explain.set(Box::new(move || {
                namespace
                    .upgrade()
                    .map_or_else(String::new, |router| crate::diagnostics::router(&router))
            }));
        }
        Ok(Routed {
            hosts: built.hosts,
            router,
            segments: segments.iter().map(|s| s.number).collect(),
            routing,
            routing6,
            on_failure: crate::pause::OnFailure::armed(),
            switches: built.switches,
        })
    }

    /// The host called `name` (not the router). Panics, listing the hosts, if there is none.
    pub fn host(&self, name: &str) -> &Host {
        find(&self.hosts, name)
    }

    /// All hosts but the router, each once, in the order first named: segment 1's, then
    /// those of segment 2 not on segment 1, ...
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The router (`eth0` at 10.0.1.254, `eth1` at 10.0.2.254, ...).
    pub fn router(&self) -> &Host {
        &self.router
    }

    /// Impairs what host `name` receives (every frame, multicast or not), on every interface
    /// it has, replacing any impairment there was: the kernel's `netem` (a rate alone: `tbf`)
    /// on the switch port toward each. Other hosts, members of the same groups on the same
    /// segment included, are untouched. Panics, listing the hosts, if there is no `name`.
    /// Needs what [`crate::Lan::impair`] needs.
    pub fn impair(&self, name: &str, impairment: &Impairment) -> crate::Result<()> {
        self.switches.impair(&self.hosts, name, None, impairment)
    }

    /// Like [`Routed::impair`], on host `name`'s `interface` alone (`"eth1"`: what it receives
    /// from its second segment). An interface it lacks is an error listing those it has.
    pub fn impair_on(
        &self,
        name: &str,
        interface: &str,
        impairment: &Impairment,
    ) -> crate::Result<()> {
        self.switches
            .impair(&self.hosts, name, Some(interface), impairment)
    }

    /// Impairs what host `name` sends, out of every interface it has, on the host's own end
    /// of each cable: a datagram lost there is lost for every receiver alike, and the host's
    /// own looped-back copy is untouched.
    pub fn impair_sending(&self, name: &str, impairment: &Impairment) -> crate::Result<()> {
        self.switches
            .impair_sending(&self.hosts, name, None, impairment)
    }

    /// Like [`Routed::impair_sending`], out of host `name`'s `interface` alone.
    pub fn impair_sending_on(
        &self,
        name: &str,
        interface: &str,
        impairment: &Impairment,
    ) -> crate::Result<()> {
        self.switches
            .impair_sending(&self.hosts, name, Some(interface), impairment)
    }

    /// Takes any impairment off every cable of host `name`, both ways.
    pub fn clear(&self, name: &str) -> crate::Result<()> {
        self.switches.clear(&self.hosts, name, None)
    }

    /// Returns once every cable of host `name` holds no frames either way: everything sent to
    /// it or by it so far has been handed on or dropped. Waits at most 10 s.
    pub fn wait_until_drained(&self, name: &str) -> crate::Result<()> {
        self.switches.wait_until_drained(&self.hosts, name, None)
    }

    /// Forwards datagrams from `source` to `group` from the source's segment onto every other
    /// segment (TTL or hop limit above 1 only). Like `mroute from eth0 source S group G to
    /// eth1` in smcroute. IPv4 or IPv6, both of one family.
    pub fn forward(
        &self,
        source: impl Into<IpAddr>,
        group: impl Into<IpAddr>,
    ) -> crate::Result<()> {
        match (source.into(), group.into()) {
            (IpAddr::V4(source), IpAddr::V4(group)) => self.forward_v4(source, group),
            (IpAddr::V6(source), IpAddr::V6(group)) => self.forward_v6(source, group),
            (source, group) => Err(Error::Invalid(format!(
                "{source} and {group} are of different families"
            ))),
        }
    }

    fn forward_v6(&self, source: Ipv6Addr, group: Ipv6Addr) -> crate::Result<()> {
        let routing = usable(&self.routing6, "IPv6")?;
        let from = self
            .segments
            .iter()
            .position(|&n| source.segments()[..4] == [0xfd00, 0, 0, u16::from(n)])
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{source} is on none of the segments fd00:0:0:1::/64 to fd00:0:0:{}::/64",
                    self.segments.len()
                ))
            })?;
        if !group.is_multicast() {
            return Err(Error::Invalid(format!("{group} is not a multicast group")));
        }
        // The address alone: port, flow info and scope id 0.
        let address = |ip: Ipv6Addr| -> libc::sockaddr_in6 {
            *nix::sys::socket::SockaddrIn6::from(std::net::SocketAddrV6::new(ip, 0, 0, 0)).as_ref()
        };
        let mut entry = Mf6cCtl {
            origin: address(source),
            group: address(group),
            parent: from as u16,
            ifset: [0; 8],
        };
        for mif in (0..self.segments.len()).filter(|m| *m != from) {
            entry.ifset[mif / 32] |= 1 << (mif % 32);
        }
        mcast_vocab::sockopt::set_option(routing, libc::IPPROTO_IPV6, MRT6_ADD_MFC, &entry)
            .doing(|| format!("forwarding ({source}, {group})"))
    }

    fn forward_v4(&self, source: Ipv4Addr, group: Ipv4Addr) -> crate::Result<()> {
        let from = self.segment_of(source)?;
        if !group.is_multicast() {
            return Err(Error::Invalid(format!("{group} is not a multicast group")));
        }
        let mut entry = MfcCtl {
            origin: u32::from(source).to_be(),
            group: u32::from(group).to_be(),
            parent: from as u16,
            ttls: [0; MAXVIFS],
            packets: 0,
            bytes: 0,
            wrong_interface: 0,
            expire: 0,
        };
        for vif in (0..self.segments.len()).filter(|v| *v != from) {
            entry.ttls[vif] = THRESHOLD;
        }
        set(usable(&self.routing, "IPv4")?, MRT_ADD_MFC, &entry)
            .doing(|| format!("forwarding ({source}, {group})"))
    }

    fn segment_of(&self, source: Ipv4Addr) -> crate::Result<usize> {
        let [a, b, s, _] = source.octets();
        self.segments
            .iter()
            .position(|n| (a, b, s) == (10, 0, *n))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{source} is on none of the segments 10.0.1.0/24 to 10.0.{}.0/24",
                    self.segments.len()
                ))
            })
    }
}

impl Drop for Routed {
    fn drop(&mut self) {
        let hosts: Vec<&Host> = self.hosts.iter().chain([&self.router]).collect();
        self.on_failure.dropping(&hosts);
    }
}

/// The routing socket, or the reason there is none: a missing kernel feature stays
/// [`Error::Unavailable`] (a test skips), anything else says which family failed.
fn usable<'a>(routing: &'a crate::Result<OwnedFd>, family: &str) -> crate::Result<&'a OwnedFd> {
    match routing {
        Ok(routing) => Ok(routing),
        Err(Error::Unavailable(missing)) => Err(Error::Unavailable(missing.clone())),
        Err(other) => Err(Error::Invalid(format!(
            "the router has no {family} multicast routing: {other}"
        ))),
    }
}

/// Opens the multicast routing socket (`MRT_INIT`) and makes each `eth{n}` virtual interface n.
fn start_routing(interfaces: usize) -> crate::Result<OwnedFd> {
    Capability::Ipv4Routing.check()?;
    let socket: OwnedFd = raw_socket(Domain::IPV4, libc::IPPROTO_IGMP)
        .doing(|| "opening the multicast routing socket".into())?;
    match set(&socket, MRT_INIT, &1i32) {
        Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
            return Err(Capability::Ipv4Routing.missing(format!("MRT_INIT said: {e}")));
        }
        Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
            return Err(e)
                .doing(|| "MRT_INIT: another multicast router runs in this namespace".into());
        }
        other => other.doing(|| "MRT_INIT".into())?,
    }
    for n in 0..interfaces {
        let vif = VifCtl {
            vifi: n as u16,
            flags: VIFF_USE_IFINDEX,
            threshold: THRESHOLD,
            rate_limit: 0,
            local_ifindex: 2 + n as i32,
            remote: 0,
        };
        set(&socket, MRT_ADD_VIF, &vif).doing(|| format!("MRT_ADD_VIF eth{n}"))?;
    }
    Ok(socket)
}

/// Opens the IPv6 multicast routing socket (`MRT6_INIT`), makes each `eth{n}` interface n,
/// and turns IPv6 forwarding on. An error is kept as the reason IPv6 cannot be routed
/// ([`Capability::Ipv6Routing`] missing, for a kernel without it).
fn start_routing_v6(interfaces: usize) -> crate::Result<OwnedFd> {
    Capability::Ipv6Routing.check()?;
    let socket = raw_socket(Domain::IPV6, libc::IPPROTO_ICMPV6)
        .doing(|| "opening the IPv6 multicast routing socket".into())?;
    mcast_vocab::sockopt::set_option(&socket, libc::IPPROTO_IPV6, MRT6_INIT, &1i32)
        .doing(|| "MRT6_INIT".into())?;
    for n in 0..interfaces {
        let mif = Mif6Ctl {
            mifi: n as u16,
            flags: 0,
            threshold: THRESHOLD,
            pifi: 2 + n as u16,
            rate_limit: 0,
        };
        mcast_vocab::sockopt::set_option(&socket, libc::IPPROTO_IPV6, MRT6_ADD_MIF, &mif)
            .doing(|| format!("MRT6_ADD_MIF eth{n}"))?;
    }
    crate::namespace::sysctl("net/ipv6/conf/all/forwarding", "1")
        .doing(|| "IPv6 forwarding".into())?;
    Ok(socket)
}

/// A raw socket of `protocol`, the kind the kernel's multicast routing API is spoken on.
fn raw_socket(domain: Domain, protocol: libc::c_int) -> io::Result<OwnedFd> {
    Socket::new(domain, Type::RAW, Some(Protocol::from(protocol))).map(OwnedFd::from)
}

fn set<T: Copy>(socket: &OwnedFd, option: libc::c_int, value: &T) -> io::Result<()> {
    mcast_vocab::sockopt::set_option(socket, libc::IPPROTO_IP, option, value)
}
