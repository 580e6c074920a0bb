//! Who may build a sandbox, and what a test does when nobody may.
//!
//! Creating a network namespace needs `CAP_SYS_ADMIN`. Root has it. An ordinary user can get
//! it inside a *user namespace* of their own, where they are mapped to root; that works where
//! the distribution allows unprivileged user namespaces. But `unshare(CLONE_NEWUSER)` refuses
//! a process that already has several threads, and a test binary starts its threads before
//! any test runs. So the move is made before `main`, while the process still has one thread,
//! in the binaries that ask for it with one line, `harness::userns_before_main!();` (a
//! constructor in the ELF `.init_array`; nothing runs before `main` in a binary without it).
//! It first makes the whole move in a forked child and moves this process only when the
//! child succeeded, so a machine that allows half of it never leaves a process as `nobody`.
//! Inside, the process is root of its own user namespace, mapped to the user outside: files
//! it writes belong to the user. Set `HARNESS_NO_USERNS=1` to turn the move off.
//!
//! When no sandbox can be had, [`crate::Capability::Sandbox`] says why, and
//! [`crate::or_skip!`] (in `skip.rs`) turns that into a visible skip.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Stage of the user-namespace move that failed (0 = not attempted or fine), and its errno.
static USERNS_STAGE: AtomicI32 = AtomicI32::new(0);
static USERNS_ERRNO: AtomicI32 = AtomicI32::new(0);
const STAGE_UNSHARE: i32 = 1;
const STAGE_MAPS: i32 = 2;
const STAGE_NETNS: i32 = 3;
const STAGE_PROBE: i32 = 4;

/// Whether this binary asked for the move before `main` ([`init_userns_before_main`]).
static ASKED: AtomicBool = AtomicBool::new(false);

/// Moves this process into a user namespace of its own, where its user is root, unless it is
/// root already or `HARNESS_NO_USERNS` is set. A binary asks for it with one line,
/// [`crate::userns_before_main!`], which calls this from the process's constructors (the ELF
/// `.init_array`), before `main`. Without that line a process of an ordinary user stays as
/// it is, and a test that needs a sandbox skips, saying which line is missing.
///
/// The move is tried first in a forked child, all of it: the user namespace, the id maps
/// and a network namespace inside. Only when the child succeeded does this process move. A
/// half-done move would be worse than none: where `unshare(CLONE_NEWUSER)` is allowed but
/// writing the maps is not (Ubuntu 24.04's AppArmor restriction), the process would run on
/// as the overflow user `nobody`, unable to read its own files. How it failed is kept for
/// the skip message. Only libc is called: the standard library may not be set up yet.
///
/// # Safety
/// - The process must have exactly one thread: `unshare(CLONE_NEWUSER)` refuses others, and
///   the probe forks. Before `main` (as the macro calls it) that holds.
/// - Nothing may have relied yet on the process's user ids (open files keep working; a
///   credential cached before the move would be stale).
pub unsafe fn init_userns_before_main() {
    ASKED.store(true, Ordering::Relaxed);
    // SAFETY: plain libc calls; the caller guarantees a single thread.
    unsafe {
        if libc::geteuid() == 0 || !libc::getenv(c"HARNESS_NO_USERNS".as_ptr()).is_null() {
            return;
        }
        enter_user_namespace();
    }
}

/// Asks for [`init_userns_before_main`] before `main`: put `harness::userns_before_main!();`
/// once in a test binary (at the top of the test file, or in a module every test file of a
/// crate includes), an example or a program, and an ordinary user's run of it can build
/// sandboxes where unprivileged user namespaces are allowed.
#[macro_export]
macro_rules! userns_before_main {
    () => {
        #[used]
        #[unsafe(link_section = ".init_array")]
        static __HARNESS_USERNS_BEFORE_MAIN: extern "C" fn() = {
            extern "C" fn harness_userns_before_main() {
                // SAFETY: called from `.init_array`, before main, on the only thread.
                unsafe { $crate::init_userns_before_main() }
            }
            harness_userns_before_main
        };
    };
}

/// Moves the calling process into a new user namespace where its user is root, after a
/// forked child showed the whole move works; records how it failed for [`check`]. The
/// process must have one thread.
pub(crate) unsafe fn enter_user_namespace() {
    // SAFETY: plain libc calls; the caller guarantees a single thread. The forked child
    // calls only async-signal-safe functions and `_exit`s.
    unsafe {
        let (stage, errno) = probe_move_in_child();
        if stage != 0 {
            USERNS_STAGE.store(stage, Ordering::Relaxed);
            USERNS_ERRNO.store(errno, Ordering::Relaxed);
            return;
        }
        let (stage, errno) = move_into_user_namespace(false);
        USERNS_STAGE.store(stage, Ordering::Relaxed);
        USERNS_ERRNO.store(errno, Ordering::Relaxed);
    }
}

