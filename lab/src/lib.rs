//! The workshop's virtual LAN as a running thing a person (or a test) can step into.
//!
//! A [`Lab`] is a [`crate::Lan`], [`crate::Routed`] or [`crate::Sandbox`] plus three things a
//! person needs and a test usually does not:
//! - a **PID namespace** (`init.rs`): every shell and command started in the lab lives in it,
//!   so when the lab ends, or its process is killed with SIGKILL, the kernel kills them all,
//!   pipelines and background jobs included;
//! - a **registry entry** (`registry.rs`): another process of the same user finds the lab by
//!   id and enters a host's namespaces (`attach.rs`), which is what `cargo lab shell b` and
//!   `cargo lab exec b -- ...` do;
//! - a **shell environment**: `PATH` starting with the workspace's built programs, and a
//!   prompt naming the host and its address (`b 10.0.0.2 $ `).
//!
//! [`Lab::exec`] runs one command line in a host through the same environment, and is what
//! tests (and the book's walkthrough tests) drive a lab with. The `lab` binary
//! (`src/bin/lab.rs`) is the front end: tmux windows (`tmux.rs`), or a plain command loop.
//!
//! [`picture`] draws a lab as an SVG (the book's pictures and the web view's). With the
//! `web` feature (on by default; the docs crate turns it off, so the tour never compiles an
//! HTTP server), [`observe`] watches every host of a lab from inside (memberships, multicast
//! flows, counters) and [`web`] serves that as a live page and as JSON: `cargo lab --web`,
//! `cargo lab web`.
//!
//! Deliberately left out: a mount namespace. `/proc` is the machine's, so `ps` in a lab shell
//! lists every process of the machine, with the machine's pids, while `$$` and `jobs` show
//! the lab's own (init is 1). Files keep their owners: a non-root user is root inside the
//! lab's user namespace, and what a lab shell writes belongs to that user on disk.

mod attach;
mod init;
#[cfg(feature = "web")]
pub mod observe;
pub mod picture;
mod tmux;
#[cfg(feature = "web")]
pub mod web;

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::Mutex;

use nix::sched::{CloneFlags, setns};

use harness::procfs::kill_processes_in;
use harness::registry;
use harness::{Context, Error, Host, Lan, Routed, Sandbox};

pub use attach::capture;
pub use attach::{AttachError, Program, attach};
pub use harness::registry::{Entry, HostEntry};
pub use tmux::Tmux;

/// Which network a lab is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// Named hosts on one segment: host k is `10.0.0.k` and `fd00::k`.
    Lan(Vec<String>),
    /// Two segments joined by a multicast router (the host `router`), forwarding each
    /// (source, group) pair listed.
    Routed {
        /// Hosts of segment 1 (`10.0.1.k`).
        first: Vec<String>,
        /// Hosts of segment 2 (`10.0.2.k`).
        second: Vec<String>,
        /// (source, group) pairs the router forwards from the source's segment to the other.
        forward: Vec<(Ipv4Addr, Ipv4Addr)>,
    },
    /// One host, `sandbox`: IPv4 multicast over `lo`, IPv6 over `eth0`.
    Sandbox,
}

enum Built {
    Lan(Lan),
    Routed(Routed),
    Sandbox(Sandbox),
}

/// A running lab; see the module docs. Dropping it ends it: every process started in it is
/// killed, its namespaces vanish and its registry entry is removed.
pub struct Lab {
    // Fields drop in this order: processes first, then the registry entry, then the network.
    keeper: Mutex<Option<init::Keeper>>,
    pid_namespace: File,
    registered: Mutex<Option<PathBuf>>,
    entry: Entry,
    built: Built,
}

impl Lab {
    /// Builds `network`, starts the lab's PID namespace and registers the lab. Returns when
    /// every link carries traffic. Programs of the directory holding the running executable
    /// (or of `target/debug` when the executable is a test in `target/debug/deps`) come first
    /// on the lab's `PATH`; [`Lab::with_bin`] changes that.
    pub fn new(network: Network) -> harness::Result<Lab> {
        // A lab is entered with `lab shell` already: it never pauses on a failure.
        let built = match network {
            Network::Lan(names) => {
                let mut lan = Lan::new(names)?;
                lan.keep_nothing_on_failure();
                Built::Lan(lan)
            }
            Network::Sandbox => {
                let mut sandbox = Sandbox::new()?;
                sandbox.keep_nothing_on_failure();
                Built::Sandbox(sandbox)
            }
            Network::Routed {
                first,
                second,
                forward,
            } => {
                let mut routed = Routed::new(first, second)?;
                routed.keep_nothing_on_failure();
                for (source, group) in forward {
                    routed.forward(source, group)?;
                }
                Built::Routed(routed)
            }
        };
        let keeper = init::Keeper::start()?;
        let init_pid = keeper.init_pid();
        let pid_namespace = keeper
            .pid_namespace()
            .doing(|| "opening the lab's PID namespace".into())?;
        let pid = std::process::id();
        let mut lab = Lab {
            keeper: Mutex::new(Some(keeper)),
            pid_namespace,
            registered: Mutex::new(None),
            entry: Entry::for_process(pid, init_pid, Vec::new()),
            built,
        };
        lab.entry.hosts = lab.hosts().iter().map(|h| h.registry_entry()).collect();
        lab.register()?;
        Ok(lab)
    }

