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
    out
}
