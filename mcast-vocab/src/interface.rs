//! A network interface, known by the index the kernel uses and the name people read.
//!
//! The kernel names interfaces by index in everything multicast: `ip_mreqn`, `IPV6_JOIN_GROUP`,
//! `IPV6_MULTICAST_IF`, an IPv6 scope id, the `IP_PKTINFO` of a received datagram. Indexes
//! belong to a network namespace, so resolve a name in the thread whose namespace the socket
//! will live in (with the harness: inside `host.run`).

use std::fmt;

use nix::net::if_::{if_indextoname, if_nametoindex};

/// Why a name did not resolve to an interface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterfaceError {
    /// No interface has that name in the calling thread's network namespace.
    #[error(
        "no network interface named `{name}` here (expected one that `ip link` lists, e.g. lo or eth0): {errno}"
    )]
    NotFound {
        /// The name looked up.
        name: String,
        /// What `if_nametoindex(3)` reported.
        errno: nix::errno::Errno,
    },
}

/// A network interface of this network namespace.
///
/// A plain record: both fields are evidence (what the kernel said), so they are public.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interface {
    /// The kernel's index (`if_nametoindex(3)`, what `ip link` prints first); never 0.
    pub index: u32,
    /// The name, e.g. `lo` or `eth0`.
    pub name: String,
}

impl Interface {
    /// Resolves `name` with `if_nametoindex(3)` in the calling thread's network namespace.
    pub fn named(name: &str) -> Result<Interface, InterfaceError> {
        let index = if_nametoindex(name).map_err(|errno| InterfaceError::NotFound {
            name: name.to_string(),
            errno,
        })?;
        Ok(Interface {
            index,
            name: name.to_string(),
        })
    }

    /// The interface with `index`, named by `if_indextoname(3)`; `None` if no interface has
    /// that index here (any more).
    pub fn with_index(index: u32) -> Option<Interface> {
        // nix 0.31 returns an empty name instead of an error for an unknown index.
        let name = if_indextoname(index).ok()?.to_string_lossy().into_owned();
        (!name.is_empty()).then_some(Interface { index, name })
    }

    /// Like [`Interface::with_index`], but an index with no name (the interface vanished,
    /// or the evidence came from another namespace) is named `#INDEX`.
    pub fn at_index(index: u32) -> Interface {
        Interface::with_index(index).unwrap_or_else(|| Interface {
            index,
            name: format!("#{index}"),
        })
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lo` is index 1 in every network namespace, by name and by index.
    #[test]
    fn loopback_resolves_both_ways() {
        let lo = Interface::named("lo").unwrap();
        assert_eq!(lo.index, 1);
        assert_eq!(Interface::at_index(1), lo);
    }

    /// A missing name is an error naming it; a missing index is shown as `#INDEX`.
    #[test]
    fn missing_interfaces_are_named_in_what_is_reported() {
        let error = Interface::named("nosuch0").unwrap_err().to_string();
        assert!(
            error.starts_with("no network interface named `nosuch0` here"),
            "{error}"
        );
        assert_eq!(Interface::with_index(999_999), None);
        assert_eq!(Interface::at_index(999_999).name, "#999999");
        assert!(Interface::named("bad\0name").is_err());
    }
}
