//! The lab's process namespace: everything started in a lab dies with it, even after SIGKILL.
//!
//! A lab runs every shell and command in a PID namespace of its own. The kernel guarantees
//! what no bookkeeping of ours could: when the namespace's first process, its *init*, dies,
//! every other process in the namespace is killed with SIGKILL, whatever process group or
//! session it moved to (`sleep 100 | cat &`, `nohup`, a daemonised tmux server). Orphans in
//! the namespace are reparented to init, which reaps them, so it is also the subreaper.
//!
//! The init is this same executable (`/proc/self/exe`, shown as `exe` by `ps`), started with `HARNESS_LAB_INIT=<lab pid>` in its
//! environment: the harness's constructor (see `privilege.rs`) sees the variable before
//! `main` and runs [`run_if_asked`], a reaping loop that never returns. It is started from a
//! *keeper* thread that called `unshare(CLONE_NEWPID)` (which acts on the calling thread's
//! future children only) and lives as long as the lab, because `PR_SET_PDEATHSIG` fires when
//! the *thread* that forked a child ends: so init dies when the lab ends or the lab process
//! dies in any way, and takes the namespace with it.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use nix::sched::{CloneFlags, unshare};

use crate::error::Context;

const VARIABLE: &std::ffi::CStr = c"HARNESS_LAB_INIT";

/// Called by the harness's constructor before `main`: when this process was started as a
/// lab's init, reap children until killed. Only libc calls: the standard library is not set
/// up yet.
pub(crate) unsafe fn run_if_asked() {
    // SAFETY: getenv before main, single thread.
    let value = unsafe { libc::getenv(VARIABLE.as_ptr()) };
    if value.is_null() {
        return;
    }
    // SAFETY: plain libc calls in a single-threaded process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The lab may have died before PR_SET_PDEATHSIG took effect: then its /proc entry is gone.
        let mut path = *b"/proc/\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        let mut at = 6;
        let mut p = value;
        while *p != 0 && at < path.len() - 1 {
            path[at] = *p as u8;
            at += 1;
            p = p.add(1);
        }
        if libc::access(path.as_ptr().cast(), libc::F_OK) != 0 {
            libc::_exit(1);
        }
        // SIGCHLD must interrupt sigsuspend, so it gets a handler (that does nothing).
        extern "C" fn on_child(_: libc::c_int) {}
        let mut blocked: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut blocked);
        libc::sigaddset(&mut blocked, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut());
        libc::signal(libc::SIGCHLD, on_child as *const () as libc::sighandler_t);
        let mut nothing: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut nothing);
        loop {
            while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
            libc::sigsuspend(&nothing);
        }
    }
}

/// The keeper thread and the init it started; dropping it kills every process of the lab.
pub(crate) struct Keeper {
    init_pid: u32,
    /// The PID namespace, opened by the thread that made it.
    pid_namespace: std::fs::File,
    namespace: u64,
    stop: Option<mpsc::Sender<()>>,
}

impl Keeper {
    /// Starts the PID namespace and its init; returns once init runs.
    pub(crate) fn start() -> crate::Result<Keeper> {
        let (started_tx, started_rx) = mpsc::sync_channel::<io::Result<(u32, std::fs::File)>>(1);
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("lab keeper".into())
            .spawn(move || {
                // The namespace is opened here, where it was made (the kernel shows it only
                // once it holds a process: after init started). `/proc/INIT/ns/pid` would need
                // a /proc of the PID namespace we are in, which a lab started inside a lab
                // shell does not have (its /proc is the machine's, numbered otherwise).
                let started = unshare(CloneFlags::CLONE_NEWPID)
                    .map_err(io::Error::from)
                    .and_then(|()| spawn_init())
                    .and_then(|child| {
                        let namespace =
                            std::fs::File::open("/proc/thread-self/ns/pid_for_children");
                        Ok((child, namespace?))
                    });
                let mut child: Child = match started {
                    Ok((child, namespace)) => {
                        let _ = started_tx.send(Ok((child.id(), namespace)));
                        child
                    }
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                // Until the lab ends (or the process dies, which kills init: PDEATHSIG).
                let _ = stop_rx.recv();
                let _ = child.kill();
                // Reaped whenever the kernel lets init go: only once every process of its
                // namespace has been reaped by its parent, which may be outside (a `lab exec`,
                // or a `Child` the caller of `Lab::spawn` has not waited for yet).
                let _ = child.wait();
            })
            .doing(|| "starting the lab's keeper thread".into())?;
        let (init_pid, namespace_file) = started_rx
            .recv()
            .map_err(|_| io::Error::other("the keeper thread died"))
            .and_then(|r| r)
            .doing(|| "starting the lab's PID namespace and its init".into())?;
        // Without a /proc of our own PID namespace (a lab started inside a lab shell, whose
        // /proc is the machine's), /proc cannot tell about init's namespace: 0 skips the wait.
        let namespace = if super::proc_is_ours() {
            pid_namespace(init_pid).unwrap_or(0)
        } else {
            0
        };
        Ok(Keeper {
            init_pid,
            pid_namespace: namespace_file,
            namespace,
            stop: Some(stop_tx),
        })
    }

    /// Init's pid, as this process sees it.
    pub(crate) fn init_pid(&self) -> u32 {
        self.init_pid
    }

    /// The lab's PID namespace, a descriptor of its own.
    pub(crate) fn pid_namespace(&self) -> io::Result<std::fs::File> {
        self.pid_namespace.try_clone()
    }
}

/// The inode of `pid`'s PID namespace (`pid:[INODE]`).
fn pid_namespace(pid: u32) -> Option<u64> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()?
        .to_str()?
        .strip_prefix("pid:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Whether a process other than `init` that is neither a zombie nor gone lives in PID
/// namespace `namespace`. (A dying init stays until the others are reaped.)
fn anyone_alive_in(namespace: u64, init: u32) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|p| {
            let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                return false;
            };
            pid != init
                && pid_namespace(pid) == Some(namespace)
                && super::registry::start_time(pid).is_some()
        })
}

fn spawn_init() -> io::Result<Child> {
    // Named after the lab in `ps`; the executable is this one, wherever it was moved since.
    // `/proc/self/exe` even when the file was replaced since we started (a `cargo build`
    // run by `cargo lab` re-links `target/debug/lab`): it names the running inode.
    let mut command = Command::new("/proc/self/exe");
    command.arg0("lab-init");
    command
        .env("HARNESS_LAB_INIT", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn()
}

impl Drop for Keeper {
    fn drop(&mut self) {
        // The keeper kills init; the kernel then kills everything in the namespace. We wait
        // until nothing there runs any more (zombies left for their parents to reap), with a
        // deadline that only bounds a failure.
        // Init is our unreaped child, so its pid cannot have been reused.
        // SAFETY: kill(2).
        unsafe { libc::kill(self.init_pid as i32, libc::SIGKILL) };
        drop(self.stop.take());
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.namespace != 0
            && anyone_alive_in(self.namespace, self.init_pid)
            && std::time::Instant::now() < until
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
