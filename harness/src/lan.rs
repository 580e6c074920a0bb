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

use crate::host::Host;
use crate::namespace::Namespace;
use crate::topology::{self, Segment};

/// Hosts on one bridged segment. See the module docs for names and addresses.
pub struct Lan {
    hosts: Vec<Host>,
    /// `HARNESS_PAUSE` bookkeeping: the unmet count at creation, and whether to pause at all.
    pub(crate) pause: Option<u64>,
    // Dropped last: the switch holds the far ends of every host's eth0.
    _switch: Vec<Namespace>,
}

impl Lan {
    /// Builds a LAN with one host per name, `10.0.0.1` for the first, `10.0.0.2` for the next...
    /// Returns when every link is usable.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> crate::Result<Lan> {
        let names = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let built = topology::build(&[Segment { number: 0, names }], false)?;
        Ok(Lan {
            hosts: built.hosts,
            pause: Some(crate::pause::mark()),
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
