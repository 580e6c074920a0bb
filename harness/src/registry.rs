//! Where running labs are listed, so that `lab shell` in another terminal can find them: the
//! `lab` crate's labs, and tests paused by `HARNESS_PAUSE` (see `pause.rs`), which is why the
//! list lives here, below both.
//!
//! One small text file per lab, `<id>.lab`, in a directory only its user can read:
//! `$HARNESS_LAB_DIR` if set (tests use their own), else `$XDG_RUNTIME_DIR/multicast-lab`, else
//! `/tmp/multicast-lab-<uid>` (mode 0700). `<uid>` is the user's id outside any user namespace,
//! so a lab started by a test (running as root in a user namespace of its own) is listed with
//! the user's other labs and not with the real root's.
//!
//! An entry names the lab's pid and that process's start time (so a recycled pid is not
//! mistaken for the lab), the pid of its init (see `init.rs`), and for each host the file
//! descriptor through which the lab holds the host's network namespace: another process of
//! the same user opens `/proc/<pid>/fd/<fd>` to enter it. An entry whose process is gone is
//! stale: it is ignored and deleted by whoever lists the labs.

use std::fs;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// One host of a registered lab.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostEntry {
    /// Its name.
    pub name: String,
    /// Its IPv4 address.
    pub ipv4: Ipv4Addr,
    /// Its IPv6 address.
    pub ipv6: Ipv6Addr,
    /// The descriptor, in the lab's process, of the host's network namespace.
    pub fd: i32,
}

/// A running lab (or a test paused under `HARNESS_PAUSE`), as the registry lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The lab's id: the lab process's pid, as text, for the first lab (or paused test) a
    /// process registers, `PID-N` for the N-th after it ([`new_id`]).
    pub id: String,
    /// The process holding the namespaces.
    pub pid: u32,
    /// That process's start time (field 22 of `/proc/<pid>/stat`).
    pub start: u64,
    /// The lab's init, whose PID namespace shells join; 0 when there is none (a paused test).
    pub init: u32,
    /// The directory whose programs come first on a lab shell's `PATH`.
    pub bin: PathBuf,
    /// The lab's tmux server socket, when it has one.
    pub tmux: Option<PathBuf>,
    /// The hosts, in order.
    pub hosts: Vec<HostEntry>,
}

impl Entry {
    /// A new entry for process `pid` (its start time read now) with lab init `init` (0 for
    /// none) and `hosts`: a fresh id ([`new_id`]), the default `bin` ([`default_bin`]), no tmux.
    pub fn for_process(pid: u32, init: u32, hosts: Vec<HostEntry>) -> Entry {
        Entry {
            id: new_id(),
            pid,
            start: start_time(pid).unwrap_or(0),
            init,
            bin: default_bin(),
            tmux: None,
            hosts,
        }
    }

    /// The host called `name`, or an error listing the hosts there are.
    pub fn host(&self, name: &str) -> Result<&HostEntry, NoSuchHost> {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| NoSuchHost {
                lab: self.id.clone(),
                host: name.to_owned(),
                hosts: self.hosts.iter().map(|h| h.name.clone()).collect(),
            })
    }

    /// Whether the process that registered this entry is still the one running.
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }

    fn to_text(&self) -> String {
        let mut text = format!(
            "multicast-lab 1\nid {}\npid {}\nstart {}\ninit {}\nbin {}\n",
            self.id,
            self.pid,
            self.start,
            self.init,
            self.bin.display()
        );
        if let Some(tmux) = &self.tmux {
            text.push_str(&format!("tmux {}\n", tmux.display()));
        }
        for h in &self.hosts {
            text.push_str(&format!("host {} {} {} {}\n", h.name, h.ipv4, h.ipv6, h.fd));
        }
        text
    }

    fn parse(text: &str) -> Option<Entry> {
        let mut lines = text.lines();
        if lines.next()? != "multicast-lab 1" {
            return None;
        }
        let mut entry = Entry {
            id: String::new(),
            pid: 0,
            start: 0,
            init: 0,
            bin: PathBuf::new(),
            tmux: None,
            hosts: Vec::new(),
        };
        for line in lines {
            let (key, value) = line.split_once(' ')?;
            match key {
                "id" => entry.id = value.to_owned(),
                "pid" => entry.pid = value.parse().ok()?,
                "start" => entry.start = value.parse().ok()?,
                "init" => entry.init = value.parse().ok()?,
                "bin" => entry.bin = PathBuf::from(value),
                "tmux" => entry.tmux = Some(PathBuf::from(value)),
                "host" => {
                    let mut words = value.split(' ');
                    entry.hosts.push(HostEntry {
                        name: words.next()?.to_owned(),
                        ipv4: words.next()?.parse().ok()?,
                        ipv6: words.next()?.parse().ok()?,
                        fd: words.next()?.parse().ok()?,
                    });
                }
                _ => {}
            }
        }
        Some(entry)
    }
}

