//! Interfaces as a listener sees them from inside a host: by name, by family, by index.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::RawFd;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{InterfaceFlags, if_indextoname, if_nametoindex};

use mcast_vocab::Interface;

/// The interface called `name` in the calling thread's namespace.
pub(crate) fn by_name(name: &str) -> io::Result<Interface> {
    let index = if_nametoindex(name)
        .map_err(|e| io::Error::other(format!("no interface {name:?} here ({e})")))?;
    Ok(Interface {
        index,
        name: name.to_owned(),
    })
}

/// The interfaces that are up and can carry the family: for IPv4 those with an IPv4 address
/// (`lo` included: IPv4 multicast over `lo` works), for IPv6 those with an IPv6 address and
/// the `MULTICAST` flag (which `lo` lacks, and IPv6 honours).
pub(crate) fn carrying(ipv6: bool) -> io::Result<Vec<Interface>> {
    let mut found: Vec<Interface> = Vec::new();
    for entry in getifaddrs()? {
        let up = entry.flags.contains(InterfaceFlags::IFF_UP);
        let family_ok = match entry.address.as_ref() {
            Some(a) if ipv6 => {
                a.as_sockaddr_in6().is_some() && entry.flags.contains(InterfaceFlags::IFF_MULTICAST)
            }
            Some(a) => a.as_sockaddr_in().is_some(),
            None => false,
        };
        if up && family_ok && !found.iter().any(|i| i.name == entry.interface_name) {
            found.push(by_name(&entry.interface_name)?);
        }
    }
    Ok(found)
}

/// Remembers index → name (`if_indextoname`) for the life of one listener thread.
#[derive(Default)]
pub(crate) struct NameCache {
    names: HashMap<u32, String>,
}

impl NameCache {
    pub(crate) fn name(&mut self, index: u32) -> String {
        self.names
            .entry(index)
            .or_insert_with(|| match if_indextoname(index) {
                Ok(name) => name.to_string_lossy().into_owned(),
                Err(_) => format!("#{index}"),
            })
            .clone()
    }
}

/// `struct group_source_req` from `<netinet/in.h>`, for the protocol-independent
/// `MCAST_JOIN_SOURCE_GROUP` (RFC 3678), which works for both families.
#[repr(C)]
struct GroupSourceRequest {
    interface: u32,
    group: libc::sockaddr_storage,
    source: libc::sockaddr_storage,
}

/// A source-specific join (`MCAST_JOIN_SOURCE_GROUP`) on interface `index`.
pub(crate) fn join_source_specific(
    fd: RawFd,
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
    let request = GroupSourceRequest {
        interface: index,
        group: storage(group),
        source: storage(source),
    };
    let level = if group.is_ipv4() {
        libc::IPPROTO_IP
    } else {
        libc::IPPROTO_IPV6
    };
    // SAFETY: `request` is a valid group_source_req and we pass its exact size.
    let result = unsafe {
        libc::setsockopt(
            fd,
            level,
            libc::MCAST_JOIN_SOURCE_GROUP,
            (&request as *const GroupSourceRequest).cast(),
            size_of::<GroupSourceRequest>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn storage(address: IpAddr) -> libc::sockaddr_storage {
    let socket_address = socket2::SockAddr::from(std::net::SocketAddr::new(address, 0));
    // SAFETY: SockAddr holds a valid sockaddr_storage.
    unsafe { *socket_address.as_ptr().cast::<libc::sockaddr_storage>() }
}
