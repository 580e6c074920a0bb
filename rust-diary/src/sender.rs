//! The fixed `new_sender`: the outgoing interface is a resolved [`Interface`], not a number
//! copied from one laptop.
//!
//! `IP_MULTICAST_IF` / `IPV6_MULTICAST_IF` choose the interface a multicast datagram leaves
//! by. For IPv4 the diary sets `0.0.0.0`, "follow the route", which works wherever a route
//! to the group exists. For IPv6 there is often no single right answer (every interface
//! with IPv6 has a route to `ff00::/8`), so the diary named one by index, the index of its
//! author's Wi-Fi. [`sender`] takes the interface the caller resolved by name, or none to
//! let the route decide, as the diary does for IPv4.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use mcast_vocab::{Group, Interface};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{is_quiet, step_failed};
use crate::report::Via;

/// Makes a socket that sends to `group`, leaving by `interface` if given.
///
/// - IPv4: `IP_MULTICAST_IF` by index (an `ip_mreqn`; socket2 only takes an address), or
///   `0.0.0.0`, "follow the route", as the diary does; then `bind(0.0.0.0:0)`.
/// - IPv6: `IPV6_MULTICAST_IF` by index (or 0, follow the route), `bind([::]:0)`.
///
/// `IP_MULTICAST_LOOP` stays on (the default), so listeners on the sending host hear the
/// datagram too: the diary's test relies on it, its listener and client share one host.
/// The hop limit stays at the multicast default of 1.
pub fn sender(group: &Group, interface: Option<&Interface>) -> io::Result<UdpSocket> {
    let doing = format!("sending to {group} via {}", Via(interface));
    let failed = |step: &str| step_failed(doing.as_str(), step);
    let index = interface.map(|interface| interface.index);
    let (domain, wildcard): (Domain, SocketAddr) = if group.is_ipv6() {
        (Domain::IPV6, (Ipv6Addr::UNSPECIFIED, 0).into())
    } else {
        (Domain::IPV4, (Ipv4Addr::UNSPECIFIED, 0).into())
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(failed("socket"))?;
    match (group.is_ipv6(), index) {
        (false, Some(index)) => mcast_vocab::sockopt::set_multicast_if_v4_index(&socket, index)
            .map_err(failed("IP_MULTICAST_IF"))?,
        (false, None) => socket
            .set_multicast_if_v4(&Ipv4Addr::UNSPECIFIED)
            .map_err(failed("IP_MULTICAST_IF"))?,
        (true, index) => socket
            .set_multicast_if_v6(index.unwrap_or(0))
            .map_err(failed("IPV6_MULTICAST_IF"))?,
    }
    socket
        .bind(&SockAddr::from(wildcard))
        .map_err(failed(&format!("bind({wildcard})")))?;
    Ok(socket.into())
}

/// A reply to [`ask`]: its text and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply's bytes as text (lossy UTF-8).
    pub text: String,
    /// The responder's address. For a link-local IPv6 sender its scope id is the index of
    /// the interface the reply came in by.
    pub from: SocketAddr,
}

/// What `diary ask` prints: `reply "ipv4" from 10.0.0.1:7645`.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reply {:?} from {}", self.text, self.from)
    }
}

/// The fixed client half of the diary's test: sends `message` to `group` (via `interface`
/// if given) and returns the first unicast reply, waiting at most `within`.
///
/// The diary's client waits 100 ms, the read timeout of every diary socket; here the
/// caller chooses the deadline, which only bounds failure: a reply is returned as soon as
/// it arrives. A missed deadline is an `io::ErrorKind::TimedOut` error naming the group.
pub fn ask(
    group: &Group,
    interface: Option<&Interface>,
    message: &[u8],
    within: Duration,
) -> io::Result<Reply> {
    let socket = sender(group, interface)?;
    socket.send_to(message, group.socket_addr_on(interface))?;
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no reply from {group} within {within:?}"),
            ));
        }
        socket.set_read_timeout(Some(left))?;
        match socket.recv_from(&mut buf) {
            Ok((len, from)) => {
                return Ok(Reply {
                    text: String::from_utf8_lossy(&buf[..len]).into_owned(),
                    from,
                });
            }
            Err(err) if is_quiet(&err) => {}
            Err(err) => return Err(err),
        }
    }
}
