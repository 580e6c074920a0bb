//! Captures: the frames that cross one interface of a host, seen from the link layer.
//!
//! A listener proves a datagram *arrived*; a capture proves it *left* (or did not leave)
//! through a particular interface, which is what the loopback article is about. It is an
//! `AF_PACKET` socket bound to one interface with `ETH_P_ALL`, like `tcpdump -i IFACE`
//! ([`mcast_vocab::packet::PacketSocket`], which the loopback port's capture shares). The
//! kernel hands a copy of each outgoing frame to packet sockets before the driver sends it,
//! so when `send` returns on a veth, an ifb or `lo`, its frame is already queued here.
//!
//! `lo` frames carry a fake Ethernet header of zeros, so the same parser reads both; on `lo`
//! each packet is seen twice, once outgoing and once incoming.

use std::io;
use std::ops::Deref;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use mcast_vocab::frame;
pub use mcast_vocab::frame::Direction;
use mcast_vocab::packet::PacketSocket;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::Context;
use crate::unmet::Unmet;

/// One captured frame, Ethernet header included.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame {
    /// Which way it crossed.
    pub direction: Direction,
    /// The frame's bytes, from the destination MAC on.
    pub bytes: Vec<u8>,
    /// When it crossed, filled by the kernel (`SO_TIMESTAMPNS`); the time it was read if
    /// the kernel sent no stamp.
    pub time: SystemTime,
}

/// A UDP datagram read out of a captured frame, and which way the frame crossed.
///
/// The datagram's fields (`source`, `destination`, `ttl`, `payload`, `truncated`) are
/// `mcast_vocab`'s [`frame::UdpFrame`], reached through `Deref`: `udp.payload`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UdpFrame {
    /// Which way the frame crossed the interface.
    pub direction: Direction,
    /// What the frame carried, as `mcast_vocab::frame::udp` decoded it.
    pub datagram: frame::UdpFrame,
}

impl Deref for UdpFrame {
    type Target = frame::UdpFrame;

    fn deref(&self) -> &frame::UdpFrame {
        &self.datagram
    }
}

impl Frame {
    /// The UDP datagram inside, if this is an IPv4 or IPv6 frame carrying one directly
    /// (`mcast_vocab::frame::udp` says why any other frame is not).
    pub fn udp(&self) -> Option<UdpFrame> {
        let datagram = frame::udp(&self.bytes).ok()?;
        Some(UdpFrame {
            direction: self.direction,
            datagram,
        })
    }
}

/// Frames crossing one interface; see the module docs.
pub struct Capture {
    socket: PacketSocket,
    interface: String,
    frames: Mutex<Vec<Frame>>,
}

impl Capture {
    /// Captures on interface `index` (called `interface`) of the calling thread's network
    /// namespace. [`crate::Host::capture`] is the usual way; this one serves a thread that
    /// entered a namespace by other means (`cargo lab capture`).
    pub fn open(interface: &str, index: u32) -> crate::Result<Capture> {
        let doing = || format!("capturing on {interface}");
        let socket = PacketSocket::bind(index).doing(doing)?;
        // A roomy queue, since frames wait in the kernel until the test reads them.
        let _ = socket.socket().set_recv_buffer_size(8 << 20);
        Ok(Capture {
            socket,
            interface: interface.to_owned(),
            frames: Mutex::new(Vec::new()),
        })
    }

    /// Every frame captured so far, in order.
    pub fn frames(&self) -> Vec<Frame> {
        self.drain();
        self.lock().clone()
    }

    /// Writes every frame captured so far to `path` as a pcap file (tcpdump, tshark and
    /// Wireshark read it); returns how many frames it holds.
    pub fn write_pcap(&self, path: impl AsRef<std::path::Path>) -> io::Result<usize> {
        let frames = self.frames();
        let file = std::fs::File::create(path)?;
        let mut pcap = crate::pcap::PcapWriter::new(io::BufWriter::new(file))?;
        for frame in &frames {
            pcap.write(frame.time, &frame.bytes)?;
        }
        pcap.flush()?;
        Ok(frames.len())
    }

    /// Asks for a receive buffer of `bytes`: `SO_RCVBUFFORCE` (as root in the namespace's
    /// user namespace), else `SO_RCVBUF`, which `net.core.rmem_max` caps.
    pub(crate) fn enlarge_buffer(&self, bytes: usize) {
        use nix::sys::socket::{setsockopt, sockopt};
        if setsockopt(&self.socket, sockopt::RcvBufForce, &bytes).is_err() {
            let _ = setsockopt(&self.socket, sockopt::RcvBuf, &bytes);
        }
    }

    /// Frames captured since the last call, removed from the capture (for streaming them).
    pub fn take_frames(&self) -> Vec<Frame> {
        self.drain();
        std::mem::take(&mut *self.lock())
    }

    /// The packet socket, for waiting on it (`poll`) while streaming.
    pub fn socket(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// The UDP datagrams among the frames captured so far.
    pub fn udp(&self) -> Vec<UdpFrame> {
        self.frames().iter().filter_map(Frame::udp).collect()
    }

    /// Waits until a UDP frame matching `wanted` has crossed, at most `within`.
    pub fn wait_for_udp(
        &self,
        wanted: impl Fn(&UdpFrame) -> bool,
        within: Duration,
    ) -> Result<UdpFrame, Unmet> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self.udp().into_iter().find(|u| wanted(u)) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let seen = self.udp().iter().map(describe).collect();
                return Err(Unmet::new(
                    format!(
                        "capture on {}: no matching UDP frame within {within:?}",
                        self.interface
                    ),
                    seen,
                    String::new(),
                ));
            }
            let millis = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(millis));
        }
    }

    /// Moves every frame waiting in the kernel into `frames`, without blocking.
    fn drain(&self) {
        let mut frames = self.lock();
        let mut buffer = vec![0u8; 65_536 + 64];
        while let Ok(Some(received)) = self.socket.recv(&mut buffer) {
            frames.push(Frame {
                direction: received.direction,
                bytes: buffer[..received.length].to_vec(),
                time: received.time.unwrap_or_else(SystemTime::now),
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Frame>> {
        self.frames.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn describe(u: &UdpFrame) -> String {
    format!(
        "{:?} {} -> {} ttl {}: {:?}",
        u.direction,
        u.source,
        u.destination,
        u.ttl,
        String::from_utf8_lossy(&u.payload)
    )
}
