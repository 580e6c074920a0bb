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
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use crate::group::Group;
use crate::interface::Interface;

/// How long a listening socket blocks in one read, so a loop can notice it should stop.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What a listening socket binds to, and so what it filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bind {
    /// `bind(group:port)`: only datagrams addressed to the group and port. For an IPv6
    /// group of link- or interface-local scope, the interface goes along as the scope id.
    Group,
    /// `bind(0.0.0.0:port)` or `bind([::]:port)`: anything that reaches the host for the
    /// port, filtered only by `IP_MULTICAST_ALL` (see the module docs).
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

    /// The interface to join on, if one was chosen.
    pub fn chosen_interface(&self) -> Option<&Interface> {
        self.interface.as_ref()
    }

    /// The bind style.
    pub fn bind_style(&self) -> Bind {
        self.bind
    }
}

// ANCHOR: join
/// Joins `group` and binds a socket as `options` say; the socket is ready when this
/// returns. The fixed form of [`crate::diary::join_multicast`]. In order:
///
/// 1. A UDP socket with a [`POLL_INTERVAL`] read timeout (`SO_RCVTIMEO`), as the diary has.
/// 2. `SO_REUSEADDR`, so several listeners on one host can share the port: the diary's
///    closing advice, which its code never took.
/// 3. IPv6 only: `IPV6_V6ONLY`, as the diary has.
/// 4. `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL` as chosen (off unless asked for).
/// 5. `IP_ADD_MEMBERSHIP` / `IPV6_ADD_MEMBERSHIP` on the chosen interface's index, or on
///    "any" (`0.0.0.0` / index 0) when none was chosen, as the diary does.
/// 6. `bind` per [`Bind`], with the interface as the scope id of a link-local IPv6 group.
///
/// Errors name the group and the step that failed, e.g. an IPv6 link-local group bound
/// without an interface.
pub fn join(group: &Group, options: &ListenOptions) -> io::Result<UdpSocket> {
    // ANCHOR_END: join
    let index = options.interface.as_ref().map(Interface::index);
    let context = |step: &str, err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("listening on {group}: {step} failed: {err}"),
        )
    };

    let domain = if group.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_read_timeout(Some(POLL_INTERVAL))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| context("SO_REUSEADDR", e))?;

    let bind_to = match group.ip() {
        IpAddr::V4(ip) => {
            socket
                .set_multicast_all_v4(options.multicast_all)
                .map_err(|e| context("IP_MULTICAST_ALL", e))?;
            let on = match index {
                Some(index) => InterfaceIndexOrAddress::Index(index),
                None => InterfaceIndexOrAddress::Address(Ipv4Addr::UNSPECIFIED),
            };
            socket
                .join_multicast_v4_n(&ip, &on)
                .map_err(|e| context("IP_ADD_MEMBERSHIP", e))?;
            match options.bind {
                Bind::Group => group.socket_addr(),
                Bind::Wildcard => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), group.port()),
            }
        }
        IpAddr::V6(ip) => {
            socket
                .set_only_v6(true)
                .map_err(|e| context("IPV6_V6ONLY", e))?;
            socket
                .set_multicast_all_v6(options.multicast_all)
                .map_err(|e| context("IPV6_MULTICAST_ALL", e))?;
            socket
                .join_multicast_v6(&ip, index.unwrap_or(0))
                .map_err(|e| context("IPV6_ADD_MEMBERSHIP", e))?;
            match options.bind {
                Bind::Group => {
                    let scope_id = match (needs_scope(&ip), index) {
                        (true, Some(index)) => index,
                        (true, None) => {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidInput,
                                format!(
                                    "listening on {group}: binding to a link-local group \
                                     needs an interface (its scope id); choose one or bind \
                                     to the wildcard"
                                ),
                            ));
                        }
                        (false, index) => index.unwrap_or(0),
                    };
                    SocketAddrV6::new(ip, group.port(), 0, scope_id).into()
                }
                Bind::Wildcard => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), group.port()),
            }
        }
    };
    socket
        .bind(&SockAddr::from(bind_to))
        .map_err(|e| context(&format!("bind({bind_to})"), e))?;
    Ok(socket.into())
}

/// Whether an IPv6 multicast address has interface-local (`ff01`) or link-local (`ff02`)
/// scope, and so only means something together with an interface.
pub fn needs_scope(group: &Ipv6Addr) -> bool {
    group.is_multicast() && (group.segments()[0] & 0x000f) <= 2
}

/// Sets `IP_MULTICAST_IF` by interface index (the `ip_mreqn` form), which socket2 only
/// offers by address.
pub(crate) fn set_multicast_if_v4_index(socket: &Socket, index: u32) -> io::Result<()> {
    let request = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: index as libc::c_int,
    };
    // SAFETY: the pointer and length describe `request`, a live `ip_mreqn`, and the file
    // descriptor belongs to `socket` for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&raw const request).cast(),
            mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ff01 and ff02 need an interface; site-, organisation- and global-scope groups do not.
    #[test]
    fn only_interface_and_link_local_groups_need_a_scope() {
        assert!(needs_scope(&"ff02::123".parse().unwrap()));
        assert!(needs_scope(&"ff01::1".parse().unwrap()));
        assert!(!needs_scope(&"ff05::123".parse().unwrap()));
        assert!(!needs_scope(&"ff0e::123".parse().unwrap()));
    }

    /// The fixed defaults: bind to the group, `IP_MULTICAST_ALL` off, no interface chosen.
    #[test]
    fn defaults_are_the_narrow_filter() {
        let options = ListenOptions::default();
        assert_eq!(options.bind_style(), Bind::Group);
        assert_eq!(options.chosen_interface(), None);
        assert!(!options.multicast_all);
    }
}
