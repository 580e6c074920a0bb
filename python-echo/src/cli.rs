//! What the two programs share on the command line: the group, port and interface flags,
//! the value parsers behind them, and how an error ends a program.
//!
//! Each value is parsed once, here, into a type that cannot be wrong afterwards: a
//! [`Group`] checked to be multicast, an [`Interface`] resolved to its index, a timeout.

use std::fmt;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use mcast_vocab::{Group, GroupError, Interface, InterfaceError};

use crate::defaults::{DEFAULT_GROUP, MIN_TIMEOUT};

/// `--group`, `--port` and `--interface`, as both programs take them: the group address and
/// the port apart, as the article writes them (`224.3.29.71`, `10000`).
#[derive(Debug, Clone, clap::Args)]
pub struct Endpoint {
    /// Multicast group: IPv4 in 224.0.0.0/4 or IPv6 in ff00::/8.
    #[arg(long, value_name = "ADDRESS", default_value_t = DEFAULT_GROUP.ip(), value_parser = group_address)]
    group: IpAddr,
    /// UDP port: the receivers bind it, the sender sends to it.
    #[arg(long, default_value_t = DEFAULT_GROUP.port(), value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Use this interface (name or index) instead of the one the routes pick: the receiver
    /// joins on it, the sender sends through it.
    #[arg(long, value_name = "NAME", value_parser = interface)]
    interface: Option<Interface>,
}

impl Endpoint {
    /// The group and port together.
    pub fn group(&self) -> Result<Group, GroupError> {
        Group::new(self.group, self.port)
    }

    /// The interface, if one was named.
    pub fn interface(&self) -> Option<Interface> {
        self.interface.clone()
    }
}

/// Checks `--group` alone, so that clap can name the flag in its error: the address must be
/// multicast (the port comes from `--port`).
fn group_address(text: &str) -> Result<IpAddr, GroupError> {
    Group::check_address(text)
}

/// Resolves `--interface`: a name (`eth0`) with `if_nametoindex(3)`, or an index (`2`).
fn interface(text: &str) -> Result<Interface, InterfaceError> {
    match text.parse::<u32>() {
        Ok(index) => Interface::with_index(index).ok_or(InterfaceError::NotFound {
            name: text.to_string(),
            errno: nix::errno::Errno::ENODEV,
        }),
        Err(_) => Interface::named(text),
    }
}

/// Why a text is not a timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a timeout (expected a number of seconds from 0.001, e.g. 0.2: the kernel \
     would round less to 0, which means wait for ever)"
)]
pub struct TimeoutError(pub String);

/// Parses a timeout given in seconds (`0.2`, `1`, `1.5`). Anything under a millisecond is
/// refused (zero, negatives, `0.0000005`): `SO_RCVTIMEO` counts in microseconds and a
/// zero socket timeout means "wait forever" to the kernel.
pub fn parse_timeout(text: &str) -> Result<Duration, TimeoutError> {
    let bad = || TimeoutError(text.to_string());
    let seconds: f64 = text.trim().parse().map_err(|_| bad())?;
    if !seconds.is_finite() {
        return Err(bad());
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| *d >= MIN_TIMEOUT)
        .ok_or_else(bad)
}

/// Ends a program on an error: one line on stderr, exit status 2 (as for a bad option).
pub fn fail(error: impl fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(2)
}

/// Ends a program on a library error like [`fail`], except when only the reader of its
/// output went away (`receiver | head -1`): then it ends quietly, with status 0.
pub fn fail_unless_closed(error: crate::Error) -> ExitCode {
    if error.is_broken_pipe() {
        ExitCode::SUCCESS
    } else {
        fail(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The article's 0.2 s parses, and so does a whole number; zero would mean "forever".
    #[test]
    fn timeout_is_positive_seconds() {
        assert_eq!(parse_timeout("0.2"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_timeout("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout("0.001"), Ok(MIN_TIMEOUT));
        for bad in [
            "0",
            "-1",
            "soon",
            "NaN",
            "inf",
            "1e-12",
            "0.0000005",
            "0.000999",
        ] {
            let error = parse_timeout(bad).unwrap_err().to_string();
            assert!(error.contains(&format!("`{bad}`")), "{error}");
        }
    }

    /// `--interface` takes a name or an index; `lo` is index 1 in every namespace.
    #[test]
    fn interface_resolves_by_name_and_by_index() {
        let by_name = interface("lo").unwrap();
        assert_eq!(by_name.index, 1);
        assert_eq!(interface("1").unwrap(), by_name);
        let error = interface("999999").unwrap_err().to_string();
        assert!(error.contains("`999999`"), "{error}");
    }

    /// `--group` checks the address alone, with or without brackets, and names a bad one.
    #[test]
    fn group_flag_takes_an_address_without_a_port() {
        assert_eq!(
            group_address("[ff05::329:71]"),
            group_address("ff05::329:71")
        );
        let error = group_address("10.0.0.1").unwrap_err().to_string();
        assert!(
            error.starts_with("10.0.0.1 is not a multicast address"),
            "{error}"
        );
        assert!(
            group_address("239.255.255.250").is_ok(),
            "the article stops at 230"
        );
    }
}
