//! Captures: the frames that cross one interface of a host, seen from the link layer.
//!
//! A listener proves a datagram *arrived*; a capture proves it *left* (or did not leave)
//! through a particular interface, which is what the loopback article is about. It is an
//! `AF_PACKET` socket bound to one interface with `ETH_P_ALL`, like `tcpdump -i IFACE`. The
//! kernel hands a copy of each outgoing frame to packet sockets before the driver sends it,
//! so when `send` returns on a veth, an ifb or `lo`, its frame is already queued here.
//!
//! `lo` frames carry a fake Ethernet header of zeros, so the same parser reads both; on `lo`
//! each packet is seen twice, once outgoing and once incoming.

use std::io;
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcast_vocab::frame;
pub use mcast_vocab::frame::Direction;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::Context;
use crate::unmet::Unmet;

/// One captured frame, Ethernet header included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Which way it crossed.
    pub direction: Direction,
    /// The frame's bytes, from the destination MAC on.
    pub bytes: Vec<u8>,
    /// When the kernel received or sent it (`SIOCGSTAMP`).
    pub time: SystemTime,
}

/// A UDP datagram read out of a captured frame, and which way the frame crossed.
///
/// The datagram's fields (`source`, `destination`, `ttl`, `payload`, `truncated`) are
/// `mcast_vocab`'s [`frame::UdpFrame`], reached through `Deref`: `udp.payload`.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    socket: OwnedFd,
    interface: String,
    frames: Mutex<Vec<Frame>>,
}

impl Capture {
    /// Captures on interface `index` (called `interface`) of the calling thread's network
    /// namespace. [`crate::Host::capture`] is the usual way; this one serves a thread that
    /// entered a namespace by other means (`cargo lab capture`).
    pub fn open(interface: &str, index: u32) -> crate::Result<Capture> {
        let doing = || format!("capturing on {interface}");
        let protocol = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2) call; the fd is owned right after.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol.into(),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error()).doing(doing);
        }
        // SAFETY: fd is a fresh, valid descriptor.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_ll is plain old data; zero is a valid start.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol;
        address.sll_ifindex = index as i32;
        // SAFETY: address is a valid sockaddr_ll of the size we pass.
        let bound = unsafe {
            libc::bind(
                socket.as_raw_fd(),
                (&address as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound != 0 {
            return Err(io::Error::last_os_error()).doing(doing);
        }
        // A roomy queue, since frames wait in the kernel until the test reads them.
        let socket2 = socket2::SockRef::from(&socket);
        let _ = socket2.set_recv_buffer_size(8 << 20);
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
        loop {
            // SAFETY: sockaddr_ll is plain old data.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_length = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: buffer and address are valid for the lengths passed.
            let n = unsafe {
                libc::recvfrom(
                    self.socket.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    libc::MSG_DONTWAIT,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_length,
                )
            };
            if n < 0 {
                return;
            }
            frames.push(Frame {
                direction: Direction::from_packet_type(from.sll_pkttype),
                bytes: buffer[..n as usize].to_vec(),
                time: self.timestamp(),
            });
        }
    }

    /// The kernel's timestamp of the frame just read (`SIOCGSTAMP`), or now.
    fn timestamp(&self) -> SystemTime {
        const SIOCGSTAMP: libc::c_ulong = 0x8906;
        let mut time = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: SIOCGSTAMP writes one timeval.
        let done = unsafe { libc::ioctl(self.socket.as_raw_fd(), SIOCGSTAMP, &mut time) };
        if done != 0 {
            return SystemTime::now();
        }
        UNIX_EPOCH + Duration::new(time.tv_sec as u64, time.tv_usec as u32 * 1000)
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
