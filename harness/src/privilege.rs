//! Who may build a sandbox, and what a test does when nobody may.
//!
//! Creating a network namespace needs `CAP_SYS_ADMIN`. Root has it. An ordinary user can get
//! it inside a *user namespace* of their own, where they are mapped to root; that works where
//! the distribution allows unprivileged user namespaces. But `unshare(CLONE_NEWUSER)` refuses
//! a process that already has several threads, and a test binary starts its threads before
//! any test runs. So the harness makes the move before `main`, while the process still has one
//! thread: a constructor (the `ctor` crate) that runs only when the process is not root.
//! Set `HARNESS_NO_USERNS=1` to turn that off.
//!
//! When no sandbox can be had, [`crate::or_skip!`] prints one `skipped: <why>` line and returns
//! from the test; with `HARNESS_REQUIRE_SANDBOX=1` (CI sets it) it panics instead, so a machine
//! that silently skips everything cannot pass CI.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::Error;

/// Stage of the user-namespace move that failed (0 = not attempted or fine), and its errno.
static USERNS_STAGE: AtomicI32 = AtomicI32::new(0);
static USERNS_ERRNO: AtomicI32 = AtomicI32::new(0);
const STAGE_UNSHARE: i32 = 1;
const STAGE_MAPS: i32 = 2;

/// Runs before `main` in every binary that links the harness. Only libc calls here: the
/// standard library is not set up yet.
///
/// Two exceptions to the move: a process started as a lab's `init` (see `lab/init.rs`) never
/// returns from here, and the `lab` front end manages user namespaces itself: creating a lab
/// moves into a new one from `main`, while attaching to a running lab must *join the lab's*,
/// which a process that already made one of its own can no longer do.
#[ctor::ctor(unsafe)]
fn enter_user_namespace_if_unprivileged() {
    // SAFETY: plain libc calls on a single-threaded process before main.
    unsafe {
        crate::lab::init::run_if_asked();
        if libc::geteuid() == 0
            || !libc::getenv(c"HARNESS_NO_USERNS".as_ptr()).is_null()
            || is_lab_front_end()
        {
            return;
        }
        enter_user_namespace();
    }
}

/// Moves the calling process into a new user namespace where its user is root, recording
/// how that failed for [`check`]. The process must have one thread.
pub(crate) unsafe fn enter_user_namespace() {
    // SAFETY: plain libc calls; the caller guarantees a single thread.
    unsafe {
        let uid = libc::geteuid();
        let gid = libc::getegid();
        if libc::unshare(libc::CLONE_NEWUSER) != 0 {
            USERNS_ERRNO.store(*libc::__errno_location(), Ordering::Relaxed);
            USERNS_STAGE.store(STAGE_UNSHARE, Ordering::Relaxed);
            return;
        }
        let ok = write_proc(c"/proc/self/setgroups", b"deny")
            && write_map(c"/proc/self/uid_map", uid)
            && write_map(c"/proc/self/gid_map", gid);
        if !ok {
            USERNS_ERRNO.store(*libc::__errno_location(), Ordering::Relaxed);
            USERNS_STAGE.store(STAGE_MAPS, Ordering::Relaxed);
        }
    }
}

/// Whether this executable is the `lab` front end (`/proc/self/exe` ends in `/lab`).
unsafe fn is_lab_front_end() -> bool {
    let mut buffer = [0u8; 4096];
    // SAFETY: buffer is valid for its length.
    let n = unsafe {
        libc::readlink(
            c"/proc/self/exe".as_ptr(),
            buffer.as_mut_ptr().cast(),
            buffer.len(),
        )
    };
    n > 0 && buffer[..n as usize].ends_with(b"/lab")
}

/// Writes "0 <id> 1": the caller's id becomes root inside the new user namespace.
unsafe fn write_map(path: &std::ffi::CStr, id: u32) -> bool {
    let mut line = *b"0 0000000000 1";
    let mut value = id;
    for slot in line[2..12].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    // SAFETY: forwarded to the caller's contract.
    unsafe { write_proc(path, &line) }
}

unsafe fn write_proc(path: &std::ffi::CStr, bytes: &[u8]) -> bool {
    // SAFETY: path is NUL-terminated, bytes is a valid buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        written == bytes.len() as isize
    }
}

/// Whether this process can create network namespaces; the reason if not. Checked once.
pub(crate) fn check() -> crate::Result<()> {
    static VERDICT: OnceLock<Result<(), String>> = OnceLock::new();
    VERDICT
        .get_or_init(probe)
        .clone()
        .map_err(Error::Unavailable)
}

fn probe() -> Result<(), String> {
    let stage = USERNS_STAGE.load(Ordering::Relaxed);
    let errno = std::io::Error::from_raw_os_error(USERNS_ERRNO.load(Ordering::Relaxed));
    // Try for real, on a throwaway thread so this thread's namespace is untouched.
    let attempt = std::thread::spawn(|| nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET))
        .join()
        .expect("probe thread");
    match (attempt, stage) {
        (Ok(()), _) => Ok(()),
        (Err(e), STAGE_UNSHARE) => Err(format!(
            "no network namespace: not root, and unprivileged user namespaces are refused here \
             ({errno}); run as root or allow them (sysctl kernel.unprivileged_userns_clone=1 / \
             user.max_user_namespaces > 0, kernel.apparmor_restrict_unprivileged_userns=0); \
             unshare(CLONE_NEWNET) said {e}"
        )),
        (Err(e), STAGE_MAPS) => Err(format!(
            "no network namespace: entered a user namespace but could not map our uid ({errno}); \
             unshare(CLONE_NEWNET) said {e}"
        )),
        (Err(e), _) => Err(format!(
            "no network namespace: unshare(CLONE_NEWNET) said {e} (needs root, or a user \
             namespace: unset HARNESS_NO_USERNS)"
        )),
    }
}

/// True when `HARNESS_REQUIRE_SANDBOX` is set to anything but `0` or empty.
pub fn sandbox_required() -> bool {
    std::env::var("HARNESS_REQUIRE_SANDBOX").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// What [`crate::or_skip!`] does with a result: the value, or `None` after printing why it
/// skipped. Panics on any other error, and on a skip when [`sandbox_required`].
pub fn skip_unless_available<T>(result: crate::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::Unavailable(why)) if !sandbox_required() => {
            eprintln!("skipped: {why}");
            None
        }
        Err(Error::Unavailable(why)) => {
            panic!("HARNESS_REQUIRE_SANDBOX is set but no sandbox can be built: {why}")
        }
        Err(other) => panic!("building the sandbox failed: {other}"),
    }
}

/// Builds a sandbox or skips the test: `let host = harness::or_skip!(Sandbox::new());`
///
/// Evaluates to the value when the expression succeeds. When the machine cannot create
/// network namespaces it prints `skipped: <why>` and `return`s from the calling function
/// (or panics under `HARNESS_REQUIRE_SANDBOX=1`). Any other error panics with its message.
/// In a test that returns a value, say what a skip returns:
/// `let lan = harness::or_skip!(Lan::new(["a", "b"]), Ok(()));`
#[macro_export]
macro_rules! or_skip {
    ($built:expr) => {
        $crate::or_skip!($built, ())
    };
    ($built:expr, $skipped:expr) => {
        match $crate::skip_unless_available($built) {
            Some(value) => value,
            None => return $skipped,
        }
    };
}
