//! The command-line options the three programs share, parsed into a [`Config`],
//! and how they report a failure.
//!
//! Each option is checked while clap parses it, so a bad value is reported with
//! the option's name: `--group 10.0.0.1` says it is not multicast, `--ttl 300`
//! that a TTL is 0 to 255, `--interface eht0` that no such interface exists.

use std::net::IpAddr;

use mcast_vocab::{Group, GroupError, Interface, Ttl};

use crate::config::Config;

/// `--group`, `--port`, `--ttl`, `--interface`, to be `#[command(flatten)]`ed
/// into a program's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Multicast group to use: IPv4 in 224.0.0.0/4 or IPv6 in ff00::/8
    /// [default: the program's group, see above]
    #[arg(long, short, value_name = "ADDRESS", value_parser = multicast_address)]
    pub group: Option<IpAddr>,
    /// UDP port, 1 to 65535 [default: the program's port, see above]
    #[arg(long, short, value_name = "PORT", value_parser = group_port)]
    pub port: Option<u16>,
    /// Multicast TTL (IPv4) or hop limit (IPv6): 1 keeps datagrams on the local network
    #[arg(long, value_name = "HOPS", default_value = "1")]
    pub ttl: Ttl,
    /// Network interface to send from and join on, by name (e.g. eth0) or by the index
    /// `ip link` shows; required for link-local IPv6 groups such as ff02::1
    /// [default: whatever the routes say]
    #[arg(long, short, value_name = "NAME", value_parser = interface)]
    pub interface: Option<Interface>,
}

impl NetworkArgs {
    /// The config these options describe, with `defaults` for what was not
    /// given; on a bad combination (a link-local group without `--interface`,
    /// port 0) it says why and exits with status 2, as clap does for bad usage.
    pub fn config_or_exit(&self, defaults: Group) -> Config {
        self.config(defaults).unwrap_or_else(|e| exit_with(2, e))
    }

    fn config(&self, defaults: Group) -> Result<Config, GroupError> {
        let group = Group::new(
            self.group.unwrap_or(defaults.ip()),
            self.port.unwrap_or(defaults.port()),
        )?;
        Ok(Config::new(group, self.interface.clone())?.with_ttl(self.ttl))
    }
}

/// `--group` is checked while clap parses it, so the error names the option.
/// Its port comes from `--port` later.
fn multicast_address(text: &str) -> Result<IpAddr, GroupError> {
    Group::check_address(text)
}

/// `chat --scrollback`: a number of messages from 1 to
/// [`Window::MAX_SCROLLBACK`](crate::Window::MAX_SCROLLBACK); 0 would show
/// nothing and more would let a flood take gigabytes.
#[cfg(feature = "window")]
pub fn scrollback(text: &str) -> Result<usize, String> {
    let max = crate::Window::MAX_SCROLLBACK;
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a scrollback size (expected a number of messages from 1 to {max})"
        )),
    }
}

/// Checks a write to stdout: when the reader has gone (`receive | head -1`,
/// `EPIPE`) the program exits quietly with status 0, as `cat` and `yes` do
/// from a shell's point of view; any other failure is one error line and
/// status 1. (Rust ignores `SIGPIPE`, so without this `println!` panics.)
pub fn written_or_exit(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => exit_with(1, format!("writing to stdout: {e}")),
    }
}

/// `--port`: a group needs a fixed port, so 0 ("any free port" to `bind`) is
/// refused here, with the option named, instead of after the other checks.
fn group_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be a group's port (expected 1 to 65535)".to_string()),
        Ok(port) => Ok(port),
        Err(_) => Err(format!(
            "`{text}` is not a port (expected a number from 1 to 65535)"
        )),
    }
}

/// `--interface`: a name, or an index as `ip link` numbers them (`1: lo`).
fn interface(text: &str) -> Result<Interface, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u32>()
            .ok()
            .and_then(Interface::with_index)
            .ok_or_else(|| {
                format!(
                    "no network interface has index {text} here (expected a name or an index that `ip link` lists, e.g. lo or 1)"
                )
            });
    }
    Interface::named(text).map_err(|e| e.to_string())
}

