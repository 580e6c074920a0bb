//! Socket setup: the handful of options that turn a UDP socket into a
//! multicast sender or a group member.
//!
//! | option | set by | what it does | in the article |
//! |---|---|---|---|
//! | `IP_MULTICAST_TTL` / `IPV6_MULTICAST_HOPS` | [`sender`], [`member`] | limits how many routers a datagram crosses: TTL *n*, at most *n*−1 | `send.rb`, the chat client (TTL 1) |
//! | `IP_MULTICAST_IF` / `IPV6_MULTICAST_IF` | both, with `--interface` | picks the interface datagrams leave through | not used: the route decides |
//! | `SO_REUSEADDR`, `SO_REUSEPORT` | [`member`] | lets several programs bind the same port | `receive.rb` (`SO_REUSEPORT`), the gem (`SO_REUSEADDR`) |
//! | `IP_ADD_MEMBERSHIP` / `IPV6_JOIN_GROUP` | [`member`] | joins the group on one or any interface; the kernel reports it with IGMP/MLD | `receive.rb`, the chat client |
//! | `MCAST_JOIN_SOURCE_GROUP` | [`member`], with `receive --source` | joins the group for one sender only (source-specific multicast, RFC 4607) | not in the article |
//! | `IP_PKTINFO` / `IPV6_RECVPKTINFO` | [`member`] | reports each datagram's arrival interface and destination | not in the article: for `--verbose` |
//!
//! The options the article teaches are called here, in its order, through
//! socket2. Two that are plumbing come from `mcast-vocab`: `IP_MULTICAST_IF` by
//! interface index (socket2 takes only an address) and the packet-info request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mcast_vocab::{Group, Interface, request_arrival_info, sockopt};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

use crate::config::Config;
use crate::error::Error;

/// A UDP socket that sends to `config`'s group with its TTL, through its
/// interface if one is set. Like `send.rb`: no bind, the first `sendto()` picks
/// an ephemeral port.
pub(crate) fn sender(config: &Config) -> Result<Socket, Error> {
    let group = config.group();
    let socket = udp_socket(group)?;
    set_outgoing(&socket, config)?;
    Ok(socket)
}

// ANCHOR: member
/// A UDP socket that is a member of `config`'s group and bound to its port on
/// the wildcard address, ready to receive when this returns. It can also send
/// (the chat uses one socket for both, as the original does).
pub(crate) fn member(config: &Config) -> Result<Socket, Error> {
    let group = config.group();
    let socket = udp_socket(group)?;
    set_outgoing(&socket, config)?;

    // SO_REUSEADDR / SO_REUSEPORT: must be set before bind(2) on every socket
    // that shares the port. See `Reuse` for the difference.
    let reuse = config.reuse();
    Error::step(
        || "allowing other programs to share the port (SO_REUSEADDR)".to_string(),
        socket.set_reuse_address(reuse.reuse_address()),
    )?;
    Error::step(
        || "allowing other programs to share the port (SO_REUSEPORT)".to_string(),
        socket.set_reuse_port(reuse.reuse_port()),
    )?;

    join(&socket, group.ip(), config.source(), config.interface())?;

    // IP_PKTINFO / IPV6_RECVPKTINFO: ask for the arrival interface and
    // destination address of every datagram (not its TTL: nothing here shows it).
    Error::step(
        || "asking for arrival interfaces (IP_PKTINFO / IPV6_RECVPKTINFO)".to_string(),
        request_arrival_info(&socket, group.is_ipv6(), false),
    )?;

    // Bind the wildcard address, as the article does (0.0.0.0, or [::] with
    // IPV6_V6ONLY so the IPv6 socket does not also claim the IPv4 port). The
    // socket then also receives unicast to this port, and, since Linux's
    // IP_MULTICAST_ALL defaults to on, datagrams to this port for groups that
    // only *other* sockets on this host joined (a join has no port).
    let wildcard = match group.ip() {
        IpAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, group.port())),
        IpAddr::V6(_) => {
            Error::step(
                || "limiting the socket to IPv6 (IPV6_V6ONLY)".to_string(),
                socket.set_only_v6(true),
            )?;
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, group.port()))
        }
    };
    Error::step(
        || format!("binding {wildcard}"),
        socket.bind(&wildcard.into()),
    )?;
    Ok(socket)
}
// ANCHOR_END: member

