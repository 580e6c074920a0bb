//! `HARNESS_PCAP_DIR`: every interface of every host a test builds is recorded from the
//! start, and when the test fails its recordings are kept as pcap files, one per host and
//! interface, named `TEST-HOST-INTERFACE.pcap` in that directory, and named in the failure.
//!
//! The recordings are `AF_PACKET` captures ([`crate::Capture`]) opened when the host is
//! made; the kernel holds their frames in each socket's receive buffer (4 MiB asked for)
//! until a failure writes them out, so a test that floods an interface keeps only the
//! first few megabytes of it. A test that passes writes nothing.

use std::path::{Path, PathBuf};

use crate::capture::Capture;
use crate::namespace::Namespace;

/// The directory `HARNESS_PCAP_DIR` names, if it is set.
pub(crate) fn directory() -> Option<PathBuf> {
    std::env::var_os("HARNESS_PCAP_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// One host's recordings: a capture per interface.
pub(crate) struct Recording {
    captures: Vec<(String, Capture)>,
}

impl Recording {
    /// Starts recording every interface of `namespace`, when `HARNESS_PCAP_DIR` asks for it.
    /// A capture that cannot be opened is left out, with one line saying so.
    pub(crate) fn start(namespace: &Namespace, host: &str) -> Option<Recording> {
        directory()?;
        let captures = namespace.run(|| {
            interfaces()
                .into_iter()
                .filter_map(|name| {
                    let index = nix::net::if_::if_nametoindex(name.as_str()).ok()?;
                    match Capture::open(&name, index) {
                        Ok(capture) => {
                            capture.enlarge_buffer(4 << 20);
                            Some((name, capture))
                        }
                        Err(e) => {
                            eprintln!("harness: not recording {name} of host {host}: {e}");
                            None
                        }
                    }
                })
                .collect()
        });
        Some(Recording { captures })
    }
}

/// The interfaces of the calling thread's namespace, from `/proc/thread-self/net/dev`.
fn interfaces() -> Vec<String> {
    std::fs::read_to_string("/proc/thread-self/net/dev")
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|line| Some(line.split(':').next()?.trim().to_owned()))
        .filter(|name| !name.is_empty())
        .collect()
}

/// The test's name as the file names use it: the test thread's name, `::` made `-`.
fn test_name() -> String {
    let name = std::thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-");
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn file(dir: &Path, host: &str, interface: &str) -> PathBuf {
    dir.join(format!("{}-{host}-{interface}.pcap", test_name()))
}

/// For a failure message: where this test's recordings of `host` will be, if any are made.
pub(crate) fn note(host: &str) -> Option<String> {
    let dir = directory()?;
    Some(format!(
        "recordings of host {host} (written when the test's network is dropped): {}\n",
        file(&dir, host, "*").display()
    ))
}

impl Recording {
    /// Writes each interface's recording to the directory as `TEST-HOST-INTERFACE.pcap` and
    /// prints the files' names. Called when a failed test's network is dropped.
    pub(crate) fn keep(&self, host: &str) {
        let Some(dir) = directory() else { return };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!(
                "harness: cannot keep the recordings in {}: {e}",
                dir.display()
            );
            return;
        }
        for (interface, capture) in &self.captures {
            let path = file(&dir, host, interface);
            match capture.write_pcap(&path) {
                Ok(frames) => eprintln!("harness: kept {} ({frames} frames)", path.display()),
                Err(e) => eprintln!("harness: writing {}: {e}", path.display()),
            }
        }
    }
}
