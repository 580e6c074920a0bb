//! The receiver: join the group, and answer every datagram with `ack`.
//!
//! The steps follow the original `socket_multicast_receiver.py`:
//!
//! 1. make a UDP socket and bind it to port 10000 on every address (`('', 10000)`), with
//!    no address reuse, so only one receiver per host can hold the port;
//! 2. join the group (`IP_ADD_MEMBERSHIP` with `INADDR_ANY`). That does not mean "on all
//!    interfaces": the kernel joins on the one interface the route to the group picks
//!    (with `--interface`, on that one instead);
//! 3. loop like a UDP echo server: read up to 1024 bytes, print who sent what, and send
//!    `ack` back to the sender's own address and port.
//!
//! The acknowledgement is plain unicast: it goes to the one sender, not to the group.
//! That is the whole "ack pattern": many receivers each answer one sender directly, and
//! the sender collects however many answers arrive (see [`crate::sender`]).
//!
//! [`Receiver::bind`] does steps 1 and 2 and returns only once the group is joined, so a
//! test or a tour can start a receiver, then a sender, without sleeping in between.
//!
//! A group is open to anyone on the segment, so whatever arrives is printed escaped and
//! counted, and only the latest [`RECENT_DATAGRAMS`] are kept whole in the
//! [`ReceiverReport`]: the receiver's memory does not grow with a flood.

use std::collections::VecDeque;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use mcast_vocab::{Group, Interface, Ttl};
use socket2::InterfaceIndexOrAddress::Index;
use socket2::{Domain, Socket, Type};

use crate::datagram;
use crate::defaults::{DEFAULT_GROUP, MIN_TIMEOUT};
use crate::error::{Error, Step};
use crate::summary::ACK;
use crate::transcript::{address_tuple, bytes_repr};

/// How many bytes of each datagram the original reads (`recvfrom(1024)`).
const RECEIVE_BUFFER: usize = 1024;

/// How many of the latest datagrams a [`ReceiverReport`] keeps whole; older ones are only
/// counted, so a receiver's memory does not grow with what the group sends it.
pub const RECENT_DATAGRAMS: usize = 16;

/// Everything the receiver needs. [`Default`] gives the article's values and runs forever,
/// as the original does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// The group to join and the port to bind (default 224.3.29.71, port 10000).
    pub group: Group,
    /// Join on this interface only, instead of letting the kernel pick (`INADDR_ANY`).
    pub interface: Option<Interface>,
    /// TTL / hop limit of the acknowledgements (unicast); the kernel's default when unset.
    pub ttl: Option<Ttl>,
    /// Stop after answering this many datagrams; run forever when unset.
    pub count: Option<usize>,
    /// Stop when no datagram arrives for this long (at least 1 ms); wait forever when unset.
    pub idle: Option<Duration>,
}

impl Default for ReceiverConfig {
    /// The article's receiver: 224.3.29.71, port 10000, default interface, forever.
    fn default() -> Self {
        ReceiverConfig {
            group: DEFAULT_GROUP,
            interface: None,
            ttl: None,
            count: None,
            idle: None,
        }
    }
}

/// One datagram the receiver handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// The sender's address and port, where the `ack` went.
    pub from: SocketAddr,
    /// The bytes read (at most 1024, as the original reads).
    pub payload: Vec<u8>,
    /// The datagram's real length.
    pub length: usize,
    /// Whether the `ack` was sent.
    pub acknowledged: bool,
}

/// What the receiver did before it stopped: counts of everything, and the latest few
/// datagrams whole. A group is open to anyone on the segment, so the report never keeps
/// every datagram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverReport {
    /// The latest datagrams (at most [`RECENT_DATAGRAMS`]), oldest first.
    pub handled: VecDeque<Handled>,
    /// Datagrams handled in all.
    pub datagrams: usize,
    /// Of those, how many were acknowledged (the `ack` was sent).
    pub acknowledged: usize,
    /// Of those, how many were longer than the 1024 bytes read.
    pub truncated: usize,
}

