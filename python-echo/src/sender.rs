//! The sender: one datagram to the group, then every reply until the line goes quiet.
//!
//! The steps follow the original `socket_multicast_sender.py`:
//!
//! 1. make a UDP socket and give it a read timeout (0.2 s), so waiting for replies ends;
//! 2. set the multicast TTL to 1, so the datagram stays on the local segment;
//! 3. send the message once, to the group;
//! 4. loop: wait for a reply, print it; the first timeout ends the loop;
//! 5. close the socket.
//!
//! On top of the original it counts the replies ([`AckSummary`]) and prints one summary
//! line, so a script can ask "did at least N hosts hear me?". And it stops after
//! `max_wait` in all (10 s unless asked otherwise): each reply restarts the 0.2 s, so
//! without that a peer that keeps replying, or floods the sender's port, would keep it
//! running for ever.
//!
//! Why a timeout and not a count: the sender addresses a *group*, not hosts. Joining and
//! leaving is between each receiver and its own kernel (and the routers, through IGMP or
//! MLD); nobody tells the sender who is a member. So it cannot know how many replies are
//! coming, and "no reply for a while" is the only end it can see. A slow host that answers
//! after the timeout is simply not counted.

use std::fmt;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mcast_vocab::sockopt::set_multicast_if_v4_index;
use mcast_vocab::{Group, Interface, Ttl};
use socket2::{Domain, Socket, Type};

use crate::datagram;
use crate::defaults::{
    DEFAULT_GROUP, DEFAULT_MAX_WAIT, DEFAULT_MESSAGE, DEFAULT_TIMEOUT, MIN_TIMEOUT,
};
use crate::error::{Error, Step};
use crate::summary::{AckSummary, Verdict};
use crate::transcript::{address_tuple, bytes_repr};

/// How many bytes of each reply the original reads (`recvfrom(16)`); an `ack` needs 3.
const REPLY_READ_SIZE: usize = 16;

/// Everything the sender needs. [`Default`] gives the article's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// The group and port to send to (default 224.3.29.71, port 10000).
    pub group: Group,
    /// Send through this interface instead of the one the routing table picks.
    pub interface: Option<Interface>,
    /// Multicast TTL / IPv6 hop limit (default 1).
    pub ttl: Ttl,
    /// The datagram's payload (default `very important data`).
    pub message: Vec<u8>,
    /// How long to wait for each reply before giving up (default 0.2 s; at least 1 ms).
    pub timeout: Duration,
    /// How long to wait for replies in all, however many keep coming (default 10 s; at
    /// least 1 ms). Without it a peer that keeps answering, or flooding the sender's port,
    /// would keep the sender running for ever: each reply restarts `timeout`.
    pub max_wait: Duration,
    /// Report a shortfall when fewer distinct hosts acknowledge (see
    /// [`SenderReport::shortfall`]). The sending itself does not change.
    pub expect: Option<usize>,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            group: DEFAULT_GROUP,
            interface: None,
            ttl: Ttl::LOCAL_NETWORK,
            message: DEFAULT_MESSAGE.to_vec(),
            timeout: DEFAULT_TIMEOUT,
            max_wait: DEFAULT_MAX_WAIT,
            expect: None,
        }
    }
}

impl SenderConfig {
    /// Where the datagram goes: group and port (and, for a link-local IPv6 group, the
    /// interface as scope id).
    pub fn destination(&self) -> SocketAddr {
        self.group.socket_addr_on(self.interface.as_ref())
    }
}

/// What happened: the replies, counted by host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReport {
    /// Where the datagram went.
    pub destination: SocketAddr,
    /// The address our socket was bound to: usually the wildcard address and an
    /// ephemeral port. Receivers see the port with the interface's address.
    pub local: SocketAddr,
    /// Every reply, and which distinct hosts acknowledged.
    pub summary: AckSummary,
    /// The `expect` the config asked for.
    pub expected: Option<usize>,
}

impl SenderReport {
    /// The distinct hosts that acknowledged, in arrival order.
    pub fn hosts(&self) -> &[IpAddr] {
        self.summary.hosts()
    }

    /// How far short of the config's `expect` the acknowledging hosts fell, if they did.
    pub fn shortfall(&self) -> Option<Shortfall> {
        self.expected
            .filter(|&expected| !self.summary.meets(expected))
            .map(|expected| Shortfall {
                expected,
                got: self.hosts().len(),
            })
    }
}

/// Fewer distinct hosts acknowledged than `--expect` asked for. Its `Display` is the line
/// the sender prints to stderr before it exits with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// How many hosts were expected.
    pub expected: usize,
    /// How many acknowledged.
    pub got: usize,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected acknowledgements from at least {} host(s), got {}",
            self.expected, self.got
        )
    }
}

