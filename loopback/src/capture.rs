//! A tiny packet capture: UDP frames crossing one interface, in both directions.
//!
//! The article's WARNING suggests `tcpdump -i eth0 port 6666` to see where the connected
//! send went. [`Capture`] does that from inside the program with an `AF_PACKET` socket
//! bound to one interface (`mcast-vocab`'s [`PacketSocket`], the harness's too): the kernel hands it a copy of every frame that interface sends
//! or receives, tagged with the direction. The frames are decoded by `mcast-vocab`'s one
//! frame parser ([`mcast_vocab::frame::udp`]).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use mcast_vocab::Interface;
use mcast_vocab::frame::{self, Direction};
use mcast_vocab::packet::PacketSocket;

/// A UDP datagram seen in a frame on the captured interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    /// The interface the capture is bound to.
    pub interface: Interface,
    /// Whether the frame was leaving or arriving.
    pub direction: Direction,
    /// Source address and port from the IP and UDP headers.
    pub source: SocketAddr,
    /// Destination address and port from the IP and UDP headers.
    pub destination: SocketAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The UDP payload (as much as was captured).
    pub payload: Vec<u8>,
}

impl Sighting {
    /// The payload as text (invalid UTF-8 is replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// An `AF_PACKET` socket bound to one interface; ready (bound) when [`Capture::on`] returns.
#[derive(Debug)]
pub struct Capture {
    socket: PacketSocket,
    interface: Interface,
}

impl AsFd for Capture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Capture {
    /// Opens `socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)` and binds it to `interface`, so it sees
    /// that interface's frames only. Needs `CAP_NET_RAW` (root in the namespace).
    pub fn on(interface: &Interface) -> io::Result<Capture> {
        let socket = PacketSocket::bind(interface.index)?;
        Ok(Capture {
            socket,
            interface: interface.clone(),
        })
    }

    /// The next UDP datagram seen, or `None` if none shows up before `deadline`.
    /// Frames that are not UDP over IP are skipped.
    pub fn next_udp_before(&self, deadline: Instant) -> io::Result<Option<Sighting>> {
        loop {
            while let Some(frame) = self.try_frame()? {
                if let Some(sighting) = frame {
                    return Ok(Some(sighting));
                }
            }
            if !crate::wait_readable(&[self.as_fd()], deadline)? {
                return Ok(None);
            }
        }
    }

    /// Reads one queued frame: `None` when the queue is empty, `Some(None)` for a frame that
    /// is not UDP, `Some(Some(_))` for a UDP datagram.
    fn try_frame(&self) -> io::Result<Option<Option<Sighting>>> {
        let mut buffer = [0u8; 2048];
        let Some(received) = self.socket.recv(&mut buffer)? else {
            return Ok(None);
        };
        let sighting = frame::udp(&buffer[..received.length])
            .ok()
            .map(|udp| Sighting {
                interface: self.interface.clone(),
                direction: received.direction,
                source: udp.source,
                destination: udp.destination,
                ttl: udp.ttl,
                payload: udp.payload,
            });
        Ok(Some(sighting))
    }
}
