//! The sockets of the fan-out tool and the batched system calls that drive them.
//!
//! Everything here is plain IPv4 over `lo`, with the lesson of the article applied: the
//! multicast sender sets `IP_MULTICAST_IF` to 127.0.0.1 before connect(2), so its connected
//! socket cannot wander off to the default interface.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

/// `SO_MEMINFO` (not in every libc release): the socket's memory counters, drops included.
const SO_MEMINFO: libc::c_int = 55;
/// Index of the drop counter in the `SO_MEMINFO` array (`SK_MEMINFO_DROPS`).
const SK_MEMINFO_DROPS: usize = 8;
/// Length of the `SO_MEMINFO` array (`SK_MEMINFO_VARS`).
const SK_MEMINFO_VARS: usize = 9;

/// Where a receiver listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Bound to the group and port, joined on `lo` (interface index 1).
    Group(SocketAddrV4),
    /// Bound to 127.0.0.1 on a port of the kernel's choosing.
    Unicast,
}

/// A receiving socket: bound, joined if multicast, with the receive buffer asked for.
///
/// - `SO_REUSEADDR`: many receivers on one group and port.
/// - `SO_RCVBUFFORCE`, falling back to `SO_RCVBUF`: the queue where datagrams wait for the
///   reader. When it is full the kernel drops the datagram and counts it; that is where
///   loopback loses messages.
/// - `IP_ADD_MEMBERSHIP` on `lo`'s index for a group.
pub fn receiver_socket(endpoint: Endpoint, receive_buffer: Option<usize>) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    if let Some(bytes) = receive_buffer {
        set_receive_buffer(&socket, bytes)?;
    }
    match endpoint {
        Endpoint::Group(group) => {
            socket.bind(&SocketAddr::V4(group).into())?;
            socket.join_multicast_v4_n(group.ip(), &InterfaceIndexOrAddress::Index(1))?;
        }
        Endpoint::Unicast => {
            socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
        }
    }
    Ok(socket)
}

/// Sets the receive buffer, forcing past `net.core.rmem_max` when allowed (root).
pub fn set_receive_buffer(socket: &Socket, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt with a pointer to a c_int and its size.
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
    if forced == 0 {
        Ok(())
    } else {
        socket.set_recv_buffer_size(bytes)
    }
}

/// How many datagrams the kernel dropped because this socket's queue was full
/// (`SK_MEMINFO_DROPS` from `SO_MEMINFO`, the same counter `SO_RXQ_OVFL` reports).
pub fn kernel_drops(socket: &Socket) -> io::Result<u64> {
    let mut values = [0u32; SK_MEMINFO_VARS];
    let mut length = std::mem::size_of_val(&values) as libc::socklen_t;
    // SAFETY: getsockopt into an array of the size we pass.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            values.as_mut_ptr().cast(),
            &mut length,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::from(values[SK_MEMINFO_DROPS]))
}

/// `SO_RXQ_OVFL`: every received datagram carries the socket's drop counter as it was when
/// the datagram was queued, so drops can be pinned to a point in the stream.
pub fn enable_drop_counts(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt with a pointer to a c_int and its size.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RXQ_OVFL,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A sending socket connected to `destination`.
///
/// For a group, with `multicast_loop` on (the default everywhere), it first sets
/// `IP_MULTICAST_IF` to 127.0.0.1, the fix from the article's experiment, so the connected
/// socket stays on `lo`; `IP_MULTICAST_LOOP` then hands each datagram to local members.
///
/// With `multicast_loop` off it sets `IP_MULTICAST_IF` to `lo` by index (an `ip_mreqn`,
/// so the source address stays the route's, 10.0.0.1 in a sandbox) and turns
/// `IP_MULTICAST_LOOP` off. Local members still get every datagram: the copy that `lo`
/// transmits comes straight back in as `lo`'s input. With a 127.0.0.1 source that input copy
/// is dropped as a martian (a loopback source needs `route_localnet`), which is why the
/// looped mode pins by address and this one by index.
pub fn sender_socket(destination: SocketAddrV4, multicast_loop: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
    if destination.ip().is_multicast() {
        if multicast_loop {
            socket.set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?;
        } else {
            set_multicast_if_index(&socket, 1)?;
        }
        socket.set_multicast_loop_v4(multicast_loop)?;
    }
    socket.connect(&SocketAddr::V4(destination).into())?;
    Ok(socket)
}

/// `IP_MULTICAST_IF` with an `ip_mreqn` naming only an interface index.
fn set_multicast_if_index(socket: &Socket, index: u32) -> io::Result<()> {
    let request = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: index as libc::c_int,
    };
    // SAFETY: setsockopt with a pointer to an ip_mreqn and its size.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&raw const request).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as u32,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Pins the calling thread to one CPU (`sched_setaffinity(2)`).
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).map_err(io::Error::from)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(io::Error::from)
}