// ANCHOR: open
/// Makes the sender's socket: steps 1 and 2 of the article, plus `--interface`.
fn open(config: &SenderConfig) -> Result<Socket, Error> {
    let (group, ttl) = (config.group, config.ttl);
    let domain = Domain::for_address(group.socket_addr());
    let socket = Socket::new(domain, Type::DGRAM, None).step("open a socket")?;

    // SO_RCVTIMEO: a receive that waits longer than this fails with EAGAIN. The
    // article's `sock.settimeout(0.2)`; it is what ends the loop over replies.
    socket
        .set_read_timeout(Some(config.timeout))
        .step("set the reply timeout (SO_RCVTIMEO)")?;

    // IP_MULTICAST_TTL: each router lowers it by one, so TTL n crosses at most n-1
    // routers; 1 keeps it on this segment. The article packs it into one byte.
    // IPV6_MULTICAST_HOPS is IPv6's name for it.
    match group.ip() {
        IpAddr::V4(_) => socket.set_multicast_ttl_v4(ttl.0.into()),
        IpAddr::V6(_) => socket.set_multicast_hops_v6(ttl.0.into()),
    }
    .step(format!("set the multicast TTL to {ttl}"))?;

    // IP_MULTICAST_IF / IPV6_MULTICAST_IF: send through this interface instead of
    // the one the route to the group picks, named by index (for IPv4 an
    // `ip_mreqn`, so an interface without an IPv4 address works too).
    if let Some(interface) = &config.interface {
        match group.ip() {
            IpAddr::V4(_) => set_multicast_if_v4_index(&socket, interface.index),
            IpAddr::V6(_) => socket.set_multicast_if_v6(interface.index),
        }
        .step(format!("send through {interface} (IP_MULTICAST_IF)"))?;
    }
    Ok(socket)
}
// ANCHOR_END: open

/// Sends the message and collects replies, printing the original's lines to `out`:
///
/// ```text
/// sending b'very important data'
/// waiting to receive
/// received b'ack' from ('10.0.0.1', 10000)
/// waiting to receive
/// timed out, no more responses
/// closing socket
/// summary: acknowledged by 1 host: 10.0.0.1
/// ```
///
/// A reply that is not `ack` is printed like any other and followed by a line saying it
/// was ignored; a second `ack` from the same host is followed by a line saying it was
/// counted once. Pass [`std::io::sink()`] to print nothing.
///
/// A link-local IPv6 group without an interface is refused before anything is sent.
/// Call it from a thread inside the network namespace the datagram should leave from.
pub fn send(config: &SenderConfig, out: &mut dyn Write) -> Result<SenderReport, Error> {
    config.group.check_interface(config.interface.as_ref())?;
    for (what, value) in [("timeout", config.timeout), ("max-wait", config.max_wait)] {
        if value < MIN_TIMEOUT {
            return Err(Error::TooShort { what, value });
        }
    }
    let socket = open(config)?;
    let destination = config.destination();

    let result = exchange(&socket, config, destination, out);
    // The original closes the socket in a `finally:` block, so it says so even when
    // something failed on the way.
    let closing = writeln!(out, "closing socket").map_err(Error::Output);
    let local = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .unwrap_or(destination);
    drop(socket);
    let summary = result?;
    closing?;
    writeln!(out, "{summary}").map_err(Error::Output)?;
    Ok(SenderReport {
        destination,
        local,
        summary,
        expected: config.expect,
    })
}

/// Steps 3 and 4: send once, then read replies until the first timeout, or until
/// `max_wait` has passed since the send, whichever comes first.
fn exchange(
    socket: &Socket,
    config: &SenderConfig,
    destination: SocketAddr,
    out: &mut dyn Write,
) -> Result<AckSummary, Error> {
    writeln!(out, "sending {}", bytes_repr(&config.message)).map_err(Error::Output)?;
    socket
        .send_to(&config.message, &destination.into())
        .map_err(Error::socket(format!("send to {destination}")))?;

    let deadline = Instant::now() + config.max_wait;
    let mut summary = AckSummary::new();
    loop {
        // The last wait before the deadline is cut to what is left of it. Below 1 ms the
        // kernel could round SO_RCVTIMEO down to 0, which means "for ever": stop instead.
        let left = deadline.saturating_duration_since(Instant::now());
        let cut = left < config.timeout;
        if left < MIN_TIMEOUT {
            return stopped_at_deadline(config, summary, out);
        }
        if cut {
            socket
                .set_read_timeout(Some(left))
                .map_err(Error::socket("shorten the reply timeout (SO_RCVTIMEO)"))?;
        }
        writeln!(out, "waiting to receive").map_err(Error::Output)?;
        let reply = match datagram::receive(socket, REPLY_READ_SIZE) {
            Ok(reply) => reply,
            Err(error) if datagram::is_timeout(&error) && cut => {
                return stopped_at_deadline(config, summary, out);
            }
            Err(error) if datagram::is_timeout(&error) => {
                writeln!(out, "timed out, no more responses").map_err(Error::Output)?;
                return Ok(summary);
            }
            Err(error) => return Err(Error::socket("receive a reply")(error)),
        };
        writeln!(
            out,
            "received {} from {}",
            bytes_repr(&reply.payload),
            address_tuple(reply.source)
        )
        .map_err(Error::Output)?;
        match summary.record(reply.source, &reply.payload, reply.length) {
            Verdict::NewAck => {}
            Verdict::DuplicateAck => writeln!(
                out,
                "  (another ack from {}: counted once)",
                reply.source.ip()
            )
            .map_err(Error::Output)?,
            Verdict::NotAnAck if reply.truncated() => writeln!(
                out,
                "  (not an ack: ignored; it was {} bytes, only the first {REPLY_READ_SIZE} are shown)",
                reply.length
            )
            .map_err(Error::Output)?,
            Verdict::NotAnAck => writeln!(out, "  (not an ack: ignored)").map_err(Error::Output)?,
        }
    }
}