/// Makes the whole move in a forked child and reports (stage that failed, errno); (0, 0) if
/// it all worked. The child sends its result through a pipe, then exits.
unsafe fn probe_move_in_child() -> (i32, i32) {
    // SAFETY: forwarded to the caller's contract (single-threaded, before main).
    unsafe {
        let mut fds = [0; 2];
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return (STAGE_PROBE, *libc::__errno_location());
        }
        let pid = libc::fork();
        if pid < 0 {
            let errno = *libc::__errno_location();
            libc::close(fds[0]);
            libc::close(fds[1]);
            return (STAGE_PROBE, errno);
        }
        if pid == 0 {
            // A test can force the maps to fail here, as an AppArmor-restricted machine does.
            let fault = !libc::getenv(c"HARNESS_TEST_USERNS_MAPS_FAIL".as_ptr()).is_null();
            let result = move_into_user_namespace(fault);
            let result = if result.0 == 0 && libc::unshare(libc::CLONE_NEWNET) != 0 {
                (STAGE_NETNS, *libc::__errno_location())
            } else {
                result
            };
            let report = [result.0, result.1];
            libc::write(fds[1], report.as_ptr().cast(), size_of::<[i32; 2]>());
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut report = [STAGE_PROBE, 0];
        let read = libc::read(fds[0], report.as_mut_ptr().cast(), size_of::<[i32; 2]>());
        libc::close(fds[0]);
        let mut status = 0;
        while libc::waitpid(pid, &mut status, 0) < 0 && *libc::__errno_location() == libc::EINTR {}
        if read != size_of::<[i32; 2]>() as isize {
            return (STAGE_PROBE, 0);
        }
        (report[0], report[1])
    }
}

/// `unshare(CLONE_NEWUSER)` and the id maps; (stage that failed, errno), (0, 0) if done.
/// With `fail_maps`, the maps are not written and the move fails as if they were refused.
unsafe fn move_into_user_namespace(fail_maps: bool) -> (i32, i32) {
    // SAFETY: forwarded to the caller's contract.
    unsafe {
        let uid = libc::geteuid();
        let gid = libc::getegid();
        if libc::unshare(libc::CLONE_NEWUSER) != 0 {
            return (STAGE_UNSHARE, *libc::__errno_location());
        }
        if fail_maps {
            return (STAGE_MAPS, libc::EPERM);
        }
        let ok = write_proc(c"/proc/self/setgroups", b"deny")
            && write_map(c"/proc/self/uid_map", uid)
            && write_map(c"/proc/self/gid_map", gid);
        if ok {
            (0, 0)
        } else {
            (STAGE_MAPS, *libc::__errno_location())
        }
    }
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

/// Whether this process can create network namespaces; the reason if not. Asked through
/// [`crate::Capability::Sandbox`], which remembers the answer.
pub(crate) fn check() -> Result<(), String> {
    probe()
}

fn probe() -> Result<(), String> {
    let stage = USERNS_STAGE.load(Ordering::Relaxed);
    let errno = std::io::Error::from_raw_os_error(USERNS_ERRNO.load(Ordering::Relaxed));
    // Try for real, on a throwaway thread so this thread's namespace is untouched.
    let attempt = std::thread::spawn(|| nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET))
        .join()
        .expect("probe thread");
    let root_works = "root works; HARNESS_NO_USERNS=1 turns the attempt off";
    match (attempt, stage) {
        (Ok(()), _) => Ok(()),
        (Err(e), STAGE_UNSHARE) => Err(format!(
            "no network namespace: not root, and unprivileged user namespaces are refused here \
             ({errno}): check sysctl user.max_user_namespaces (> 0), \
             kernel.unprivileged_userns_clone (1, Debian) and \
             kernel.apparmor_restrict_unprivileged_userns (0, Ubuntu 24.04); {root_works} \
             (unshare(CLONE_NEWNET) said {e})"
        )),
        (Err(e), STAGE_MAPS) => Err(format!(
            "no network namespace: a user namespace can be created but our uid cannot be mapped \
             into it ({errno}), as under Ubuntu 24.04's AppArmor restriction \
             (kernel.apparmor_restrict_unprivileged_userns=1); this process stayed as it was; \
             {root_works} (unshare(CLONE_NEWNET) said {e})"
        )),
        (Err(e), STAGE_NETNS) => Err(format!(
            "no network namespace: inside a user namespace of our own, unshare(CLONE_NEWNET) \
             was refused ({errno}); this process stayed as it was; {root_works} \
             (unshare(CLONE_NEWNET) said {e})"
        )),
        (Err(e), STAGE_PROBE) => Err(format!(
            "no network namespace: could not try a user namespace in a child process ({errno}); \
             {root_works} (unshare(CLONE_NEWNET) said {e})"
        )),
        (Err(e), _) if !ASKED.load(Ordering::Relaxed) => Err(format!(
            "no network namespace: unshare(CLONE_NEWNET) said {e}: not root, and this program \
             did not ask for a user namespace of its own (add `harness::userns_before_main!();` \
             to it)"
        )),
        (Err(e), _) => Err(format!(
            "no network namespace: unshare(CLONE_NEWNET) said {e} (needs root, or a user \
             namespace: unset HARNESS_NO_USERNS)"
        )),
    }
}

/// Whether this process is in the machine's own user namespace (its `uid_map` maps every id
/// to itself), not in one the harness or anybody else made.
pub(crate) fn in_initial_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}

/// Whether this process is the machine's root: effective uid 0 in the initial user namespace.
/// Root of a user namespace (an ordinary user after the harness's move) is not: it cannot
/// become another user, nor write the machine's sysctls.
pub fn real_root() -> bool {
    nix::unistd::geteuid().is_root() && in_initial_user_namespace()
}

/// Our user id outside any user namespace we are in (the first line of `uid_map` that maps
/// our id).
pub(crate) fn outer_uid() -> u32 {
    let inside = nix::unistd::geteuid().as_raw();
    std::fs::read_to_string("/proc/self/uid_map")
        .ok()
        .and_then(|map| {
            map.lines().find_map(|line| {
                let mut n = line.split_whitespace().map(|w| w.parse::<u64>().ok());
                let (first, outside, count) = (n.next()??, n.next()??, n.next()??);
                let inside = u64::from(inside);
                (first <= inside && inside < first + count)
                    .then(|| (outside + inside - first) as u32)
            })
        })
        .unwrap_or(inside)
}
