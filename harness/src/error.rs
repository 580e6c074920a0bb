//! Errors the harness reports, each naming what it was doing.

use std::io;

/// Anything that can go wrong while building or using a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The machine lacks a [`crate::Capability`] this needs (no network namespace, no
    /// multicast routing, no `netem`, no `tmux`...). Tests turn this into a one-line skip;
    /// see [`crate::or_skip!`].
    #[error("{0}")]
    Unavailable(crate::Missing),
    /// A system call or netlink request failed; `doing` says what we were attempting.
    #[error("{doing}: {cause}")]
    Io {
        /// What the harness was doing, e.g. `adding 10.0.0.1/24 to eth0 in host a`.
        doing: String,
        /// The error the kernel returned.
        cause: io::Error,
    },
    /// A value given to the harness was not what it expected.
    #[error("{0}")]
    Invalid(String),
}

impl From<mcast_vocab::GroupError> for Error {
    fn from(error: mcast_vocab::GroupError) -> Error {
        Error::Invalid(error.to_string())
    }
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds "what we were doing" to an `io::Result`, making an [`Error::Io`].
pub trait Context<T> {
    /// `Err(e)` becomes `Error::Io { doing: what(), cause: e }`.
    fn doing(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<io::Error>> Context<T> for std::result::Result<T, E> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Io {
            doing: what(),
            cause: e.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// A failed system call's error says what was being done and the kernel's reason, once:
    /// the reason is in the message and is not also the `source()`, so a printer that walks
    /// the chain (`anyhow`'s `{:#}`) does not repeat it.
    #[test]
    fn an_io_error_shows_its_cause_once() {
        let error = Err::<(), _>(io::Error::from_raw_os_error(libc::EACCES))
            .doing(|| "opening /proc/1/ns/net".into())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "opening /proc/1/ns/net: Permission denied (os error 13)"
        );
        assert!(error.source().is_none());
        let Error::Io { cause, .. } = error else {
            panic!("an Io error")
        };
        assert_eq!(cause.raw_os_error(), Some(libc::EACCES));
    }
}
