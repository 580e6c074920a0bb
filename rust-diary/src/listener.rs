//! The fixed `join_multicast`: join on a named interface, choose what to bind to, and
//! switch off the kernel's habit of delivering other sockets' groups.
//!
//! # Bind to the group, or to the wildcard?
//!
//! Joining a group (`IP_ADD_MEMBERSHIP`) and binding a port are separate things. Joining
//! makes the *interface* accept the group's traffic; binding decides which of the datagrams
//! that reach the host are handed to *this socket*. [`Bind`] names the two choices:
//!
//! | bound to            | receives                                                          |
//! |---------------------|-------------------------------------------------------------------|
//! | [`Bind::Group`]     | only datagrams addressed to this group and port                   |
//! | [`Bind::Wildcard`]  | anything for this port: this group, unicast to any local address, and (with `IP_MULTICAST_ALL` on) groups joined by *other* sockets |
//!
//! The diary binds to the group on Unix, the narrow filter. On Linux an IPv6 group of
//! link-local scope (`ff02::…`) can only be bound together with the interface it lives on,
//! as the scope id in `[ff02::123%eth0]:7645`; the kernel then also ties the socket to that
//! interface. The wildcard is what Windows requires and what most servers use; it needs the
//! next section to be safe.
//!
//! # `IP_MULTICAST_ALL`: a Linux default that leaks
//!
//! On Linux `IP_MULTICAST_ALL` (and `IPV6_MULTICAST_ALL`, since 4.20) is on for every new
//! socket: a socket bound to the wildcard receives datagrams for *every group that any
//! socket on the host has joined* on the interface they arrived on, not only the groups it
//! joined itself. Two unrelated programs that share a port number then hear each other's
//! groups. [`ListenOptions`] switches the option off by default; binding to the group fixes
//! it too, because a group-bound socket never matches another group's address.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use mcast_vocab::{Group, Interface};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use crate::error::{refused, step_failed};

/// How long a listening socket blocks in one read, so a loop can notice it should stop.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What a listening socket binds to, and so what it filters. (Also the values of the
/// `diary respond --bind` flag.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Bind {
    /// `bind(group:port)`: only datagrams addressed to the group and port. For an IPv6
    /// group of link- or interface-local scope, the interface goes along as the scope id.
    #[value(help = "bind(group:port)")]
    Group,
    /// `bind(0.0.0.0:port)` or `bind([::]:port)`: anything that reaches the host for the
    /// port, filtered only by `IP_MULTICAST_ALL` (see the module docs).
    #[value(help = "bind(0.0.0.0:port) or bind([::]:port)")]
    Wildcard,
}

/// How [`join`] sets up a listening socket. The default is the fixed diary: bind to the
/// group, `IP_MULTICAST_ALL` off, the kernel's choice of interface, address reuse on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenOptions {
    interface: Option<Interface>,
    bind: Bind,
    multicast_all: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self {
            interface: None,
            bind: Bind::Group,
            multicast_all: false,
        }
    }
}

impl ListenOptions {
    /// Join on this interface instead of the one the route to the group picks. IPv6
    /// link-local groups need it whenever the socket is bound to the group.
    pub fn interface(mut self, interface: Interface) -> Self {
        self.interface = Some(interface);
        self
    }

    /// Bind to the group or to the wildcard address.
    pub fn bind(mut self, bind: Bind) -> Self {
        self.bind = bind;
        self
    }

    /// Set `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL`: `true` is the kernel's default and
    /// lets a wildcard-bound socket hear groups joined by other sockets; `false` limits it
    /// to its own memberships.
    pub fn multicast_all(mut self, all: bool) -> Self {
        self.multicast_all = all;
        self
    }
}

// ANCHOR: join
/// Joins `group` and binds a socket as `options` say; the socket is ready when this
/// returns. The fixed form of [`crate::diary::join_multicast`]. In order:
///
/// 1. A UDP socket with a 100 ms read timeout (`SO_RCVTIMEO`), as the diary has.
/// 2. `SO_REUSEADDR`, so several listeners on one host can share the port. The
///    diary asks for socket2's `reuseport` feature, but its code never sets address
///    reuse.
/// 3. IPv6 only: `IPV6_V6ONLY`, as the diary has.
/// 4. `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL` as chosen (off unless asked for).
/// 5. `IP_ADD_MEMBERSHIP` / `IPV6_ADD_MEMBERSHIP` on the chosen interface's index,
///    or on "any" (`0.0.0.0` / index 0) when none was chosen, as the diary does.
/// 6. `bind` per [`Bind`], with the interface as the scope id of a link-local IPv6
///    group.
///
/// Errors name the group and the step that failed, e.g. an IPv6 link-local group
/// bound without an interface.
pub fn join(group: &Group, options: &ListenOptions) -> io::Result<UdpSocket> {
    // ANCHOR_END: join
    let interface = options.interface.as_ref();
    let index = interface.map(|interface| interface.index);
    let doing = format!("listening on {group}");
    let failed = |step: &str| step_failed(doing.as_str(), step);

    let domain = if group.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(failed("socket"))?;
    socket
        .set_read_timeout(Some(POLL_INTERVAL))
        .map_err(failed("SO_RCVTIMEO"))?;
    socket
        .set_reuse_address(true)
        .map_err(failed("SO_REUSEADDR"))?;

    let wildcard: IpAddr = match group.ip() {
        IpAddr::V4(ip) => {
            socket
                .set_multicast_all_v4(options.multicast_all)
                .map_err(failed("IP_MULTICAST_ALL"))?;
            let on = match index {
                Some(index) => InterfaceIndexOrAddress::Index(index),
                None => InterfaceIndexOrAddress::Address(Ipv4Addr::UNSPECIFIED),
            };
            socket
                .join_multicast_v4_n(&ip, &on)
                .map_err(failed("IP_ADD_MEMBERSHIP"))?;
            Ipv4Addr::UNSPECIFIED.into()
        }
        IpAddr::V6(ip) => {
            socket.set_only_v6(true).map_err(failed("IPV6_V6ONLY"))?;
            socket
                .set_multicast_all_v6(options.multicast_all)
                .map_err(failed("IPV6_MULTICAST_ALL"))?;
            socket
                .join_multicast_v6(&ip, index.unwrap_or(0))
                .map_err(failed("IPV6_ADD_MEMBERSHIP"))?;
            Ipv6Addr::UNSPECIFIED.into()
        }
    };
    let bind_to = match options.bind {
        // A link-local IPv6 group needs the interface as its scope id to be bound at all
        // (the diary's EINVAL); `socket_addr_on` adds it where, and only where, it is needed.
        Bind::Group => {
            group
                .check_interface(interface)
                .map_err(|e| refused(doing.as_str(), "binding to the group", e))?;
            group.socket_addr_on(interface)
        }
        Bind::Wildcard => SocketAddr::new(wildcard, group.port()),
    };
    socket
        .bind(&SockAddr::from(bind_to))
        .map_err(failed(&format!("bind({bind_to})")))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed defaults: bind to the group, `IP_MULTICAST_ALL` off, no interface chosen.
    #[test]
    fn defaults_are_the_narrow_filter() {
        let options = ListenOptions::default();
        assert_eq!(options.bind, Bind::Group);
        assert_eq!(options.interface, None);
        assert!(!options.multicast_all);
    }
}
