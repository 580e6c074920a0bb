//! `receive.rb`: join the group, then print every datagram that arrives.
//!
//! The Ruby script reads with `recvfrom(255)`, so a longer datagram is cut to
//! 255 bytes without a word. Here [`Receiver::recv`] uses `recvmsg(2)` with the
//! `MSG_TRUNC` flag, which makes the kernel report a datagram's real length
//! even when the buffer was smaller, so a cut is always visible
//! ([`Received::truncated`]). The same call returns the `IP_PKTINFO` /
//! `IPV6_PKTINFO` control message: the interface the datagram arrived on and
//! the address it was sent to.

use std::fmt;
use std::io::IoSliceMut;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::Socket;

use crate::error::Error;
use crate::group::{Config, Interface};
use crate::membership;
use crate::sanitize::sanitize;

/// The largest UDP payload IPv4 can carry (65 535 minus 8 bytes of UDP header
/// and 20 of IP header); the default read size of a [`Receiver`].
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// One datagram, with the evidence of where it came from and how it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The bytes read (at most the reader's buffer size).
    pub payload: Vec<u8>,
    /// The datagram's full length as the kernel saw it; larger than
    /// `payload.len()` when the datagram was truncated.
    pub length: usize,
    /// The sender's address and port (`recvfrom`'s answer).
    pub source: SocketAddr,
    /// The address the datagram was sent to, normally the group.
    pub destination: Option<IpAddr>,
    /// The interface it arrived on.
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
    /// sharing the port as `config.reuse()` says.
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

    /// The bound port (useful when the config's port was 0).
    pub fn port(&self) -> u16 {
        self.socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port())
    }

    /// Waits for the next datagram.
    pub fn recv(&self) -> std::io::Result<Received> {
        recv_datagram(&self.socket, self.buffer_size)
    }

    /// Sends `payload` to `config`'s group from this socket (the chat's
    /// one-socket design: the source port is then the group's port).
    pub(crate) fn send_to(&self, config: &Config, payload: &[u8]) -> Result<usize, Error> {
        let to = config.destination();
        Error::step(
            || format!("sending {} bytes to {to}", payload.len()),
            self.socket.send_to(payload, &to.into()),
        )
    }
}

/// Joins `config`'s group, waits for `count` datagrams and returns them.
///
/// Convenient in a thread or a tour; when the sender runs in the same program,
/// use [`Receiver::join`] first so nothing is sent before the membership exists.
pub fn receive(config: &Config, count: usize) -> Result<Vec<Received>, Error> {
    let receiver = Receiver::join(config)?;
    (0..count)
        .map(|_| Error::step(|| "receiving".to_string(), receiver.recv()))
        .collect()
}

/// `recvmsg(2)` with `MSG_TRUNC` (real length even if cut) and the packet-info
/// control message.
pub(crate) fn recv_datagram(socket: &Socket, buffer_size: usize) -> std::io::Result<Received> {
    let mut payload = vec![0u8; buffer_size];
    let mut control = nix::cmsg_space!(libc::in6_pktinfo, libc::in_pktinfo);
    let (length, source, destination, index) = {
        let mut iov = [IoSliceMut::new(&mut payload)];
        let message = nix::sys::socket::recvmsg::<SockaddrStorage>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::MSG_TRUNC,
        )?;
        let source = message
            .address
            .as_ref()
            .and_then(socket_addr)
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        let mut destination = None;
        let mut index = None;
        if let Ok(cmsgs) = message.cmsgs() {
            for cmsg in cmsgs {
                match cmsg {
                    ControlMessageOwned::Ipv4PacketInfo(info) => {
                        destination = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                            info.ipi_addr.s_addr,
                        ))));
                        index = Some(info.ipi_ifindex as u32);
                    }
                    ControlMessageOwned::Ipv6PacketInfo(info) => {
                        destination = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                        index = Some(info.ipi6_ifindex);
                    }
                    _ => {}
                }
            }
        }
        (message.bytes, source, destination, index)
    };
    payload.truncate(length.min(buffer_size));
    Ok(Received {
        payload,
        length,
        source,
        destination,
        interface: index.and_then(Interface::with_index),
    })
}

fn socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::from((v4.ip(), v4.port())));
    }
    storage.as_sockaddr_in6().map(|v6| {
        SocketAddr::V6(std::net::SocketAddrV6::new(
            v6.ip(),
            v6.port(),
            v6.flowinfo(),
            v6.scope_id(),
        ))
    })
}
