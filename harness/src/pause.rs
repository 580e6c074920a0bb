//! `HARNESS_PAUSE=1`: when a test fails, keep its network and say how to step into it.
//!
//! A developer whose test fails wants to look inside the failing network: run `ip maddr`, a
//! `tcpdump`, the program by hand. With `HARNESS_PAUSE` set, a [`crate::Lan`],
//! [`crate::Routed`] or [`crate::Sandbox`] dropped while its test panics (or after an
//! expectation returned [`crate::Unmet`] on the test's thread) registers itself like a running
//! lab, prints for each host the command that enters it (`cargo lab shell --pid PID b`, the
//! same door as the lab's, and the equivalent `nsenter` line) and the command that shows it
//! live in a browser (`cargo lab web --pid PID`), and waits for Enter before the network is
//! torn down. It reads Enter from the terminal (`/dev/tty`) when there is one, so
//! it works under `cargo test`'s output capture; otherwise from standard input.

use std::io::{BufRead, Write};

use crate::host::Host;
use crate::registry::{self, Entry};

/// The current count of unmet expectations on this thread, taken when a network is built.
fn mark() -> u64 {
    crate::unmet::made_on_this_thread()
}

/// What a network does with itself when the test that built it fails: keeps its recordings
/// and pauses if asked. Each network holds one and calls [`OnFailure::dropping`] from its
/// `Drop`, before its hosts go.
pub(crate) struct OnFailure {
    /// The unmet count when the network was built; `None`: do nothing.
    mark: Option<u64>,
}

impl OnFailure {
    /// Armed, counting failures from now.
    pub(crate) fn armed() -> OnFailure {
        OnFailure { mark: Some(mark()) }
    }

    /// Never keeps or pauses anything (a lab, which people enter by other means).
    pub(crate) fn disarm(&mut self) {
        self.mark = None;
    }

    /// Called as the network with these hosts is dropped.
    pub(crate) fn dropping(&self, hosts: &[&Host]) {
        if let Some(mark) = self.mark {
            if_failed(hosts, mark);
        }
    }
}

/// Whether `HARNESS_PAUSE` asks for pausing.
fn requested() -> bool {
    std::env::var("HARNESS_PAUSE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Called as a network is dropped: when the test failed since `mark`, keeps its recordings
/// (`HARNESS_PCAP_DIR`, see `recording.rs`) and pauses if asked.
fn if_failed(hosts: &[&Host], mark: u64) {
    let failed = std::thread::panicking() || self::mark() > mark;
    if failed {
        for host in hosts {
            if let Some(recording) = host.recording() {
                recording.keep(host.name());
            }
        }
    }
    if !requested() || !failed || hosts.is_empty() {
        return;
    }
    let pid = std::process::id();
    let entry = Entry::for_process(pid, 0, hosts.iter().map(|h| h.registry_entry()).collect());
    let registered = registry::register(&entry);
    let in_user_namespace = !crate::privilege::in_initial_user_namespace();
    let user = if in_user_namespace {
        format!("--preserve-credentials --user=/proc/{pid}/ns/user ")
    } else {
        String::new()
    };
    let mut message = String::from(
        "HARNESS_PAUSE: the test failed; its network stays up until you press Enter.\n",
    );
    if let Err(e) = &registered {
        message.push_str(&format!("  (could not register it for `cargo lab`: {e})\n"));
    }
    for (host, h) in hosts.iter().zip(&entry.hosts) {
        message.push_str(&format!(
            "  host {:<8} cargo lab shell --pid {pid} {}    or: nsenter {user}--net=/proc/{pid}/fd/{} bash\n",
            host.name(),
            host.name(),
            h.fd
        ));
    }
    message.push_str(&format!(
        "  a live view of it (memberships, flows, counters) in a browser: cargo lab web --pid {pid}\n"
    ));
    // Straight to the file descriptor: the test harness captures `eprintln!`.
    let mut stderr = std::io::stderr().lock();
    let mut line = String::new();
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    {
        Ok(tty) => {
            message.push_str("Press Enter (in this terminal) to tear it down.\n");
            let _ = (&tty).write_all(message.as_bytes());
            let _ = std::io::BufReader::new(tty).read_line(&mut line);
        }
        Err(_) => {
            message.push_str("No terminal: waiting for a line (or the end) on standard input.\n");
            let _ = stderr.write_all(message.as_bytes());
            let _ = stderr.flush();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
    }
    // Shells entered through the lines above would keep the namespaces alive.
    let inodes: Vec<u64> = hosts.iter().map(|h| h.namespace_inode()).collect();
    crate::procfs::kill_processes_in(&inodes);
    if let Ok(path) = registered {
        let _ = std::fs::remove_file(path);
    }
}
