//! What can go wrong once the options are valid: the kernel refusing a socket step.
//!
//! Each error says which step failed (the same steps the article walks through), the
//! kernel's reason, and for the common cases a hint at the fix.

use std::io;

use mcast_vocab::GroupError;

/// A step of the sender or receiver failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The group cannot be used as configured: a link-local IPv6 group without an interface.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// A socket call failed; `step` says which, in words.
    #[error("cannot {step}: {cause}{hint}", hint = hint(cause))]
    Socket {
        /// The step, e.g. "join group 224.3.29.71 on the default interface".
        step: String,
        /// The kernel's reason.
        cause: io::Error,
    },
    /// A timeout too short for the kernel to honour (see [`crate::MIN_TIMEOUT`]).
    #[error(
        "{what} {value:?} is too short (expected at least 1 ms: the kernel rounds socket \
         timeouts to microseconds, and 0 means wait for ever)"
    )]
    TooShort {
        /// Which setting: `timeout` or `max-wait`.
        what: &'static str,
        /// The value given.
        value: std::time::Duration,
    },
    /// Writing the printed transcript failed (e.g. stdout was closed).
    #[error("cannot print the transcript: {0}")]
    Output(io::Error),
}

impl Error {
    /// Whether this is the transcript's reader having gone away (`EPIPE`), as when the
    /// output is piped into `head -1`: the program should end quietly, not complain.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(error) if error.kind() == io::ErrorKind::BrokenPipe)
    }

    /// Wraps a failed socket step.
    pub(crate) fn socket(step: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let step = step.into();
        move |cause| Error::Socket { step, cause }
    }
}

/// `.step("what")` on a socket call's result: names the step if it failed, so that each
/// call of the article reads as one line (`socket.bind(&address).step("bind")?`).
pub(crate) trait Step<T> {
    /// The result, its error wrapped as [`Error::Socket`] with `step` as its description.
    fn step(self, step: impl Into<String>) -> Result<T, Error>;
}

impl<T> Step<T> for io::Result<T> {
    fn step(self, step: impl Into<String>) -> Result<T, Error> {
        self.map_err(Error::socket(step))
    }
}

/// A hint for the errors people meet first when trying multicast.
fn hint(source: &io::Error) -> &'static str {
    match source.raw_os_error() {
        Some(libc_errno) if libc_errno == nix::errno::Errno::ENODEV as i32 => {
            " (no interface can carry the group: the host needs a multicast or default \
             route, e.g. `ip route add 224.0.0.0/4 dev eth0`, or name one with --interface)"
        }
        Some(libc_errno) if libc_errno == nix::errno::Errno::ENETUNREACH as i32 => {
            " (no route to the group: add a multicast or default route, or name an \
             interface with --interface)"
        }
        Some(libc_errno) if libc_errno == nix::errno::Errno::EADDRINUSE as i32 => {
            " (another program already has this port: like the original, the receiver \
             binds without SO_REUSEADDR, so one receiver per host and port)"
        }
        Some(libc_errno) if libc_errno == nix::errno::Errno::EADDRNOTAVAIL as i32 => {
            " (the address is not usable here: for IPv6, is the interface's address still \
             tentative, or does a link-local group need --interface?)"
        }
        _ => "",
    }
}