    /// Puts `bin` first on the lab's `PATH` instead (for shells attached from now on).
    pub fn with_bin(mut self, bin: &Path) -> harness::Result<Lab> {
        self.entry.bin = bin.to_owned();
        self.register()?;
        Ok(self)
    }

    /// Records the lab's tmux socket in its registry entry.
    pub(crate) fn set_tmux(&mut self, socket: &Path) -> harness::Result<()> {
        self.entry.tmux = Some(socket.to_owned());
        self.register()
    }

    fn register(&mut self) -> harness::Result<()> {
        let path = registry::register(&self.entry).doing(|| "registering the lab".into())?;
        *self.registered.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
        Ok(())
    }

    /// The lab's id (what `--lab ID` names).
    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// The lab as the registry lists it.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    /// Every host, in order (a routed lab's router last).
    pub fn hosts(&self) -> Vec<&Host> {
        match &self.built {
            Built::Lan(lan) => lan.hosts().iter().collect(),
            Built::Sandbox(sandbox) => vec![&**sandbox],
            Built::Routed(routed) => routed
                .hosts()
                .iter()
                .chain(std::iter::once(routed.router()))
                .collect(),
        }
    }

    /// The host called `name`, or an error listing the hosts.
    pub fn host(&self, name: &str) -> harness::Result<&Host> {
        self.entry
            .host(name)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(self
            .hosts()
            .into_iter()
            .find(|h| h.name() == name)
            .expect("the entry lists the lab's hosts"))
    }

    /// A command for `host` with the lab's environment (`PATH`, `LAB_ID`, `LAB_HOST`, `PS1`).
    /// Start it with [`Lab::spawn`] or [`Lab::output`].
    pub fn command(&self, host: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        if let Ok(entry) = self.entry.host(host) {
            attach::set_environment(&mut command, &self.entry, entry);
        }
        command
    }

    /// Runs `command_line` with `bash -c` in `host`, the way a lab shell would, and collects
    /// its output. The process lives in the lab's PID namespace.
    pub fn exec(&self, host: &str, command_line: &str) -> harness::Result<Output> {
        let mut command = self.command(host, "bash");
        command.arg("-c").arg(command_line);
        self.output(host, &mut command)
    }

    /// Starts `command` in `host` and in the lab's PID namespace. It is killed when the lab ends.
    pub fn spawn(&self, host: &str, command: &mut Command) -> harness::Result<Child> {
        let what = format!("starting {:?} in host {host}", command.get_program());
        self.inside(host, || command.spawn()).doing(|| what)
    }

    /// Runs `command` to completion in `host` (and the lab's PID namespace).
    pub fn output(&self, host: &str, command: &mut Command) -> harness::Result<Output> {
        let what = format!("running {:?} in host {host}", command.get_program());
        self.inside(host, || command.output()).doing(|| what)
    }

    /// Runs `f` on a thread that is in `host`'s network namespace and whose children start in
    /// the lab's PID namespace.
    fn inside<R: Send>(
        &self,
        host: &str,
        f: impl FnOnce() -> std::io::Result<R> + Send,
    ) -> std::io::Result<R> {
        let host = self
            .host(host)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()))?;
        // `Host::run` runs on a thread in the host's network namespace; entering the PID
        // namespace there makes the children it starts the lab's.
        host.run(|| {
            setns(&self.pid_namespace, CloneFlags::CLONE_NEWPID)?;
            f()
        })
    }

    /// Ends the lab now (dropping it does the same).
    pub fn end(self) {}

    /// Kills every process started in the lab and removes its registry entry; the network
    /// itself goes when the lab is dropped (or the process exits). For a lab shared between
    /// threads.
    pub fn stop(&self) {
        // Killing init kills every process in the lab's PID namespace.
        drop(self.keeper.lock().unwrap_or_else(|p| p.into_inner()).take());
        // Anyone who entered a host without joining the PID namespace (`nsenter`) goes too.
        let inodes: Vec<u64> = self.hosts().iter().map(|h| h.namespace_inode()).collect();
        kill_processes_in(&inodes);
        let registered = self
            .registered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(path) = registered {
            let dir = path.parent().unwrap_or(Path::new("/"));
            registry::remove_files(dir, &self.entry.id);
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop();
    }
}

/// For the `lab` front end, first thing in `main`: when not root, moves the process into a
/// user namespace of its own where it is root, so that it can build namespaces. (The lab
/// does not ask for it before `main`, as test binaries do with
/// `harness::userns_before_main!()`, because `lab shell` must join the *lab's* user
/// namespace instead.) Does nothing with more than one thread, as `unshare(CLONE_NEWUSER)`
/// would fail; [`Lab::new`] then reports why it cannot build anything.
pub fn become_root_in_user_namespace() {
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
    if threads != 1 {
        return;
    }
    // SAFETY: the process has one thread (checked just above), and relies on no user id yet.
    unsafe { harness::init_userns_before_main() }
}
