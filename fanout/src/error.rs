//! What can go wrong in a measurement, one variant per concern.
//!
//! The workspace's error policy (written down in `mcast-vocab`): a library returns a typed
//! error, a failed system call keeps its `io::Error` (as `cause`, shown once) with what was being done,
//! and only the binary adds context with `anyhow` on its way out.

use std::io;

/// Why a measurement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting the measurement cannot honour; the message names the value and the limit.
    #[error("{0}")]
    Setting(String),
    /// A system call failed; `doing` says during what.
    #[error("{doing}: {cause}")]
    Io {
        /// What was being done, e.g. `cannot start receiver 2`.
        doing: String,
        /// What the kernel said.
        cause: io::Error,
    },
    /// A process the measurement started (a receiver, the echo, a peer server) did not do its
    /// part: silent past its deadline, gone, or saying something unexpected. Names it.
    #[error("{0}")]
    Process(String),
    /// A peer tool's output did not hold the figure looked for.
    #[error("no {figure} in the output of {tool}")]
    PeerOutput {
        /// `sockperf tp`, `iperf`, ...
        tool: &'static str,
        /// What was looked for.
        figure: String,
    },
    /// The round-trip histogram refused a value or its bounds.
    #[error("round-trip histogram: {0}")]
    Histogram(String),
    /// The plot could not be drawn or written.
    #[error("drawing the plot: {0}")]
    Plot(String),
}

/// A measurement's result.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds what was being done to a failed system call.
pub(crate) trait Doing<T> {
    /// The error becomes [`Error::Io`] with `doing()` as its context.
    fn doing(self, doing: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<io::Error>> Doing<T> for std::result::Result<T, E> {
    fn doing(self, doing: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| Error::Io {
            doing: doing(),
            cause: error.into(),
        })
    }
}

/// Returns an [`Error::Process`] built like `format!`.
macro_rules! process_failed {
    ($($message:tt)*) => {
        return Err($crate::error::Error::Process(format!($($message)*)))
    };
}
pub(crate) use process_failed;
