//! Socket options that socket2 does not wrap in the form multicast code needs.
//!
//! Everything socket2 or nix already offers (`IP_ADD_MEMBERSHIP` via
//! `Socket::join_multicast_v4_n`, `IP_MULTICAST_TTL`, `IP_MULTICAST_LOOP`, `IP_MULTICAST_ALL`
//! via `set_multicast_all_v4`, ...) is called directly where it is used. These are the gaps:
//! `IP_MULTICAST_IF` by interface index, and RFC 3678's protocol-independent joins
//! (`MCAST_JOIN_GROUP`, `MCAST_LEAVE_GROUP`, `MCAST_JOIN_SOURCE_GROUP`), which neither
//! socket2 nor nix wraps: each a single `setsockopt(2)` through [`set_option`], which the
//! harness also uses for the multicast router's options.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};

/// `IP_MULTICAST_IF` with an `ip_mreqn` naming the interface by index (see `ip(7)`): IPv4
/// multicast sent on this socket leaves through interface `index` whatever the routes say.
/// socket2's `set_multicast_if_v4` only takes an interface address, which an interface may
/// lack or share. Index 0 means "follow the routes" again.
pub fn set_multicast_if_v4_index(socket: &impl AsFd, index: u32) -> io::Result<()> {
    let request = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: libc::c_int::try_from(index).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "interface index too large")
        })?,
    };
    set_option(socket, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &request)
}

// ANCHOR: join_group
/// `MCAST_JOIN_GROUP` (RFC 3678 section 5.1, see `ip(7)` and `ipv6(7)`): joins
/// `group` on interface `index`, for IPv4 and IPv6 alike. One request, `struct
/// group_req`, serves both families: the interface by index (0: the one the route
/// to the group points at) and the group as a `sockaddr_storage`; only the option's
/// level (`IPPROTO_IP` or `IPPROTO_IPV6`) follows the socket's family. The kernel
/// reports the join with IGMP or MLD.
pub fn join_group(socket: &impl AsFd, group: IpAddr, index: u32) -> io::Result<()> {
    let request = libc::group_req {
        gr_interface: index,
        gr_group: storage(group),
    };
    set_option(socket, level(group), libc::MCAST_JOIN_GROUP, &request)
}

/// `MCAST_LEAVE_GROUP`: undoes [`join_group`] for the same group and interface.
/// Closing the socket leaves every group it joined as well.
pub fn leave_group(socket: &impl AsFd, group: IpAddr, index: u32) -> io::Result<()> {
    let request = libc::group_req {
        gr_interface: index,
        gr_group: storage(group),
    };
    set_option(socket, level(group), libc::MCAST_LEAVE_GROUP, &request)
}

/// The option level for a group of this family: `IPPROTO_IP` or `IPPROTO_IPV6`.
fn level(group: IpAddr) -> libc::c_int {
    match group {
        IpAddr::V4(_) => libc::IPPROTO_IP,
        IpAddr::V6(_) => libc::IPPROTO_IPV6,
    }
}
// ANCHOR_END: join_group

/// `MCAST_JOIN_SOURCE_GROUP` (RFC 3678, see `ip(7)`): a source-specific join of `group` on
/// interface `index`, for either family. The kernel then delivers only datagrams from
/// `source` (IGMPv3 / MLDv2 tell the network the same).
pub fn join_source_specific(
    socket: &impl AsFd,
    group: IpAddr,
    source: IpAddr,
    index: u32,
) -> io::Result<()> {
    if group.is_ipv4() != source.is_ipv4() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("source {source} and group {group} are of different families"),
        ));
    }
    let request = libc::group_source_req {
        gsr_interface: index,
        gsr_group: storage(group),
        gsr_source: storage(source),
    };
    set_option(
        socket,
        level(group),
        libc::MCAST_JOIN_SOURCE_GROUP,
        &request,
    )
}

fn storage(address: IpAddr) -> libc::sockaddr_storage {
    let address = socket2::SockAddr::from(SocketAddr::new(address, 0));
    // SAFETY: a socket2 address is backed by a whole, initialised sockaddr_storage.
    unsafe { *address.as_ptr().cast::<libc::sockaddr_storage>() }
}

/// `setsockopt(2)` with a plain C struct or integer as the value, for the options no crate
/// wraps (the two above, the multicast routing API's `MRT_*`). `T` must be a `#[repr(C)]`
/// type (or integer) laid out as the kernel expects for `name`.
pub fn set_option<T: Copy>(socket: &impl AsFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` is a live, initialised T and we pass exactly its size; the descriptor
    // is borrowed for the duration of the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_fd().as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `IP_MULTICAST_IF` by index takes `lo` and refuses an index no interface has.
    /// (Setting the option sends nothing, so this is safe outside a sandbox.)
    #[test]
    fn multicast_if_by_index_checks_the_index() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        set_multicast_if_v4_index(&socket, 1).unwrap();
        let error = set_multicast_if_v4_index(&socket, 999_999).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EADDRNOTAVAIL));
    }

    /// A source of the other family is refused before the kernel is asked.
    #[test]
    fn source_specific_join_needs_one_family() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let error = join_source_specific(
            &socket,
            "232.1.1.1".parse().unwrap(),
            "fd00::1".parse().unwrap(),
            1,
        )
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
