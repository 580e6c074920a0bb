//! The lab's process namespace: everything started in a lab dies with it, even after SIGKILL.
//!
//! A lab runs every shell and command in a PID namespace of its own. The kernel guarantees
//! what no bookkeeping of ours could: when the namespace's first process, its *init*, dies,
//! every other process in the namespace is killed with SIGKILL, whatever process group or
//! session it moved to (`sleep 100 | cat &`, `nohup`, a daemonised tmux server). Orphans in
//! the namespace are reparented to init, which reaps them, so it is also the subreaper.
//!
//! The init is a fork of this process that never executes anything: right after the fork it
//! closes every inherited descriptor (it must hold no pipe, socket or namespace of the lab's
//! open), names itself `lab-init` and reaps children until it is killed. Between a fork and
//! an exec a multi-threaded process may call only async-signal-safe functions, and those are
//! all it ever calls, so no code has to run before `main` in the binaries that make labs.
//! It is forked from a *keeper* thread that called `unshare(CLONE_NEWPID)` (which acts on
//! the calling thread's future children only) and lives as long as the lab, because
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked a child ends: so init dies when the
//! lab ends or the lab process dies in any way, and takes the namespace with it.

use std::ffi::CString;
use std::io;
use std::sync::mpsc;

use nix::sched::{CloneFlags, unshare};

use harness::Context;

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
    pub(crate) fn start() -> harness::Result<Keeper> {
        let (started_tx, started_rx) =
            mpsc::sync_channel::<io::Result<(nix::unistd::Pid, std::fs::File)>>(1);
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
                    .and_then(|init| {
                        let namespace =
                            std::fs::File::open("/proc/thread-self/ns/pid_for_children");
                        Ok((init, namespace?))
                    });
                let init = match started {
                    Ok((init, namespace)) => {
                        let _ = started_tx.send(Ok((init, namespace)));
                        init
                    }
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                // Until the lab ends (or the process dies, which kills init: PDEATHSIG).
                let _ = stop_rx.recv();
                let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
                // Reaped whenever the kernel lets init go: only once every process of its
                // namespace has been reaped by its parent, which may be outside (a `lab exec`,
                // or a `Child` the caller of `Lab::spawn` has not waited for yet).
                let _ = nix::sys::wait::waitpid(init, None);
            })
            .doing(|| "starting the lab's keeper thread".into())?;
        let (init_pid, namespace_file) = started_rx
            .recv()
            .map_err(|_| io::Error::other("the keeper thread died"))
            .and_then(|r| r)
            .doing(|| "starting the lab's PID namespace and its init".into())?;
        // Without a /proc of our own PID namespace (a lab started inside a lab shell, whose
        // /proc is the machine's), /proc cannot tell about init's namespace: 0 skips the wait.
        let namespace = if harness::procfs::proc_is_ours() {
            nix::sys::stat::fstat(&namespace_file).map_or(0, |s| s.st_ino)
        } else {
            0
        };
        let init_pid = init_pid.as_raw() as u32;
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
                && harness::procfs::namespace_inode(format!("/proc/{pid}/ns/pid").as_ref(), "pid")
                    == Some(namespace)
                && harness::procfs::start_time(pid).is_some()
        })
}

/// Forks the lab's init (see the module docs) and returns its pid.
fn spawn_init() -> io::Result<nix::unistd::Pid> {
    // Everything the child needs is made before the fork: after it, no allocation.
    let parent = CString::new(format!("/proc/{}", std::process::id()))?;
    let null = std::fs::File::open("/dev/null")?;
    use std::os::fd::AsRawFd;
    let null = null.as_raw_fd();
    // SAFETY: the child calls only async-signal-safe functions (`init`) and never returns.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        // SAFETY: in the forked child, as `init` requires.
        0 => unsafe { init(&parent, null) },
        pid => Ok(nix::unistd::Pid::from_raw(pid)),
    }
}

/// The life of the lab's init, in the child of a fork: dies with the keeper thread, holds no
/// descriptor but `/dev/null` as its standard streams, reaps whatever is reparented to it.
///
/// # Safety
/// Call only in the child of a `fork`, before anything else: it uses async-signal-safe
/// system calls only, and never returns.
unsafe fn init(parent: &std::ffi::CStr, null: libc::c_int) -> ! {
    // SAFETY: async-signal-safe system calls on valid pointers (the caller's contract).
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The lab may have died before PR_SET_PDEATHSIG took effect: its /proc entry is gone.
        if libc::access(parent.as_ptr(), libc::F_OK) != 0 {
            libc::_exit(1);
        }
        libc::prctl(libc::PR_SET_NAME, c"lab-init".as_ptr());
        for stream in 0..3 {
            libc::dup2(null, stream);
        }
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        // SIGCHLD must interrupt sigsuspend, so it gets a handler (that does nothing); every
        // other signal is as the fork left it, and SIGKILL ends init whatever it does.
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

impl Drop for Keeper {
    fn drop(&mut self) {
        // The keeper kills init; the kernel then kills everything in the namespace. We wait
        // until nothing there runs any more (zombies left for their parents to reap), with a
        // deadline that only bounds a failure.
        // Init is our unreaped child, so its pid cannot have been reused.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.init_pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
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
