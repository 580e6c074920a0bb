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
        let inode = std::fs::read_link(process.path().join("ns/net"))
            .ok()
            .and_then(|t| {
                t.to_str()?
                    .strip_prefix("net:[")?
                    .strip_suffix(']')?
                    .parse::<u64>()
                    .ok()
            });
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
