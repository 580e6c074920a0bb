//! Interfaces as a listener sees them from inside a host: which ones carry a family, and the
//! name of the one a datagram arrived on.
//!
//! Resolving a name or an index is `mcast_vocab::Interface`'s job; what is the harness's own
//! is the choice of interfaces a listener joins on when the test names none.

use std::collections::HashMap;
use std::io;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;

use mcast_vocab::{Interface, InterfaceError};

/// The interface called `name` in the calling thread's namespace, as an `io::Error` of kind
/// `NotFound` (with the [`InterfaceError`] inside) when there is none.
pub(crate) fn named(name: &str) -> io::Result<Interface> {
    Interface::named(name)
        .map_err(|error: InterfaceError| io::Error::new(io::ErrorKind::NotFound, error))
}

/// The interfaces that are up and can carry the family: for IPv4 those with an IPv4 address
/// (`lo` included: IPv4 multicast over `lo` works), for IPv6 those with an IPv6 address and
/// the `MULTICAST` flag (which `lo` lacks, and IPv6 honours).
pub(crate) fn carrying(ipv6: bool) -> io::Result<Vec<Interface>> {
    let mut found: Vec<Interface> = Vec::new();
    for entry in getifaddrs()? {
        let up = entry.flags.contains(InterfaceFlags::IFF_UP);
        let family_ok = match entry.address.as_ref() {
            Some(a) if ipv6 => {
                a.as_sockaddr_in6().is_some() && entry.flags.contains(InterfaceFlags::IFF_MULTICAST)
            }
            Some(a) => a.as_sockaddr_in().is_some(),
            None => false,
        };
        if up && family_ok && !found.iter().any(|i| i.name == entry.interface_name) {
            found.push(named(&entry.interface_name)?);
        }
    }
    Ok(found)
}

/// Remembers index → interface for the life of one listener thread, so a flood of datagrams
/// costs one `if_indextoname(3)` (which opens a socket each time) per interface, not per
/// datagram.
#[derive(Default)]
pub(crate) struct NameCache {
    known: HashMap<u32, Interface>,
}

impl NameCache {
    /// The interface with `index`, named `#INDEX` if it has no name here.
    pub(crate) fn interface(&mut self, index: u32) -> Interface {
        self.known
            .entry(index)
            .or_insert_with(|| Interface::at_index(index))
            .clone()
    }
}
