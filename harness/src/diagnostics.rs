//! A host's addresses, memberships and routes as text, for failure messages.
//!
//! Printed only when something went wrong, so it may be slow: it runs `ip` inside the host,
//! and falls back to the kernel's own tables under `/proc/thread-self/net` without it.

use std::process::Command;

use crate::namespace::Namespace;

pub(crate) fn describe(namespace: &Namespace, name: &str) -> String {
    let sections: [(&str, &[&str], &str); 3] = [
        ("addresses", &["-br", "address"], "dev_mcast"),
        ("memberships", &["maddress", "show"], "igmp"),
        ("routes", &["route", "show", "table", "all"], "route"),
    ];
    let mut out = String::new();
    for (title, args, proc_file) in sections {
        let mut command = Command::new("ip");
        command.args(args);
        namespace.prepare_command(&mut command);
        let text = match command.output() {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            _ => namespace.run(|| {
                std::fs::read_to_string(format!("/proc/thread-self/net/{proc_file}"))
                    .unwrap_or_else(|e| format!("(unreadable: {e})\n"))
            }),
        };
        out.push_str(&format!("{title} of host {name}:\n"));
        for line in text.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    // Source filters: what source-specific joins (and exclusions) each group has here.
    let filters = namespace.run(|| {
        ["mcfilter", "mcfilter6"]
            .iter()
            .filter_map(|file| {
                std::fs::read_to_string(format!("/proc/thread-self/net/{file}")).ok()
            })
            .flat_map(|text| text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    });
    out.push_str(&format!("source filters of host {name}:"));
    if filters.is_empty() {
        out.push_str(" none (every join accepts any source)\n");
    } else {
        out.push('\n');
        for line in filters {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if let Some(explain) = namespace.explain.get() {
        out.push_str(&explain());
    }
    out
}

/// The multicast router's side of a failure: its virtual interfaces and its forwarding cache,
/// with the kernel's counters per (group, source): packets and bytes forwarded, and datagrams
/// that came in on the wrong interface. Read inside the router's namespace.
pub(crate) fn router(namespace: &Namespace) -> String {
    let read = |file: &str| {
        namespace.run(|| {
            std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
                .unwrap_or_else(|e| format!("(unreadable: {e})\n"))
        })
    };
    let mut out = String::from("the router's interfaces (ip_mr_vif):\n");
    for line in read("ip_mr_vif").lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(
        "the router's forwarding cache (ip_mr_cache: group, source, incoming interface, \
         packets, bytes, wrong-interface drops, outgoing interfaces:TTL threshold):\n",
    );
    let cache = read("ip_mr_cache");
    let mut lines = cache.lines();
    if let Some(header) = lines.next() {
        out.push_str(&format!("  {header}\n"));
    }
    let mut entries = 0;
    for line in lines {
        entries += 1;
        // The kernel writes the addresses as hexadecimal numbers in the machine's byte order.
        let mut fields = line.split_whitespace();
        let address = |hex: Option<&str>| {
            hex.and_then(|h| u32::from_str_radix(h, 16).ok())
                .map(|v| std::net::Ipv4Addr::from(v.to_ne_bytes()).to_string())
                .unwrap_or_else(|| "?".into())
        };
        let (group, source) = (address(fields.next()), address(fields.next()));
        let rest: Vec<&str> = fields.collect();
        out.push_str(&format!("  {group} from {source}: {}\n", rest.join(" ")));
    }
    if entries == 0 {
        out.push_str("  (empty: the router has seen no datagram to forward)\n");
    }
    out
}