impl ReceiverReport {
    /// Counts one datagram and keeps it among the latest.
    fn record(&mut self, handled: Handled) {
        self.datagrams += 1;
        self.acknowledged += usize::from(handled.acknowledged);
        self.truncated += usize::from(handled.length > handled.payload.len());
        if self.handled.len() == RECENT_DATAGRAMS {
            self.handled.pop_front();
        }
        self.handled.push_back(handled);
    }
}

/// A bound receiver that has joined its group.
#[derive(Debug)]
pub struct Receiver {
    socket: Socket,
    config: ReceiverConfig,
    local: SocketAddr,
}

impl Receiver {
    /// Steps 1 and 2: bind the port and join the group. When this returns, datagrams sent
    /// to the group reach this socket. A link-local IPv6 group without an interface is
    /// refused before any socket exists.
    ///
    /// Call it from a thread inside the network namespace it should listen in; the socket
    /// stays there, so [`Receiver::serve`] may then run on any thread.
    pub fn bind(config: ReceiverConfig) -> Result<Self, Error> {
        let group = config.group;
        group.check_interface(config.interface.as_ref())?;
        if let Some(value) = config.idle.filter(|idle| *idle < MIN_TIMEOUT) {
            return Err(Error::TooShort {
                what: "idle",
                value,
            });
        }
        // ANCHOR: bind
        let domain = Domain::for_address(group.socket_addr());
        let socket = Socket::new(domain, Type::DGRAM, None).step("open a socket")?;
        if group.is_ipv6() {
            // IPV6_V6ONLY: IPv6 only, so an IPv4 receiver can bind the port beside
            // it.
            socket.set_only_v6(true).step("set IPV6_V6ONLY")?;
        }

        // Step 1: bind ('', port). No SO_REUSEADDR, like the original.
        let wildcard = match group.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let address = SocketAddr::new(wildcard, group.port());
        socket
            .bind(&address.into())
            .step(format!("bind {address}"))?;

        // Step 2: join the group. IP_ADD_MEMBERSHIP with INADDR_ANY, as in the
        // article, which reads it as "all interfaces": the kernel joins on ONE, the
        // one the route to the group picks. With --interface, an ip_mreqn naming it
        // by index. IPV6_ADD_MEMBERSHIP (IPV6_JOIN_GROUP) takes an index; 0 lets
        // the kernel pick.
        let on = config.interface.as_ref();
        let (any, index) = (Ipv4Addr::UNSPECIFIED, on.map_or(0, |i| i.index));
        let joined = match group.ip() {
            IpAddr::V4(ip) if on.is_none() => socket.join_multicast_v4(&ip, &any),
            IpAddr::V4(ip) => socket.join_multicast_v4_n(&ip, &Index(index)),
            IpAddr::V6(ip) => socket.join_multicast_v6(&ip, index),
        };
        let on = on.map_or("the default interface".into(), |i| i.to_string());
        let option = if group.is_ipv6() {
            "IPV6_ADD_MEMBERSHIP"
        } else {
            "IP_ADD_MEMBERSHIP"
        };
        joined.step(format!("join group {} on {on} ({option})", group.ip()))?;

        // ANCHOR_END: bind
        if let Some(ttl) = config.ttl {
            // IP_TTL / IPV6_UNICAST_HOPS: the acknowledgement is unicast, so this is
            // the option that governs it, not the multicast one.
            match group.ip() {
                IpAddr::V4(_) => socket.set_ttl_v4(ttl.0.into()),
                IpAddr::V6(_) => socket.set_unicast_hops_v6(ttl.0.into()),
            }
            .map_err(Error::socket(format!(
                "set the acknowledgement TTL to {ttl}"
            )))?;
        }
        if let Some(idle) = config.idle {
            // SO_RCVTIMEO, used here only to stop an idle receiver.
            socket
                .set_read_timeout(Some(idle))
                .map_err(Error::socket("set the idle timeout (SO_RCVTIMEO)"))?;
        }

        let local = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(address);
        Ok(Receiver {
            socket,
            config,
            local,
        })
    }

