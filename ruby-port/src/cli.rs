//! The command-line options the three programs share, parsed into a [`Config`].
//!
//! Each option is checked while clap parses it, so a bad value is reported with
//! the option's name: `--group 10.0.0.1` says it is not multicast, `--ttl 300`
//! that a TTL is 0 to 255, `--interface eht0` that no such interface exists.

use std::net::IpAddr;

use crate::group::{Config, ConfigError, Group, Interface, Ttl};

/// `--group`, `--port`, `--ttl`, `--interface`, to be `#[command(flatten)]`ed
/// into a program's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Multicast group to use: IPv4 in 224.0.0.0/4 or IPv6 in ff00::/8
    /// [default: the program's group, see above]
    #[arg(long, short, value_name = "ADDRESS", value_parser = multicast_ip)]
    pub group: Option<IpAddr>,
    /// UDP port [default: the program's port, see above]
    #[arg(long, short, value_name = "PORT")]
    pub port: Option<u16>,
    /// Multicast TTL (IPv4) or hop limit (IPv6): 1 keeps datagrams on the local network
    #[arg(long, value_name = "HOPS", default_value = "1", value_parser = ttl)]
    pub ttl: Ttl,
    /// Network interface to send from and join on, by name (e.g. eth0); required for
    /// link-local IPv6 groups such as ff02::1 [default: whatever the routes say]
    #[arg(long, short, value_name = "NAME", value_parser = interface)]
    pub interface: Option<Interface>,
}

impl NetworkArgs {
    /// The config these options describe, with `defaults` for what was not given.
    pub fn config(&self, defaults: Group) -> Result<Config, ConfigError> {
        let group = Group::new(
            self.group.unwrap_or(defaults.ip()),
            self.port.unwrap_or(defaults.port()),
        )?;
        Ok(Config::new(group, self.interface.clone())?.with_ttl(self.ttl))
    }
}

fn multicast_ip(text: &str) -> Result<IpAddr, ConfigError> {
    Group::parse_ip(text, 0).map(|g| g.ip())
}

fn ttl(text: &str) -> Result<Ttl, ConfigError> {
    text.parse()
}

fn interface(text: &str) -> Result<Interface, ConfigError> {
    Interface::named(text)
}

/// Prints `error: {error}` to stderr and exits with `code` (2 for bad usage,
/// 1 for failures at run time), the way clap reports its own errors.
pub fn exit_with(code: i32, error: impl std::fmt::Display) -> ! {
    eprintln!("error: {error}");
    std::process::exit(code)
}
