//! Two segments and a multicast router between them: where TTL starts to matter.
//!
//! ```text
//!   segment 1: 10.0.1.0/24                      segment 2: 10.0.2.0/24
//!   a1 (10.0.1.1)  a2 (10.0.1.2)                b1 (10.0.2.1)  b2 (10.0.2.2)
//!        \            /                              \            /
//!        switch 1 -------- eth0  router  eth1 -------- switch 2
//!                      10.0.1.254      10.0.2.254
//! ```
//! Hosts have default routes via their segment's router address. Unicast is forwarded at once;
//! multicast only for the (source, group) pairs a test asks for with [`Routed::forward`],
//! which installs a static entry in the kernel's multicast forwarding cache, the way
//! `smcroute` does, through the `MRT_*` socket options on a raw IGMP socket held open for the
//! life of the topology (closing it turns forwarding off again).
//!
//! The kernel forwards a datagram onto an interface only when its TTL is greater than that
//! interface's threshold (1 here), and decrements it on the way: TTL 1 stays on its own
//! segment, TTL 2 arrives on the other with TTL 1. IPv4 only; IPv6 multicast routing
//! (`MRT6_*`) is not wired up.
//!
//! When an expectation on any of its hosts fails, the failure message also shows the
//! router's side (`diagnostics::router`): its virtual interfaces and its forwarding cache,
//! with the kernel's packet, byte and wrong-interface counters per (group, source).

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::error::{Context, Error};
use crate::host::Host;
use crate::lan::find;
use crate::namespace::Namespace;
use crate::topology::{self, Segment};

/// Hosts on two segments joined by a multicast router. See the module docs.
pub struct Routed {
    hosts: Vec<Host>,
    router: Host,
    segments: Vec<u8>,
    routing: OwnedFd,
    /// `HARNESS_PAUSE` bookkeeping (see `pause.rs`).
    pub(crate) pause: Option<u64>,
    _switches: Vec<Namespace>,
}

// From <linux/mroute.h>.
const MRT_INIT: libc::c_int = 200;
const MRT_ADD_VIF: libc::c_int = 202;
const MRT_ADD_MFC: libc::c_int = 204;
const VIFF_USE_IFINDEX: u8 = 0x8;
const MAXVIFS: usize = 32;
/// Forward onto an interface only datagrams whose TTL is above this.
const THRESHOLD: u8 = 1;

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
    /// Builds segment 1 with the hosts in `first` (10.0.1.k) and segment 2 with those in
    /// `second` (10.0.2.k), and the router between them. Returns when every link is usable.
    pub fn new<S: AsRef<str>>(
        first: impl IntoIterator<Item = S>,
        second: impl IntoIterator<Item = S>,
    ) -> crate::Result<Routed> {
        let names = |hosts: Vec<S>| hosts.iter().map(|s| s.as_ref().to_owned()).collect();
        let segments = [
            Segment {
                number: 1,
                names: names(first.into_iter().collect()),
            },
            Segment {
                number: 2,
                names: names(second.into_iter().collect()),
            },
        ];
        let built = topology::build(&segments, true)?;
        let router = built.router.expect("the router was asked for");
        let routing = router.run(|| start_routing(segments.len()))?;
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
            pause: Some(crate::pause::mark()),
            _switches: built.switches,
        })
    }

    /// The host called `name` (not the router). Panics, listing the hosts, if there is none.
    pub fn host(&self, name: &str) -> &Host {
        find(&self.hosts, name)
    }

    /// All hosts but the router: segment 1's, then segment 2's.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The router (`eth0` at 10.0.1.254, `eth1` at 10.0.2.254).
    pub fn router(&self) -> &Host {
        &self.router
    }

    /// Forwards datagrams from `source` to `group` from the source's segment onto every other
    /// segment (TTL above 1 only). Like `mroute from eth0 source S group G to eth1` in smcroute.
    pub fn forward(&self, source: Ipv4Addr, group: Ipv4Addr) -> crate::Result<()> {
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
        set(&self.routing, MRT_ADD_MFC, &entry).doing(|| format!("forwarding ({source}, {group})"))
    }

    fn segment_of(&self, source: Ipv4Addr) -> crate::Result<usize> {
        let [a, b, s, _] = source.octets();
        self.segments
            .iter()
            .position(|n| (a, b, s) == (10, 0, *n))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{source} is on none of the segments 10.0.1.0/24, 10.0.2.0/24"
                ))
            })
    }
}

impl Drop for Routed {
    fn drop(&mut self) {
        if let Some(mark) = self.pause {
            let hosts: Vec<&Host> = self.hosts.iter().chain([&self.router]).collect();
            crate::pause::if_failed(&hosts, mark);
        }
    }
}

/// Opens the multicast routing socket (`MRT_INIT`) and makes each `eth{n}` virtual interface n.
fn start_routing(interfaces: usize) -> crate::Result<OwnedFd> {
    // SAFETY: plain socket(2); the descriptor is owned right after.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_IGMP,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error())
            .doing(|| "opening the multicast routing socket".into());
    }
    // SAFETY: fd is fresh and valid.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    set(&socket, MRT_INIT, &1i32).doing(|| "MRT_INIT (is another router running here?)".into())?;
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

fn set<T: Copy>(socket: &OwnedFd, option: libc::c_int, value: &T) -> io::Result<()> {
    mcast_vocab::sockopt::set_option(socket, libc::IPPROTO_IP, option, value)
}