/// The registry directory, created (mode 0700) if missing, and checked to be ours.
pub fn directory() -> io::Result<PathBuf> {
    let dir = match std::env::var_os("HARNESS_LAB_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(run) if !run.is_empty() => PathBuf::from(run).join("multicast-lab"),
            _ => PathBuf::from(format!("/tmp/multicast-lab-{}", outer_uid())),
        },
    };
    own_directory(&dir)
}

/// Makes `dir` (mode 0700, its parents too) or takes the one there, only if it is a real
/// directory of this user's. Its name is predictable (`/tmp/multicast-lab-0` for root), so
/// another local user may have made it first: a symbolic link to a directory of ours (we
/// would write our entries, and chmod, wherever it points) or a directory of theirs (which
/// would deny us the lab, or let them read it). Both are refused, never followed: the link
/// is looked at itself (`lstat`), and in a sticky `/tmp` nobody else can swap a directory
/// of ours for a link afterwards.
pub(crate) fn own_directory(dir: &Path) -> io::Result<PathBuf> {
    let refused = |why: String| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} {why}; remove it, or set HARNESS_LAB_DIR to a directory of yours",
                dir.display()
            ),
        )
    };
    if let Some(parent) = dir.parent() {
        fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(parent)
            .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", parent.display())))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            return Err(io::Error::new(
                e.kind(),
                format!("creating {}: {e}", dir.display()),
            ));
        }
        _ => {}
    }
    let meta = fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(dir).unwrap_or_default();
        return Err(refused(format!(
            "is a symbolic link (to {}), not a directory: another user may have planted it",
            target.display()
        )));
    }
    if !meta.is_dir() {
        return Err(refused("is not a directory".into()));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(refused(format!(
            "belongs to user {} (you are {me}): another user made it first",
            meta.uid()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir.to_path_buf())
}

/// A registry id no other entry of this process has: the pid for the first, then `PID-1`,
/// `PID-2`, ... (a test process may run several labs at once).
pub fn new_id() -> String {
    static ISSUED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let pid = std::process::id();
    match ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
        0 => pid.to_string(),
        n => format!("{pid}-{n}"),
    }
}

/// Writes (or replaces) `entry`; returns its path.
pub fn register(entry: &Entry) -> io::Result<PathBuf> {
    let dir = directory()?;
    let path = dir.join(format!("{}.lab", entry.id));
    let temporary = dir.join(format!(".{}.lab.tmp", entry.id));
    let written = fs::File::create(&temporary)
        .and_then(|mut file| file.write_all(entry.to_text().as_bytes()))
        .and_then(|()| fs::rename(&temporary, &path));
    if let Err(e) = written {
        // A full disk must not leave a half-written (or empty) file behind.
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(path)
}

/// The labs running now, oldest first; stale entries are deleted on the way.
pub fn running() -> io::Result<Vec<Entry>> {
    running_in(&directory()?)
}

/// The labs registered in `dir` and running now, oldest first (stale entries are deleted).
pub fn running_in(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for file in fs::read_dir(dir)?.flatten() {
        let path = file.path();
        if path.extension().is_none_or(|e| e != "lab") {
            continue;
        }
        let Some(entry) = fs::read_to_string(&path)
            .ok()
            .and_then(|t| Entry::parse(&t))
        else {
            continue;
        };
        if entry.alive() {
            entries.push(entry);
        } else {
            remove_files(dir, &entry.id);
        }
    }
    entries.sort_by_key(|e| e.start);
    Ok(entries)
}

/// A lab has no host of the name asked for ([`Entry::host`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("lab {lab} has no host {host:?} (its hosts: {})", hosts.join(", "))]
#[non_exhaustive]
pub struct NoSuchHost {
    /// The lab's id.
    pub lab: String,
    /// The host name asked for.
    pub host: String,
    /// The hosts the lab has.
    pub hosts: Vec<String>,
}

/// Why [`choose`] found no single lab to attach to. Each message lists the labs running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChooseError {
    /// The registry could not be read.
    #[error("reading the lab registry: {cause}")]
    Registry {
        /// What reading it said.
        cause: io::Error,
    },
    /// No lab is running at all.
    #[error("no lab is running (start one with `cargo lab`)")]
    NoneRunning,
    /// No running lab has the id asked for.
    #[error("no lab {id} is running ({running})")]
    NoSuchLab {
        /// The id asked for.
        id: String,
        /// The labs that are running, as one line.
        running: String,
    },
    /// No running lab (or paused test) belongs to the process asked for.
    #[error("process {pid} has no lab or paused test registered ({running})")]
    NoSuchProcess {
        /// The pid asked for.
        pid: u32,
        /// The labs that are running, as one line.
        running: String,
    },
    /// Several labs match: the caller must pick one.
    #[error("{count} labs are running: pick one with --lab ID ({running})")]
    Ambiguous {
        /// How many match.
        count: usize,
        /// The labs that are running, as one line.
        running: String,
    },
}

/// Picks the lab to attach to: by id, by pid, or the only one running.
pub fn choose(id: Option<&str>, pid: Option<u32>) -> Result<Entry, ChooseError> {
    let labs = running().map_err(|cause| ChooseError::Registry { cause })?;
    let wanted: Vec<&Entry> = labs
        .iter()
        .filter(|e| id.is_none_or(|id| e.id == id) && pid.is_none_or(|pid| e.pid == pid))
        .collect();
    match (wanted.as_slice(), id, pid) {
        ([one], _, _) => Ok((*one).clone()),
        ([], None, None) => Err(ChooseError::NoneRunning),
        ([], Some(id), _) => Err(ChooseError::NoSuchLab {
            id: id.to_owned(),
            running: listing(&labs),
        }),
        ([], None, Some(pid)) => Err(ChooseError::NoSuchProcess {
            pid,
            running: listing(&labs),
        }),
        (_, _, _) => Err(ChooseError::Ambiguous {
            count: wanted.len(),
            running: listing(&labs),
        }),
    }
}

fn listing(labs: &[Entry]) -> String {
    if labs.is_empty() {
        return "none is running".into();
    }
    let ids: Vec<String> = labs
        .iter()
        .map(|e| {
            let hosts: Vec<&str> = e.hosts.iter().map(|h| h.name.as_str()).collect();
            format!("{}: {}", e.id, hosts.join(" "))
        })
        .collect();
    format!("running: {}", ids.join("; "))
}

/// Deletes a lab's entry and the files it made next to it (tmux socket, shell rc files).
pub fn remove_files(dir: &Path, id: &str) {
    let Ok(files) = fs::read_dir(dir) else { return };
    for file in files.flatten() {
        let name = file.file_name();
        let name = name.to_string_lossy();
        if name == format!("{id}.lab") || name.starts_with(&format!("{id}.")) {
            let _ = fs::remove_file(file.path());
        }
    }
}

pub use crate::procfs::start_time;

/// The directory of the running executable, or `target/debug` for a test in `target/debug/deps`.
pub fn default_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().unwrap_or(Path::new("/")).to_owned();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().unwrap_or(&dir).to_owned()
    } else {
        dir
    }
}
pub(crate) use crate::privilege::outer_uid;

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry reads back as it was written; a file of another format is not an entry.
    #[test]
    fn entries_read_back_as_written() {
        let entry = Entry {
            id: "42".into(),
            pid: 42,
            start: 1234,
            init: 43,
            bin: PathBuf::from("/work/target/debug"),
            tmux: Some(PathBuf::from("/tmp/multicast-lab-1000/42.tmux")),
            hosts: vec![HostEntry {
                name: "b".into(),
                ipv4: Ipv4Addr::new(10, 0, 0, 2),
                ipv6: "fd00::2".parse().unwrap(),
                fd: 9,
            }],
        };
        assert_eq!(Entry::parse(&entry.to_text()), Some(entry));
        assert_eq!(Entry::parse("something else\nid 1\n"), None);
    }
}
