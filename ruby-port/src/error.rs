//! The error of the library's socket work: a step that failed, or a chat
//! message too long to send. (A bad value is refused earlier, with
//! `mcast-vocab`'s [`GroupError`](mcast_vocab::GroupError) and friends.)

use std::io;

use mcast_vocab::Interface;

/// Everything that can go wrong while setting up a socket or sending (a
/// failed read is the `io::Error` that [`crate::Receiver::recv`] returns).
///
/// A failed socket call names the step and the kernel option involved, plus a
/// hint where the cause is usually the same (a missing multicast route gives
/// `ENODEV` when joining on "any interface").
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket call failed.
    #[error("{step}: {cause}{hint}")]
    Socket {
        /// What we were doing, e.g. `joining 224.0.0.1 on any interface (IP_ADD_MEMBERSHIP)`.
        step: String,
        /// What the kernel said.
        cause: io::Error,
        /// Advice for common causes, empty or starting with a separator; it
        /// suggests `--interface` only when none was given.
        hint: String,
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
    /// Wraps the result of one socket call with the step's description, for a
    /// step where the choice of interface plays no part.
    pub(crate) fn step<T>(
        step: impl FnOnce() -> String,
        result: io::Result<T>,
    ) -> Result<T, Error> {
        Error::step_on(None, step, result)
    }

    /// Like [`Error::step`], for a step that goes through `interface` (the
    /// `--interface` given) or, with `None`, wherever the routes say.
    pub(crate) fn step_on<T>(
        interface: Option<&Interface>,
        step: impl FnOnce() -> String,
        result: io::Result<T>,
    ) -> Result<T, Error> {
        result.map_err(|source| {
            let hint = hint_for(&source, interface);
            Error::Socket {
                step: step(),
                cause: source,
                hint,
            }
        })
    }
}

fn hint_for(error: &io::Error, interface: Option<&Interface>) -> String {
    let hint = match (error.raw_os_error(), interface) {
        (Some(libc::ENODEV), None) => {
            "no interface to use: is there a multicast route, e.g. `ip route add 224.0.0.0/4 dev eth0`, or pass --interface".to_string()
        }
        (Some(libc::ENODEV), Some(i)) => {
            format!("{i} is gone or cannot do multicast: see `ip link show {i}`")
        }
        (Some(libc::ENETUNREACH), None) => {
            "no route to the group: add a multicast route or pass --interface".to_string()
        }
        (Some(libc::ENETUNREACH), Some(i)) => {
            format!("no route to the group through {i}: is it up, with an address? see `ip address show {i}`")
        }
        (Some(libc::EADDRINUSE), _) => {
            "another program holds the port without sharing it: both must set the same reuse option".to_string()
        }
        (Some(libc::EADDRNOTAVAIL), None) => {
            "the interface has no usable address yet, or the group needs --interface".to_string()
        }
        (Some(libc::EADDRNOTAVAIL), Some(i)) => format!("{i} has no usable address yet"),
        _ => return String::new(),
    };
    format!(" ({hint})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(errno: i32, interface: Option<&Interface>) -> String {
        Error::step_on(
            interface,
            || "sending".into(),
            Err::<(), _>(io::Error::from_raw_os_error(errno)),
        )
        .unwrap_err()
        .to_string()
    }

    /// A hint suggests `--interface` only to someone who did not pass one; with
    /// one, it names that interface instead.
    #[test]
    fn hints_suggest_interface_only_when_none_was_given() {
        let eth0 = Interface {
            index: 2,
            name: "eth0".into(),
        };
        for errno in [libc::ENETUNREACH, libc::ENODEV, libc::EADDRNOTAVAIL] {
            let without = error(errno, None);
            assert!(without.contains("--interface"), "{without}");
            let with = error(errno, Some(&eth0));
            assert!(!with.contains("--interface"), "{with}");
            assert!(with.contains("eth0"), "{with}");
        }
        assert_eq!(
            error(libc::ENETUNREACH, Some(&eth0)),
            "sending: Network is unreachable (os error 101) (no route to the group through eth0: is it up, with an address? see `ip address show eth0`)"
        );
    }
}
