//! Network interfaces by name and index, and the kernel's own counters as evidence.
//!
//! The article's server "records the interface on which it was received". The kernel reports
//! an interface as an index (in `IP_PKTINFO`); people read names. [`Interface`] carries both.

use std::ffi::CStr;
use std::io;

/// An interface resolved to its index in the current network namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Interface {
    /// The kernel's index (`if_nametoindex(3)`), as `IP_PKTINFO` reports it.
    pub index: u32,
    /// The name (`lo`, `eth0`, ...).
    pub name: String,
}

impl Interface {
    /// Resolves `name` in the calling thread's network namespace.
    pub fn by_name(name: &str) -> io::Result<Interface> {
        let index = nix::net::if_::if_nametoindex(name).map_err(|errno| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no interface named `{name}` in this network namespace ({errno})"),
            )
        })?;
        Ok(Interface {
            index,
            name: name.to_string(),
        })
    }

    /// Looks up the name of `index`; an index that vanished is shown as `if<index>`.
    pub fn by_index(index: u32) -> Interface {
        let mut buffer = [0 as libc::c_char; libc::IF_NAMESIZE];
        // SAFETY: the buffer holds IF_NAMESIZE bytes, as if_indextoname(3) requires.
        let found = unsafe { libc::if_indextoname(index, buffer.as_mut_ptr()) };
        let name = if found.is_null() {
            format!("if{index}")
        } else {
            // SAFETY: on success the buffer holds a NUL-terminated name.
            unsafe { CStr::from_ptr(buffer.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        Interface { index, name }
    }
}

impl std::fmt::Display for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// How many datagrams this network namespace dropped for want of a route, per IP version
/// (`OutNoRoutes` in `/proc/net/snmp`, `Ip6OutNoRoutes` in `/proc/net/snmp6`).
///
/// Read through `/proc/thread-self`, because a thread may live in another namespace than
/// the rest of its process (that is how the harness runs code in a sandbox).
pub fn out_no_routes(ipv6: bool) -> io::Result<u64> {
    if ipv6 {
        let text = std::fs::read_to_string("/proc/thread-self/net/snmp6")?;
        text.lines()
            .find_map(|line| line.strip_prefix("Ip6OutNoRoutes"))
            .and_then(|value| value.trim().parse().ok())
            .ok_or_else(|| io::Error::other("no Ip6OutNoRoutes in /proc/thread-self/net/snmp6"))
    } else {
        let text = std::fs::read_to_string("/proc/thread-self/net/snmp")?;
        let mut ip_lines = text.lines().filter(|line| line.starts_with("Ip:"));
        let (names, values) = ip_lines
            .next()
            .zip(ip_lines.next())
            .ok_or_else(|| io::Error::other("no Ip: lines in /proc/thread-self/net/snmp"))?;
        names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(name, _)| *name == "OutNoRoutes")
            .and_then(|(_, value)| value.parse().ok())
            .ok_or_else(|| io::Error::other("no OutNoRoutes in /proc/thread-self/net/snmp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lo` has index 1 in every network namespace; a missing name is an error naming it.
    #[test]
    fn loopback_is_index_one_and_missing_names_are_named() {
        assert_eq!(Interface::by_name("lo").unwrap().index, 1);
        assert_eq!(Interface::by_index(1).name, "lo");
        let error = Interface::by_name("nosuch0").unwrap_err();
        assert!(error.to_string().contains("`nosuch0`"), "{error}");
    }

    /// The no-route counters can be read for both IP versions.
    #[test]
    fn no_route_counters_are_readable() {
        out_no_routes(false).unwrap();
        out_no_routes(true).unwrap();
    }
}
