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
    #[error("{doing}: {source}")]
    Io {
        /// What the harness was doing, e.g. `adding 10.0.0.1/24 to eth0 in host a`.
        doing: String,
        /// The error the kernel returned.
        #[source]
        source: io::Error,
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

/// Adds "what we were doing" to an `io::Result`.
pub(crate) trait Context<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<io::Error>> Context<T> for std::result::Result<T, E> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Io {
            doing: what(),
            source: e.into(),
        })
    }
}
