//! Network namespaces held by file descriptor, and how threads and processes enter them.
//!
//! Three kernel facts shape this module:
//! - `unshare(CLONE_NEWNET)` and `setns` act on the *calling thread* only. A thread spawned
//!   from inside a namespace starts in it; a socket stays in the namespace it was made in.
//! - A namespace lives as long as something refers to it: a process inside, an open file
//!   descriptor of `/proc/thread-self/ns/net`, or a bind mount. We hold only the descriptor,
//!   never a mount (no `ip netns add`), so when the test process dies, even by SIGKILL, the
//!   kernel drops the namespace and every interface and route in it.
//! - A child process inherits the namespace of the thread that forks it, so `spawn` enters
//!   the namespace in the child between fork and exec.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sched::{CloneFlags, setns, unshare};

use crate::error::Context;
use crate::netlink::Rtnl;

/// A network namespace, alive for as long as this value is.
pub(crate) struct Namespace {
    fd: OwnedFd,
    /// More for a failure message about this namespace than its own tables: what the network
    /// around it knows (for a host of a `Routed`, the router's forwarding cache).
    pub(crate) explain: std::sync::OnceLock<Box<dyn Fn() -> String + Send + Sync>>,
}

impl Namespace {
    /// Creates `count` fresh namespaces on one throwaway thread. For each, a netlink socket is
    /// opened inside it, and `prepare` runs on that thread while it is still inside the new
    /// namespace (for sysctls and probes, which act on the caller's namespace).
    pub(crate) fn create_many(
        count: usize,
        prepare: impl Fn(usize, &Namespace, &mut Rtnl) -> crate::Result<()> + Send + Sync,
    ) -> crate::Result<Vec<(Namespace, Rtnl)>> {
        crate::Capability::Sandbox.check()?;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    (0..count)
                        .map(|i| {
                            unshare(CloneFlags::CLONE_NEWNET)
                                .doing(|| "creating a network namespace".into())?;
                            let fd = File::open("/proc/thread-self/ns/net")
                                .doing(|| "opening /proc/thread-self/ns/net".into())?;
                            let namespace = Namespace {
                                fd: fd.into(),
                                explain: std::sync::OnceLock::new(),
                            };
                            let mut rtnl = Rtnl::open().doing(|| "opening rtnetlink".into())?;
                            prepare(i, &namespace, &mut rtnl)?;
                            Ok((namespace, rtnl))
                        })
                        .collect()
                })
                .join()
                .expect("namespace thread panicked")
        })
    }

    /// Moves the calling thread into this namespace.
    pub(crate) fn enter(&self) -> crate::Result<()> {
        setns(&self.fd, CloneFlags::CLONE_NEWNET).doing(|| "entering a network namespace".into())
    }

    /// Runs `f` on a fresh thread inside the namespace and returns its result; a panic in `f`
    /// is passed on to the caller.
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                self.enter().expect("entering the sandbox's namespace");
                f()
            });
            match thread.join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Arranges for `command` to run inside this namespace, and to be killed (SIGKILL) when
    /// the thread that spawns it ends, which includes the whole process dying.
    pub(crate) fn prepare_command(&self, command: &mut Command) {
        let fd = self.fd.as_raw_fd();
        // SAFETY: only async-signal-safe system calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    /// The namespace's inode number, as `/proc/PID/ns/net` links show it (`net:[INODE]`).
    pub(crate) fn inode(&self) -> u64 {
        nix::sys::stat::fstat(&self.fd)
            .map(|s| s.st_ino)
            .unwrap_or(0)
    }
}

impl AsFd for Namespace {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Writes a sysctl of the calling thread's namespace, e.g. `("net/ipv6/conf/all/accept_dad", "0")`.
pub(crate) fn sysctl(key: &str, value: &str) -> io::Result<()> {
    std::fs::write(format!("/proc/sys/{key}"), value)
        .map_err(|e| io::Error::new(e.kind(), format!("writing {value} to /proc/sys/{key}: {e}")))
}

// The batch's test lives here, not in netlink.rs, because it needs a namespace of its own
// and netlink is what namespaces are built with (netlink does not use this module).
#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::netlink::Request;

    /// The kernel carries out every request of a batch and acks each; a failure is told with
    /// the position of the request that failed, and the requests after it still happen.
    #[test]
    fn a_batch_names_the_request_that_failed_and_goes_on() {
        crate::or_skip!(crate::Capability::Ifb.check());
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let made = Namespace::create_many(1, |_, _, rtnl| {
            let failed = rtnl.batch(vec![
                Request::set_up(1),
                // lo has 127.0.0.1/8 once it is up: adding it again is refused.
                Request::add_address(1, loopback, 8),
                Request::add_ifb("after0", 0),
            ]);
            let (at, error) = failed.expect_err("the second request fails");
            assert_eq!(
                (at, error.raw_os_error()),
                (1, Some(libc::EEXIST)),
                "{error}"
            );
            rtnl.link_index("after0")
                .expect("the request after the failure happened");
            Ok(())
        });
        crate::or_skip!(made);
    }
}
