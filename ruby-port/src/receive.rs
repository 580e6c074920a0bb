//! `receive.rb`: join the group, then print every datagram that arrives.
//!
//! The Ruby script reads with `recvfrom(255)`, so a longer datagram is cut to
//! 255 bytes without a word. Here [`Receiver::recv`] reads with `mcast-vocab`'s
//! [`recv_with_arrival`]: one `recvmsg(2)` with the `MSG_TRUNC` flag, which
//! makes the kernel report a datagram's real length even when the buffer was
//! smaller, so a cut is always visible ([`Received::truncated`]). The same call
//! returns the `IP_PKTINFO` / `IPV6_PKTINFO` control message: the interface the
//! datagram arrived on and the address it was sent to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use mcast_vocab::{Interface, recv_with_arrival};
use nix::sys::socket::MsgFlags;
use socket2::Socket;

use crate::config::Config;
use crate::error::Error;
use crate::membership;
use mcast_vocab::sanitize::sanitize;

/// The largest UDP payload IPv4 can carry (65 535 minus 8 bytes of UDP header
/// and 20 of IP header); the default read size of a [`Receiver`].
const MAX_UDP_PAYLOAD: usize = 65_507;

/// One datagram, with the evidence of where it came from and how it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The bytes read (at most the reader's buffer size).
    pub payload: Vec<u8>,
    /// The datagram's full length as the kernel saw it; larger than
    /// `payload.len()` when the datagram was truncated.
    pub length: usize,
    /// The sender's address and port (`recvfrom`'s answer), with the scope id
    /// of an IPv6 link-local sender (`fe80::1%2`).
    pub source: SocketAddr,
    /// The address the datagram was sent to, normally the group.
    pub destination: Option<IpAddr>,
    /// The interface it arrived on; `None` if the kernel did not say or the
    /// interface is gone.
    pub interface: Option<Interface>,
}

impl Received {
    /// True when the datagram was longer than the buffer and its tail was lost.
    pub fn truncated(&self) -> bool {
        self.length > self.payload.len()
    }

    /// The payload as text that is safe to print on a terminal: invalid UTF-8
    /// becomes U+FFFD, control characters become visible (see [`sanitize`]).
    pub fn text(&self) -> String {
        sanitize(&String::from_utf8_lossy(&self.payload))
    }

    /// The line the `receive` program prints: the text alone like `receive.rb`,
    /// or with `verbose`, who sent it, to what, and on which interface.
    pub fn display(&self, verbose: bool) -> DatagramLine<'_> {
        DatagramLine {
            received: self,
            verbose,
        }
    }
}

/// A [`Received`] formatted as one line; see [`Received::display`].
pub struct DatagramLine<'a> {
    received: &'a Received,
    verbose: bool,
}

impl fmt::Display for DatagramLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.received;
        if self.verbose {
            let to = r
                .destination
                .map_or_else(|| "?".to_string(), |ip| ip.to_string());
            let on = r
                .interface
                .as_ref()
                .map_or_else(|| "?".to_string(), |i| i.to_string());
            write!(f, "from {} to {to} on {on}: ", r.source)?;
        }
        f.write_str(&r.text())?;
        if r.truncated() {
            write!(
                f,
                " [truncated: read {} of {} bytes]",
                r.payload.len(),
                r.length
            )?;
        }
        Ok(())
    }
}

/// A joined, bound socket: the receiving half of the article.
///
/// Ready when [`Receiver::join`] returns: the membership is in place and the
/// port is bound, so a datagram sent after that is queued for [`Receiver::recv`].
pub struct Receiver {
    socket: Socket,
    buffer_size: usize,
}

impl Receiver {
    /// Joins `config`'s group and binds its port on the wildcard address,
    /// sharing the port as its [`Reuse`](crate::Reuse) choice says.
    pub fn join(config: &Config) -> Result<Receiver, Error> {
        Ok(Receiver {
            socket: membership::member(config)?,
            buffer_size: MAX_UDP_PAYLOAD,
        })
    }

    /// Reads at most `bytes` per datagram from now on (the article's
    /// `receive.rb` reads 255, the chat 1024); longer ones arrive truncated.
    pub fn with_buffer_size(mut self, bytes: usize) -> Receiver {
        self.buffer_size = bytes;
        self
    }

    /// Gives up a [`Receiver::recv`] after `timeout` with `WouldBlock`/`TimedOut`;
    /// `None` waits forever (the default).
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<(), Error> {
        Error::step(
            || "setting a read timeout (SO_RCVTIMEO)".to_string(),
            self.socket.set_read_timeout(timeout),
        )
    }

    /// Waits for the next datagram. `EINTR` is returned as `Interrupted`, for
    /// the caller to retry. Each call allocates and zeroes a buffer of the
    /// reader's size (64 KiB unless told otherwise): a loop calls
    /// [`Receiver::recv_reusing`] instead.
    pub fn recv(&self) -> std::io::Result<Received> {
        self.recv_reusing(&mut Vec::new())
    }

    /// [`Receiver::recv`] reading into `scratch` (grown to the buffer size
    /// once, then reused), so a loop does not allocate and zero a full buffer
    /// per datagram; the payload is a copy of just the bytes that came.
    pub fn recv_reusing(&self, scratch: &mut Vec<u8>) -> std::io::Result<Received> {
        scratch.resize(self.buffer_size, 0);
        let arrival = recv_with_arrival(&self.socket, scratch, MsgFlags::empty())?;
        let payload = scratch[..arrival.length.min(self.buffer_size)].to_vec();
        Ok(Received {
            payload,
            length: arrival.length,
            // No address only when no datagram came (a socket shut down).
            source: arrival
                .source
                .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            destination: arrival.destination,
            interface: arrival.interface_index.and_then(Interface::with_index),
        })
    }

    /// Wakes a thread blocked in [`Receiver::recv`]: `shutdown(SHUT_RD)`
    /// makes a waiting `recvmsg` return 0 bytes at once, and every later one
    /// too. (For an unconnected UDP socket Linux reports `ENOTCONN` but
    /// shuts down and wakes all the same, so the result is not checked.)
    pub(crate) fn wake(&self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Read);
    }

    /// Sends `payload` to `config`'s group from this socket (the chat's
    /// one-socket design: the source port is then the group's port).
    pub(crate) fn send_to(&self, config: &Config, payload: &[u8]) -> Result<usize, Error> {
        let to = config.destination();
        Error::step_on(
            config.interface(),
            || format!("sending {} bytes to {to}", payload.len()),
            self.socket.send_to(payload, &to.into()),
        )
    }
}
