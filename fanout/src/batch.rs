//! Batched system calls: many datagrams per `sendmmsg(2)` / `recvmmsg(2)`.
//!
//! One system call per datagram costs about as much as the datagram itself on loopback, so
//! the tool hands the kernel batches. The buffers and headers are allocated once and reused.

use std::io;
use std::os::fd::AsRawFd;

use socket2::Socket;

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
    /// does while the counter is zero). Needs [`crate::sockets::enable_drop_counts`] on the socket.
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