/// The end of the reply loop when `max_wait` is over.
fn stopped_at_deadline(
    config: &SenderConfig,
    summary: AckSummary,
    out: &mut dyn Write,
) -> Result<AckSummary, Error> {
    writeln!(
        out,
        "stopped waiting: --max-wait {:?} is over ({} replies in all)",
        config.max_wait,
        summary.total()
    )
    .map_err(Error::Output)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are the article's: its group, port, message, TTL 1 and 0.2 s.
    #[test]
    fn defaults_are_the_articles() {
        let config = SenderConfig::default();
        assert_eq!(config.destination().to_string(), "224.3.29.71:10000");
        assert_eq!(config.message, b"very important data");
        assert_eq!(config.ttl, Ttl(1));
        assert_eq!(config.timeout, Duration::from_millis(200));
        assert_eq!(config.max_wait, Duration::from_secs(10));
        assert_eq!(config.expect, None);
    }

    /// A timeout the kernel would round to 0 ("for ever") is refused before anything is
    /// printed or sent, naming the value and what was expected.
    #[test]
    fn timeouts_under_a_millisecond_are_refused() {
        for (timeout, max_wait, named) in [
            (
                Duration::from_nanos(500),
                Duration::from_secs(1),
                "timeout 500ns",
            ),
            (
                Duration::from_secs(1),
                Duration::from_micros(999),
                "max-wait 999µs",
            ),
        ] {
            let config = SenderConfig {
                timeout,
                max_wait,
                ..SenderConfig::default()
            };
            let mut out = Vec::new();
            let error = send(&config, &mut out).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
            assert!(error.contains("at least 1 ms"), "{error}");
            assert!(out.is_empty());
        }
    }

    /// A link-local IPv6 destination carries the chosen interface as its scope id.
    #[test]
    fn link_local_destination_is_scoped_to_the_interface() {
        let config = SenderConfig {
            group: Group::parse("[ff02::329:71]:10000").unwrap(),
            interface: Some(Interface {
                name: "eth0".into(),
                index: 7,
            }),
            ..SenderConfig::default()
        };
        match config.destination() {
            SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), 7),
            other => panic!("expected IPv6, got {other}"),
        }
    }

    /// Without `--expect` nothing falls short; with it, too few hosts do, and the line
    /// says how many were expected and how many answered.
    #[test]
    fn expect_reports_a_shortfall_only_when_asked() {
        let mut report = SenderReport {
            destination: "224.3.29.71:10000".parse().unwrap(),
            local: "10.0.0.1:40000".parse().unwrap(),
            summary: AckSummary::new(),
            expected: None,
        };
        assert_eq!(report.shortfall(), None);
        report.expected = Some(1);
        assert_eq!(
            report.shortfall().map(|s| s.to_string()).as_deref(),
            Some("expected acknowledgements from at least 1 host(s), got 0")
        );
        report
            .summary
            .record("10.0.0.2:10000".parse().unwrap(), b"ack", 3);
        assert_eq!(report.shortfall(), None);
    }

    /// A link-local IPv6 group without an interface is refused by name before anything is
    /// printed or sent.
    #[test]
    fn link_local_group_without_interface_is_refused() {
        let config = SenderConfig {
            group: Group::parse("[ff02::329:71]:10000").unwrap(),
            ..SenderConfig::default()
        };
        let mut out = Vec::new();
        let error = send(&config, &mut out).unwrap_err().to_string();
        assert!(
            error.starts_with("ff02::329:71 is a link-local IPv6 group"),
            "{error}"
        );
        assert!(out.is_empty(), "nothing may be printed or sent");
    }
}
