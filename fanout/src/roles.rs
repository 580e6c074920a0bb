//! The two programs a run spawns, as functions: a receiver that counts, and an echo that
//! answers. The `fanout` binary runs them when called as `fanout receive ...` or
//! `fanout echo ...`, each in its own process inside the sandbox.
//!
//! Both talk to the process that spawned them through standard streams: the first line on
//! stdout is `ready <port>` once the socket is bound and joined (the barrier that replaces
//! the article's `sleep 5`); a receiver's last line is its [`ReceiverReport`] as JSON.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use socket2::Socket;

use crate::batch::Batch;
use crate::clock;
use crate::placement::pin_to_cpu;
use crate::sockets::{Endpoint, enable_drop_counts, kernel_drops, receiver_socket};
use crate::tracker::{SequenceTracker, Tally};
use crate::wire;

/// How a receiver or echo process is set up.
#[derive(Clone, Debug)]
pub struct RoleOptions {
    /// Group (joined on `lo`) or a unicast port on 127.0.0.1.
    pub endpoint: Endpoint,
    /// Receive buffer to ask for, in bytes (`None`: the kernel default).
    pub receive_buffer: Option<usize>,
    /// Datagrams per `recvmmsg(2)` call (1 means one per call).
    pub batch: usize,
    /// Largest datagram expected, in bytes.
    pub size: usize,
    /// CPU to pin this process to.
    pub cpu: Option<usize>,
    /// Wait for a line on stdin before reading the socket (lets the queue overflow on
    /// purpose), then drain the queue and say `drained` before waiting for the end marker.
    pub hold: bool,
    /// Poll without sleeping (`MSG_DONTWAIT` in a loop) instead of blocking.
    pub spin: bool,
    /// Drain the queue every this many microseconds instead of blocking (see [`receive`]).
    pub drain_every_us: Option<u64>,
}

/// What one receiver reports at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverReport {
    /// Loss, duplicate and reorder counts over the sender's sequence numbers.
    pub tally: Tally,
    /// Datagrams the kernel dropped because this receiver's queue was full, at the end of
    /// the run (`SO_MEMINFO`): messages and end markers alike, including markers that kept
    /// coming after the receiver stopped reading.
    pub kernel_drops: u64,
    /// The kernel's count of dropped *messages*: its drop counter as carried by the first
    /// end marker that arrived (`SO_RXQ_OVFL`), minus that marker's index (the markers
    /// before it were dropped). This is the number the loss accounting must match.
    pub message_drops: u64,
    /// The receive buffer the kernel granted (`SO_RCVBUF` as read back: twice what was asked).
    pub receive_buffer: usize,
    /// CPU time the receiver process used, in nanoseconds.
    pub cpu_ns: u64,
}

fn announce_ready(socket: &Socket) -> io::Result<()> {
    let port = socket.local_addr()?.as_socket().map_or(0, |a| a.port());
    let mut out = io::stdout().lock();
    writeln!(out, "ready {port}")?;
    out.flush()
}

fn prepare(options: &RoleOptions) -> io::Result<Socket> {
    if let Some(cpu) = options.cpu {
        pin_to_cpu(cpu)?;
    }
    let socket = receiver_socket(options.endpoint, options.receive_buffer)?;
    enable_drop_counts(&socket)?;
    announce_ready(&socket)?;
    Ok(socket)
}

/// For a held receiver: waits for the go-ahead on stdin, then empties the queue into
/// `tracker` and says `drained`, so the end markers that follow find room.
fn release(socket: &Socket, batch: &mut Batch, tracker: &mut SequenceTracker) -> io::Result<()> {
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    loop {
        let count = batch.receive(socket, libc::MSG_DONTWAIT)?;
        if count == 0 {
            break;
        }
        for index in 0..count {
            if let Some(seq) = wire::decode(batch.received(index)) {
                tracker.record(seq);
            }
        }
    }
    let mut out = io::stdout().lock();
    writeln!(out, "drained")?;
    out.flush()
}

/// The receiver role: counts sequence numbers until the end marker, then drains what is
/// still queued and prints its report.
///
/// By default it sleeps in `recvmmsg(2)` until a datagram arrives. Every such sleep costs a
/// wake-up, and a wake-up is paid by the *sender*, inside its `sendmmsg(2)`, once per
/// receiver whose queue was empty: with four receivers and a sender on two CPUs that is most
/// of the work. With `drain_every_us` the receiver instead empties its queue with
/// non-blocking calls and then sleeps on a timer, so nobody waits on the socket and the
/// sender wakes no one (interrupt coalescing, done by hand). The queue must hold what
/// arrives in one interval: at 200 µs and 200k msg/s that is 40 datagrams, far below what
/// an 8 MiB buffer holds.
pub fn receive(options: &RoleOptions) -> io::Result<ReceiverReport> {
    let socket = prepare(options)?;
    let mut batch = Batch::new(options.batch, options.size.max(wire::END_LENGTH));
    let mut tracker = SequenceTracker::new();
    if options.hold {
        release(&socket, &mut batch, &mut tracker)?;
    }
    let mut sent = None;
    let mut first_marker = None;
    let mut drops_at_first_marker = 0;
    let wait = if options.spin || options.drain_every_us.is_some() {
        libc::MSG_DONTWAIT
    } else {
        libc::MSG_WAITFORONE
    };
    loop {
        let flags = if sent.is_some() {
            libc::MSG_DONTWAIT
        } else {
            wait
        };
        let count = batch.receive(&socket, flags)?;
        if count == 0 && sent.is_some() {
            break;
        }
        if let (0, Some(micros)) = (count, options.drain_every_us) {
            // The queue is empty: come back on a timer rather than wait on the socket.
            std::thread::sleep(std::time::Duration::from_micros(micros));
            continue;
        }
        for index in 0..count {
            let datagram = batch.received(index);
            if let Some((total, marker)) = wire::decode_end(datagram) {
                sent = Some(total);
                if first_marker.is_none() {
                    first_marker = Some(marker);
                    drops_at_first_marker = batch.drops_before(index);
                }
            } else if let Some(seq) = wire::decode(datagram) {
                tracker.record(seq);
            }
        }
    }
    let report = ReceiverReport {
        tally: tracker.tally(sent.unwrap_or(0)),
        kernel_drops: kernel_drops(&socket)?,
        message_drops: drops_at_first_marker.saturating_sub(first_marker.unwrap_or(0)),
        receive_buffer: socket.recv_buffer_size()?,
        cpu_ns: clock::process_cpu_ns(),
    };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string(&report).map_err(io::Error::other)?
    )?;
    out.flush()?;
    Ok(report)
}

/// The echo role for ping-pong: sends every datagram straight back to its source, until
/// the end marker.
pub fn echo(options: &RoleOptions) -> io::Result<()> {
    let socket = std::net::UdpSocket::from(prepare(options)?);
    socket.set_nonblocking(options.spin)?;
    let mut buffer = vec![0u8; options.size.max(wire::END_LENGTH)];
    loop {
        let (length, source): (usize, SocketAddr) = match socket.recv_from(&mut buffer) {
            Ok(got) => got,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if wire::decode_end(&buffer[..length]).is_some() {
            return Ok(());
        }
        socket.send_to(&buffer[..length], source)?;
    }
}
