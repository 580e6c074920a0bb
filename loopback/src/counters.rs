//! The kernel's own counters as evidence: datagrams dropped for want of a route.
//!
//! When the kernel drops a datagram it counts it. For the IPv6 trial that count is the only
//! witness: send(2) succeeds, no listener hears anything, no capture sees anything, and
//! `Ip6OutNoRoutes` rises by one.

use std::io;

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
        ip_counter(&text, "OutNoRoutes")
            .ok_or_else(|| io::Error::other("no Ip: OutNoRoutes in /proc/thread-self/net/snmp"))
    }
}

/// A counter of the `Ip:` table in the text of `/proc/net/snmp`: a line of names, then a
/// line of values.
fn ip_counter(snmp: &str, name: &str) -> Option<u64> {
    let mut ip_lines = snmp.lines().filter(|line| line.starts_with("Ip:"));
    let (names, values) = ip_lines.next().zip(ip_lines.next())?;
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == name)
        .and_then(|(_, value)| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 counter is found by name in the `Ip:` table, not by position.
    #[test]
    fn out_no_routes_is_read_by_name() {
        let snmp = "Ip: Forwarding DefaultTTL InReceives OutNoRoutes ReasmTimeout\n\
                    Ip: 2 64 1234 7 0\n\
                    Icmp: InMsgs InErrors\n\
                    Icmp: 0 0\n";
        assert_eq!(ip_counter(snmp, "OutNoRoutes"), Some(7));
        assert_eq!(ip_counter(snmp, "OutRequests"), None);
    }

    /// Both counters can be read here (reading sends nothing).
    #[test]
    fn no_route_counters_are_readable() {
        out_no_routes(false).unwrap();
        out_no_routes(true).unwrap();
    }
}
