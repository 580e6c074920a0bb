//! A network interface, resolved from its name to the index the kernel wants.
//!
//! IPv6 names interfaces only by index (`IPV6_ADD_MEMBERSHIP`, `IPV6_MULTICAST_IF`,
//! the scope id of `ff02::123%eth0`). The diary wrote down the index it saw on its
//! author's laptop; here a name is resolved with `if_nametoindex(3)` on the machine, and
//! in the network namespace, where the socket will live.
//!
//! Indexes are per network namespace: resolve the name from a thread inside the namespace
//! the socket belongs to (with the harness, inside `host.run`).

use std::ffi::CString;
use std::fmt;
use std::io;

/// Why a name did not resolve to an interface.
#[derive(Debug, thiserror::Error)]
pub enum InterfaceError {
    /// The name has a NUL byte in it and cannot be passed to the kernel.
    #[error("interface name {0:?} contains a NUL byte")]
    BadName(String),
    /// No interface has that name here.
    #[error("no interface named `{name}` in this network namespace: {source}")]
    NotFound {
        /// The name looked up.
        name: String,
        /// What `if_nametoindex` reported.
        source: io::Error,
    },
}

impl From<InterfaceError> for io::Error {
    fn from(err: InterfaceError) -> Self {
        io::Error::new(io::ErrorKind::NotFound, err)
    }
}

/// An interface known by name and by the index it has in this network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    name: String,
    index: u32,
}

impl Interface {
    /// Resolves `name` (such as `eth0` or `lo`) with `if_nametoindex(3)` in the calling
    /// thread's network namespace.
    pub fn by_name(name: &str) -> Result<Self, InterfaceError> {
        let c_name = CString::new(name).map_err(|_| InterfaceError::BadName(name.to_owned()))?;
        // SAFETY: `c_name` is a valid NUL-terminated string that outlives the call.
        let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        if index == 0 {
            return Err(InterfaceError::NotFound {
                name: name.to_owned(),
                source: io::Error::last_os_error(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            index,
        })
    }

    /// The interface name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface index, never 0.
    pub fn index(&self) -> u32 {
        self.index
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (index {})", self.name, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lo` exists in every namespace and resolves to a non-zero index.
    #[test]
    fn loopback_resolves_to_an_index() {
        let lo = Interface::by_name("lo").unwrap();
        assert_ne!(lo.index(), 0);
        assert_eq!(lo.name(), "lo");
    }

    /// A name that does not exist is reported with the name and the kernel's reason.
    #[test]
    fn unknown_name_is_reported_by_name() {
        let err = Interface::by_name("nosuch0").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("no interface named `nosuch0` in this network namespace: "),
            "{text}"
        );
    }
}
