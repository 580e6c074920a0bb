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
//!
//! [`Lan::impair`] degrades what one host receives (loss, delay, duplication...) by the
//! kernel's `netem` on that host's switch port; see `impair.rs`.

use std::io;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Context, Error};
use crate::host::Host;
use crate::impair::Impairment;
use crate::namespace::Namespace;
use crate::netlink::Rtnl;
use crate::ready::READY_DEADLINE;
use crate::topology::{self, SWITCH_PORTS, Segment};

/// Hosts on one bridged segment. See the module docs for names and addresses.
pub struct Lan {
    hosts: Vec<Host>,
    /// `HARNESS_PAUSE` bookkeeping: the unmet count at creation, and whether to pause at all.
    pub(crate) pause: Option<u64>,
    /// A netlink socket in the switch's namespace, for its ports' queueing disciplines.
    switch: Mutex<Rtnl>,
    // Dropped last: the switch holds the far ends of every host's eth0.
    _switch: Vec<Namespace>,
}

impl Lan {
    /// Builds a LAN with one host per name, `10.0.0.1` for the first, `10.0.0.2` for the next...
    /// Returns when every link is usable.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> crate::Result<Lan> {
        let names = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let mut built = topology::build(&[Segment { number: 0, names }], false)?;
        Ok(Lan {
            hosts: built.hosts,
            pause: Some(crate::pause::mark()),
            switch: Mutex::new(built.switch_sockets.remove(0)),
            _switch: built.switches,
        })
    }

    /// The host called `name`. Panics, listing the hosts there are, if there is none.
    pub fn host(&self, name: &str) -> &Host {
        find(&self.hosts, name)
    }

    /// All hosts, in the order they were named (host k is `hosts()[k - 1]`).
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Impairs what host `name` receives from the switch (every frame, multicast or not),
    /// replacing any impairment there was: in effect for the next frame the switch sends it.
    /// Other hosts, members of the same groups included, are untouched. Needs the kernel's
    /// `netem` (`CONFIG_NET_SCH_NETEM`): [`Error::Unavailable`] says when it is missing.
    pub fn impair(&self, name: &str, impairment: &Impairment) -> crate::Result<()> {
        impairment.validate()?;
        let port = self.port(name);
        let result = self
            .rtnl()
            .replace_root_qdisc(port, "netem", impairment.netem_options());
        match result {
            // The kernel's answer to an unknown qdisc kind (the module absent and not loadable).
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(Error::Unavailable(format!(
                "impairing the link to host {name}: this kernel has no netem queueing \
                 discipline (CONFIG_NET_SCH_NETEM; the kernel said: {e})"
            ))),
            other => other.doing(|| format!("impairing the link to host {name} ({impairment:?})")),
        }
    }

    /// Takes any impairment off the link to host `name`: frames pass at once again.
    pub fn clear(&self, name: &str) -> crate::Result<()> {
        let port = self.port(name);
        match self.rtnl().delete_root_qdisc(port) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other.doing(|| format!("clearing the impairment on the link to host {name}")),
        }
    }

    /// Returns once the link to host `name` holds no frames: everything sent to it so far has
    /// been handed to the host or dropped by the impairment. Waits at most 10 s.
    pub fn wait_until_drained(&self, name: &str) -> crate::Result<()> {
        let port = self.port(name);
        let until = Instant::now() + READY_DEADLINE;
        loop {
            let queued = self
                .rtnl()
                .root_qdisc_queue(port)
                .doing(|| format!("reading the queue of the link to host {name}"))?;
            if queued == 0 {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Error::Io {
                    doing: format!("waiting for the link to host {name} to drain"),
                    source: io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("{queued} frames still queued after {READY_DEADLINE:?}"),
                    ),
                });
            }
            std::thread::yield_now();
        }
    }

    /// The switch port index of host `name`'s cable.
    fn port(&self, name: &str) -> u32 {
        // Host k is 10.0.0.k and is plugged into port k.
        SWITCH_PORTS + u32::from(find(&self.hosts, name).ipv4().octets()[3])
    }

    fn rtnl(&self) -> std::sync::MutexGuard<'_, Rtnl> {
        self.switch.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        if let Some(mark) = self.pause {
            crate::pause::if_failed(&self.hosts.iter().collect::<Vec<_>>(), mark);
        }
    }
}

/// The host called `name` among `hosts`; panics with the names there are.
pub(crate) fn find<'a>(hosts: &'a [Host], name: &str) -> &'a Host {
    hosts.iter().find(|h| h.name() == name).unwrap_or_else(|| {
        let known: Vec<&str> = hosts.iter().map(Host::name).collect();
        panic!("no host named {name:?} here (hosts: {})", known.join(", "))
    })
}
