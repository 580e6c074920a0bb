//! What `/proc` tells about processes: used to end what a lab or a test started.

use std::fs;

/// Whether `/proc` shows this process's own PID namespace: `/proc/self` is our pid. It is not
/// in a lab shell (the lab has a PID namespace of its own but no mount namespace, so `/proc`
/// is the machine's): there the pids `/proc` lists are not the ones `kill(2)` takes.
pub fn proc_is_ours() -> bool {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse::<u32>().ok())
        == Some(std::process::id())
}

/// Sends SIGKILL to every process (but this one) whose network namespace is one of `inodes`.
/// Does nothing where `/proc` is not of this PID namespace ([`proc_is_ours`]): a pid read
/// there would name another process, and the lab's own processes die with its init anyway.
pub fn kill_processes_in(inodes: &[u64]) {
    if !proc_is_ours() {
        return;
    }
    let me = std::process::id();
    for process in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 == me {
            continue;
        }
        let inode = namespace_inode(&process.path().join("ns/net"), "net");
        if inode.is_some_and(|i| inodes.contains(&i)) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let state = after_name.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// The inode a namespace link names: `link` is `/proc/PID/ns/KIND` or a descriptor
/// `/proc/PID/fd/N`, and reads `KIND:[INODE]` (`net:[4026531840]`). `None` for a link of
/// another kind, or one this process may not read.
pub fn namespace_inode(link: &std::path::Path, kind: &str) -> Option<u64> {
    fs::read_link(link)
        .ok()?
        .to_str()?
        .strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Every network namespace some process refers to, as it is in (`/proc/*/ns/net`) or holds a
/// descriptor of (`/proc/*/fd/*`): a namespace none of these name is gone.
pub fn referenced_network_namespaces() -> Vec<u64> {
    let mut found = Vec::new();
    for process in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let path = process.path();
        let mut links = vec![path.join("ns/net")];
        if let Ok(fds) = fs::read_dir(path.join("fd")) {
            links.extend(fds.flatten().map(|fd| fd.path()));
        }
        found.extend(links.iter().filter_map(|l| namespace_inode(l, "net")));
    }
    found
}