/// Prints `error: {error}` to stderr on one line and exits with `code` (2 for
/// bad usage, 1 for failures at run time), the way clap reports its own errors.
/// The library's errors already carry their cause in their message (the step
/// that failed, then what the kernel said).
pub fn exit_with(code: i32, error: impl std::fmt::Display) -> ! {
    eprintln!("error: {error}");
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::defaults::SEND_RECEIVE_GROUP;

    #[derive(Parser)]
    struct Program {
        #[command(flatten)]
        network: NetworkArgs,
    }

    fn parse(args: &[&str]) -> Result<NetworkArgs, clap::Error> {
        Program::try_parse_from([&["program"], args].concat()).map(|p| p.network)
    }

    /// What is not given comes from the program's defaults; what is given replaces it.
    #[test]
    fn options_override_the_programs_defaults() {
        let none = parse(&[]).unwrap().config(SEND_RECEIVE_GROUP).unwrap();
        assert_eq!(none, Config::send_receive());
        let some = parse(&["--group", "239.1.2.3", "--ttl", "4", "-i", "lo"])
            .unwrap()
            .config(SEND_RECEIVE_GROUP)
            .unwrap();
        assert_eq!(some.to_string(), "239.1.2.3:3000 on lo");
        assert_eq!(some.ttl(), Ttl(4));
    }

    /// A bad value is refused while parsing, with the option and the value named.
    #[test]
    fn bad_values_are_refused_by_option_and_value() {
        let error = parse(&["--group", "10.0.0.1"]).unwrap_err().to_string();
        assert!(error.contains("--group"), "{error}");
        assert!(
            error.contains("10.0.0.1 is not a multicast address"),
            "{error}"
        );
        let error = parse(&["--ttl", "300"]).unwrap_err().to_string();
        assert!(error.contains("`300` is not a TTL"), "{error}");
        let error = parse(&["--interface", "eht0"]).unwrap_err().to_string();
        assert!(error.contains("`eht0`"), "{error}");
    }

    /// Port 0 is refused while parsing `--port`, naming the option, the value
    /// and the range; so is a port that is not a number.
    #[test]
    fn port_zero_is_refused_naming_the_option() {
        let error = parse(&["--port", "0"]).unwrap_err().to_string();
        assert!(error.contains("'0' for '--port <PORT>'"), "{error}");
        assert!(
            error.contains("port 0 cannot be a group's port (expected 1 to 65535)"),
            "{error}"
        );
        let error = parse(&["--port", "70000"]).unwrap_err().to_string();
        assert!(
            error.contains("`70000` is not a port (expected a number from 1 to 65535)"),
            "{error}"
        );
        assert_eq!(parse(&["--port", "6811"]).unwrap().port, Some(6811));
    }

    /// A number given to `--interface` is taken as the index `ip link` shows;
    /// an index no interface has is refused as an index, not as a name.
    #[test]
    fn numeric_interfaces_are_indexes() {
        let lo = Interface::named("lo").unwrap();
        let parsed = parse(&["--interface", &lo.index.to_string()]).unwrap();
        assert_eq!(parsed.interface, Some(lo));
        let error = parse(&["--interface", "4000000"]).unwrap_err().to_string();
        assert!(
            error.contains("no network interface has index 4000000"),
            "{error}"
        );
        assert!(!error.contains("named"), "{error}");
    }

    /// What only the combination gets wrong is refused when the config is made.
    #[test]
    fn combinations_are_checked_when_the_config_is_made() {
        let link_local = parse(&["--group", "ff02::1"]).unwrap();
        assert!(matches!(
            link_local.config(SEND_RECEIVE_GROUP),
            Err(GroupError::NeedsInterface(_))
        ));
        let port_zero = NetworkArgs {
            port: Some(0),
            ..parse(&[]).unwrap()
        };
        assert_eq!(
            port_zero.config(SEND_RECEIVE_GROUP),
            Err(GroupError::PortZero)
        );
    }

    /// `--scrollback` takes 1 to 100000 messages; 0 and absurd sizes are
    /// refused naming the value and the range.
    #[test]
    #[cfg(feature = "window")]
    fn scrollback_is_refused_when_zero_or_absurd() {
        assert_eq!(scrollback("1"), Ok(1));
        assert_eq!(scrollback("100000"), Ok(100_000));
        for bad in ["0", "100001", "99999999999999999999", "-1", "lots"] {
            let error = scrollback(bad).unwrap_err();
            assert_eq!(
                error,
                format!(
                    "`{bad}` is not a scrollback size (expected a number of messages from 1 to 100000)"
                )
            );
        }
    }
}
