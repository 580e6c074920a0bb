//! Where the demo may run: in a throwaway network namespace, never in the machine's own.
//!
//! The demo adds routes and sends multicast, which must never happen on the machine's real
//! network. So before anything else it checks the network namespace it was started in:
//!
//! 1. If PID 1's namespace can be read (`/proc/1/ns/net`; root usually may), this thread's
//!    (`/proc/thread-self/ns/net`) must be a different one. PID 1 is the machine's init (or
//!    a container's), and its namespace is the one attached to the real network.
//! 2. Otherwise, from Linux 6.18 on, the kernel gives the initial network namespace a fixed
//!    inode number (`NET_NS_INIT_INO`, 0xEFFFFFF9 in `<linux/nsfs.h>`): this thread's
//!    namespace must have another.
//! 3. On older kernels, the namespace must belong to a user namespace other than the
//!    initial one (`NS_GET_USERNS`, see `ioctl_ns(2)`): that is what `unshare -rn`, the
//!    harness and a lab shell create as an ordinary user, and what the machine's own
//!    namespace never is. (Root's own `unshare -n` then cannot be told apart and is refused.)
//!
//! A lab shell (`cargo lab --sandbox`), the book's walkthrough sandbox, `unshare -rn` and
//! `sudo unshare -n` all pass; a plain shell on the machine does not.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// `NS_GET_USERNS` from `<linux/nsfs.h>`: `_IO(0xb7, 0x1)`.
const NS_GET_USERNS: libc::c_ulong = 0xb701;
/// The inode number of the initial user namespace (`PROC_USER_INIT_INO` in the kernel).
const INITIAL_USER_NAMESPACE: u64 = 0xEFFF_FFFD;
/// The inode number of the initial network namespace from Linux 6.18 on (`NET_NS_INIT_INO`).
const INITIAL_NETWORK_NAMESPACE: u64 = 0xEFFF_FFF9;
/// The first kernel that numbers its initial network namespace so.
const FIXED_INODES_SINCE: (u32, u32) = (6, 18);

/// Why the demo will not run here.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// This is PID 1's network namespace, or one owned by the initial user namespace.
    #[error(
        "refusing to run in the machine's own network namespace ({0}): start it in a lab shell \
         (`cargo lab --sandbox`) or a namespace of its own (`unshare -rn`)"
    )]
    MachinesOwn(String),
    /// The namespace files could not be read at all.
    #[error("cannot tell whether this is the machine's own network namespace: {doing}: {cause}")]
    Unknown {
        /// What was being read.
        doing: &'static str,
        /// Why it failed.
        cause: io::Error,
    },
}

/// Returns `Ok` only in a network namespace that is not the machine's own (see the module
/// docs for what is checked).
pub fn ensure_throwaway() -> Result<(), NamespaceError> {
    let unknown = |doing| move |cause| NamespaceError::Unknown { doing, cause };
    let path = "/proc/thread-self/ns/net";
    let mine = std::fs::read_link(path).map_err(unknown("reading /proc/thread-self/ns/net"))?;
    let refuse = |why: &str| {
        Err(NamespaceError::MachinesOwn(format!(
            "{}, {why}",
            mine.display()
        )))
    };
    if let Ok(init) = std::fs::read_link("/proc/1/ns/net") {
        return if init == mine {
            refuse("the same as PID 1's")
        } else {
            Ok(())
        };
    }
    if kernel_version().is_some_and(|version| version >= FIXED_INODES_SINCE) {
        let inode = std::fs::metadata(path)
            .map_err(unknown("reading /proc/thread-self/ns/net"))?
            .ino();
        return if inode == INITIAL_NETWORK_NAMESPACE {
            refuse("the kernel's initial one")
        } else {
            Ok(())
        };
    }
    let owner = owning_user_namespace().map_err(unknown("asking for its owner"))?;
    if owner == INITIAL_USER_NAMESPACE {
        refuse("owned by the initial user namespace")
    } else {
        Ok(())
    }
}

/// The running kernel's major and minor version, from `uname(2)`.
fn kernel_version() -> Option<(u32, u32)> {
    let uname = nix::sys::utsname::uname().ok()?;
    let release = uname.release().to_str()?;
    let mut numbers = release.split(|c: char| !c.is_ascii_digit());
    Some((numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?))
}

/// The inode number of the user namespace that owns this thread's network namespace.
fn owning_user_namespace() -> io::Result<u64> {
    let namespace = File::open("/proc/thread-self/ns/net")?;
    // SAFETY: NS_GET_USERNS takes no argument and returns a new descriptor or -1.
    let owner = unsafe { libc::ioctl(namespace.as_raw_fd(), NS_GET_USERNS) };
    if owner < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `owner` is a fresh descriptor that nothing else owns.
    let owner = File::from(unsafe { OwnedFd::from_raw_fd(owner) });
    Ok(owner.metadata()?.ino())
}