/// `socket(2)`: a UDP socket of the group's family (`AF_INET` or `AF_INET6`).
fn udp_socket(group: Group) -> Result<Socket, Error> {
    Error::step(
        || "creating a UDP socket".to_string(),
        Socket::new(
            Domain::for_address(group.socket_addr()),
            Type::DGRAM,
            Some(Protocol::UDP),
        ),
    )
}

// ANCHOR: outgoing
/// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS, and IP_MULTICAST_IF /
/// IPV6_MULTICAST_IF when an interface was chosen.
fn set_outgoing(socket: &Socket, config: &Config) -> Result<(), Error> {
    let ttl = config.ttl();
    match config.group().ip() {
        IpAddr::V4(_) => {
            Error::step(
                || format!("setting the multicast TTL to {ttl} (IP_MULTICAST_TTL)"),
                socket.set_multicast_ttl_v4(u32::from(ttl.0)),
            )?;
            if let Some(interface) = config.interface() {
                Error::step_on(
                    Some(interface),
                    || format!("sending through {interface} (IP_MULTICAST_IF)"),
                    sockopt::set_multicast_if_v4_index(socket, interface.index),
                )?;
            }
        }
        IpAddr::V6(_) => {
            Error::step(
                || format!("setting the hop limit to {ttl} (IPV6_MULTICAST_HOPS)"),
                socket.set_multicast_hops_v6(u32::from(ttl.0)),
            )?;
            if let Some(interface) = config.interface() {
                Error::step_on(
                    Some(interface),
                    || format!("sending through {interface} (IPV6_MULTICAST_IF)"),
                    socket.set_multicast_if_v6(interface.index),
                )?;
            }
        }
    }
    Ok(())
}
// ANCHOR_END: outgoing

/// IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP on the chosen interface, or on "any"
/// (INADDR_ANY / index 0), which lets the kernel pick the interface the route
/// to the group points at, exactly as `receive.rb` does. With a source,
/// MCAST_JOIN_SOURCE_GROUP instead: the same choice of interface, and only
/// that sender's datagrams are delivered.
fn join(
    socket: &Socket,
    group: IpAddr,
    source: Option<IpAddr>,
    interface: Option<&Interface>,
) -> Result<(), Error> {
    let on = interface.map_or_else(|| "any interface".to_string(), |i| i.to_string());
    // ANCHOR: ssm_join
    if let Some(source) = source {
        let index = interface.map_or(0, |i| i.index);
        let joined = sockopt::join_source_specific(socket, group, source, index);
        return Error::step_on(
            interface,
            || format!("joining {group} from {source} (MCAST_JOIN_SOURCE_GROUP)"),
            joined,
        );
    }
    // ANCHOR_END: ssm_join
    match group {
        IpAddr::V4(v4) => {
            let which = match interface {
                Some(i) => InterfaceIndexOrAddress::Index(i.index),
                None => InterfaceIndexOrAddress::Address(Ipv4Addr::UNSPECIFIED),
            };
            Error::step_on(
                interface,
                || format!("joining {v4} on {on} (IP_ADD_MEMBERSHIP)"),
                socket.join_multicast_v4_n(&v4, &which),
            )
        }
        IpAddr::V6(v6) => Error::step_on(
            interface,
            || format!("joining {v6} on {on} (IPV6_JOIN_GROUP)"),
            socket.join_multicast_v6(&v6, interface.map_or(0, |i| i.index)),
        ),
    }
}