    /// The address the socket is bound to (wildcard address and the port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Step 3: answer datagrams, printing the original's lines to `out`:
    ///
    /// ```text
    ///
    /// waiting to receive message
    /// received 19 bytes from ('10.0.0.1', 51382)
    /// b'very important data'
    /// sending acknowledgement to ('10.0.0.1', 51382)
    /// ```
    ///
    /// A datagram longer than the 1024-byte buffer gets one more line saying how long it
    /// really was. Any bytes are fine: they are printed escaped. Runs until `count`
    /// datagrams were handled or nothing arrived for `idle`, or forever.
    pub fn serve(&self, out: &mut dyn Write) -> Result<ReceiverReport, Error> {
        let mut report = ReceiverReport::default();
        while self.config.count.is_none_or(|n| report.datagrams < n) {
            writeln!(out, "\nwaiting to receive message").map_err(Error::Output)?;
            let datagram = match datagram::receive(&self.socket, RECEIVE_BUFFER) {
                Ok(datagram) => datagram,
                Err(error) if datagram::is_timeout(&error) => {
                    let idle = self.config.idle.unwrap_or_default();
                    writeln!(out, "nothing arrived for {idle:?}, stopping")
                        .map_err(Error::Output)?;
                    break;
                }
                Err(error) => return Err(Error::socket("receive a datagram")(error)),
            };
            let from = address_tuple(datagram.source);
            writeln!(out, "received {} bytes from {from}", datagram.payload.len())
                .map_err(Error::Output)?;
            if datagram.truncated() {
                writeln!(
                    out,
                    "  (the datagram was {} bytes; only the first {RECEIVE_BUFFER} were read)",
                    datagram.length
                )
                .map_err(Error::Output)?;
            }
            writeln!(out, "{}", bytes_repr(&datagram.payload)).map_err(Error::Output)?;
            writeln!(out, "sending acknowledgement to {from}").map_err(Error::Output)?;
            // The ack goes back to the sender's own address: unicast, not the group.
            let acknowledged = match self.socket.send_to(ACK, &datagram.source.into()) {
                Ok(_) => true,
                Err(error) => {
                    writeln!(out, "  (the acknowledgement could not be sent: {error})")
                        .map_err(Error::Output)?;
                    false
                }
            };
            let mut payload = datagram.payload;
            payload.shrink_to_fit();
            report.record(Handled {
                from: datagram.source,
                payload,
                length: datagram.length,
                acknowledged,
            });
        }
        Ok(report)
    }
}

/// Binds, joins and serves: the whole original receiver in one call.
pub fn receive(config: ReceiverConfig, out: &mut dyn Write) -> Result<ReceiverReport, Error> {
    Receiver::bind(config)?.serve(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The article's receiver: its group and port, the interface the route picks, no end.
    #[test]
    fn new_config_is_the_articles() {
        let config = ReceiverConfig::default();
        assert_eq!(config.group.to_string(), "224.3.29.71:10000");
        assert_eq!(config.interface, None);
        assert_eq!(config.count, None);
        assert_eq!(config.idle, None);
    }

    /// However many datagrams arrive, the report counts them all and keeps only the
    /// latest [`RECENT_DATAGRAMS`], the newest last.
    #[test]
    fn the_report_counts_everything_and_keeps_the_latest() {
        let mut report = ReceiverReport::default();
        for n in 0..1000usize {
            report.record(Handled {
                from: "10.0.0.1:4000".parse().unwrap(),
                payload: n.to_string().into_bytes(),
                length: if n % 2 == 0 {
                    2000
                } else {
                    n.to_string().len()
                },
                acknowledged: n % 4 != 0,
            });
        }
        assert_eq!(report.datagrams, 1000);
        assert_eq!(report.acknowledged, 750);
        assert_eq!(report.truncated, 500);
        assert_eq!(report.handled.len(), RECENT_DATAGRAMS);
        assert_eq!(report.handled.back().unwrap().payload, b"999");
    }

    /// An idle timeout the kernel would round to 0 ("for ever") is refused by name.
    #[test]
    fn an_idle_timeout_under_a_millisecond_is_refused() {
        let config = ReceiverConfig {
            idle: Some(Duration::from_nanos(500)),
            ..ReceiverConfig::default()
        };
        let error = Receiver::bind(config).unwrap_err().to_string();
        assert!(error.starts_with("idle 500ns is too short"), "{error}");
    }
}