/// How many CPUs this process may run on.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A batch of equal-sized messages and the headers `sendmmsg(2)`/`recvmmsg(2)` need,
/// allocated once and reused for every call.
pub struct Batch {
    size: usize,
    buffers: Vec<u8>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
    /// One control buffer per message, for the `SO_RXQ_OVFL` drop count.
    controls: Vec<[u64; CONTROL_WORDS]>,
}

/// Room for one `SO_RXQ_OVFL` control message (a `cmsghdr` and a `u32`), 8-byte aligned.
const CONTROL_WORDS: usize = 4;

// SAFETY: the raw pointers inside point into `buffers`, owned by the same value.
unsafe impl Send for Batch {}

impl Batch {
    /// `count` messages of `size` bytes each (`count` at least 1).
    pub fn new(count: usize, size: usize) -> Batch {
        let count = count.max(1);
        let mut buffers = vec![0u8; count * size];
        let mut iovecs: Vec<libc::iovec> = buffers
            .chunks_mut(size)
            .map(|chunk| libc::iovec {
                iov_base: chunk.as_mut_ptr().cast(),
                iov_len: size,
            })
            .collect();
        let headers = iovecs
            .iter_mut()
            .map(|iovec| {
                // SAFETY: mmsghdr is plain data; all-zero is valid (no name, no control).
                let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
                header.msg_hdr.msg_iov = iovec;
                header.msg_hdr.msg_iovlen = 1;
                header
            })
            .collect();
        Batch {
            controls: vec![[0; CONTROL_WORDS]; count],
            size,
            buffers,
            iovecs,
            headers,
        }
    }

    /// How many messages the batch holds.
    pub fn capacity(&self) -> usize {
        self.headers.len()
    }

    /// The `index`-th message's bytes.
    pub fn message_mut(&mut self, index: usize) -> &mut [u8] {
        &mut self.buffers[index * self.size..(index + 1) * self.size]
    }

    /// The `index`-th received message, cut to the length the kernel reported.
    pub fn received(&self, index: usize) -> &[u8] {
        let length = (self.headers[index].msg_len as usize).min(self.size);
        &self.buffers[index * self.size..index * self.size + length]
    }

    /// The kernel's drop counter for the socket when the `index`-th received message was
    /// queued, from its `SO_RXQ_OVFL` control message (0 when the kernel sent none, which it
    /// does while the counter is zero). Needs [`enable_drop_counts`] on the socket.
    pub fn drops_before(&self, index: usize) -> u64 {
        let header = &self.headers[index].msg_hdr;
        // SAFETY: the kernel filled the control buffer and set msg_controllen; the CMSG
        // macros walk it within that length.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(header);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SO_RXQ_OVFL
                {
                    return u64::from(std::ptr::read_unaligned(
                        libc::CMSG_DATA(cmsg).cast::<u32>(),
                    ));
                }
                cmsg = libc::CMSG_NXTHDR(header, cmsg);
            }
        }
        0
    }

    /// Sends the first `count` messages on a connected socket with `sendmmsg(2)`, retrying
    /// until all went out. With `count` 1 this is one datagram per system call, like send(2).
    pub fn send(&mut self, socket: &Socket, count: usize) -> io::Result<()> {
        let mut done = 0;
        while done < count {
            for (header, iovec) in self.headers[done..count]
                .iter_mut()
                .zip(&mut self.iovecs[done..count])
            {
                header.msg_hdr.msg_iov = iovec;
            }
            // SAFETY: the headers point at iovecs and buffers that live as long as `self`.
            let sent = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.headers[done..].as_mut_ptr(),
                    (count - done) as u32,
                    0,
                )
            };
            if sent < 0 {
                let error = io::Error::last_os_error();
                match error.raw_os_error() {
                    // A full device queue or a momentary lack of buffer: try again.
                    Some(libc::ENOBUFS | libc::EAGAIN | libc::EINTR) => continue,
                    _ => return Err(error),
                }
            }
            done += sent as usize;
        }
        Ok(())
    }

    /// Receives up to a batch with `recvmmsg(2)`; `flags` is 0 (wait for at least one) or
    /// `MSG_DONTWAIT`. Returns how many arrived (0 when nothing was queued).
    pub fn receive(&mut self, socket: &Socket, flags: libc::c_int) -> io::Result<usize> {
        let parts = self
            .headers
            .iter_mut()
            .zip(&mut self.iovecs)
            .zip(&mut self.controls);
        for ((header, iovec), control) in parts {
            header.msg_hdr.msg_iov = iovec;
            header.msg_hdr.msg_control = control.as_mut_ptr().cast();
            header.msg_hdr.msg_controllen = std::mem::size_of_val(control) as _;
            header.msg_len = 0;
        }
        // SAFETY: as in `send`, plus control buffers of the stated length; no timeout.
        let received = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                self.headers.len() as u32,
                flags,
                std::ptr::null_mut(),
            )
        };
        if received >= 0 {
            return Ok(received as usize);
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(error),
        }
    }
}
