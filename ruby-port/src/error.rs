//! The error of the library's socket work: a step that failed, or a chat
//! message too long to send. (A bad value is refused earlier, with
//! `mcast-vocab`'s [`GroupError`](mcast_vocab::GroupError) and friends.)

use std::io;

/// Everything that can go wrong while setting up a socket or sending (a
/// failed read is the `io::Error` that [`crate::Receiver::recv`] returns).
///
/// A failed socket call names the step and the kernel option involved, plus a
/// hint where the cause is usually the same (a missing multicast route gives
/// `ENODEV` when joining on "any interface").
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket call failed.
    #[error("{step}: {source}{hint}")]
    Socket {
        /// What we were doing, e.g. `joining 224.0.0.1 on any interface (IP_ADD_MEMBERSHIP)`.
        step: String,
        /// What the kernel said.
        #[source]
        source: io::Error,
        /// Advice for common causes, empty or starting with a separator.
        hint: &'static str,
    },
    /// A chat message would not fit the 1024 bytes every peer reads.
    #[error(
        "message is {encoded} bytes as JSON, but backchannel peers read at most {limit}: shorten it"
    )]
    MessageTooLong {
        /// Size of the encoded message.
        encoded: usize,
        /// The limit, [`crate::message::MAX_DATAGRAM`].
        limit: usize,
    },
}

impl Error {
    /// Wraps the result of one socket call with the step's description.
    pub(crate) fn step<T>(
        step: impl FnOnce() -> String,
        result: io::Result<T>,
    ) -> Result<T, Error> {
        result.map_err(|source| {
            let hint = hint_for(&source);
            Error::Socket {
                step: step(),
                source,
                hint,
            }
        })
    }
}

fn hint_for(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::ENODEV) => {
            " (no interface to use: is there a multicast route, e.g. `ip route add 224.0.0.0/4 dev eth0`, or pass --interface)"
        }
        Some(libc::ENETUNREACH) => {
            " (no route to the group: add a multicast route or pass --interface)"
        }
        Some(libc::EADDRINUSE) => {
            " (another program holds the port without sharing it: both must set the same reuse option)"
        }
        Some(libc::EADDRNOTAVAIL) => {
            " (the interface has no usable address yet, or the group needs --interface)"
        }
        _ => "",
    }
}
