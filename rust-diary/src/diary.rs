//! The diary's program, ported faithfully: the same steps, the same values, the same
//! mistakes, written against today's `socket2`. The diary's text gives the addresses, the
//! join, the drop guard and the listener; the receive loop, the sender (with its interface
//! index 5) and the client half of the test come from the diary's example repository
//! (bluejekyll/multicast-example), which the chapter names where it uses them.
//!
//! Read this module next to the article. Every function here keeps the diary's signature
//! and behaviour, including the parts that do not work on Linux; the fixed versions live
//! in [`crate::listener`], [`crate::sender`](mod@crate::sender) and [`crate::responder`], and the tests in
//! `tests/` show each difference on a real kernel. What goes wrong here, in the order a
//! reader meets it:
//!
//! 1. [`NotifyServer`] is a drop guard. The diary's text writes
//!    `NotifyServer(Arc::clone(&client_done));` as a statement, so the guard is dropped
//!    at the end of that very statement and the stop flag is set before the listener even
//!    starts. The author noticed and bound it to `notify` in the repository; we port the
//!    repository's version and keep the diary's as a test.
//! 2. [`join_multicast`] binds the socket to the group address. For `ff02::123` Linux
//!    refuses (`EINVAL`): a link-local address, multicast or not, names no interface
//!    until it carries a scope id, and the diary never gives one. macOS, where the diary
//!    was written, accepts it.
//! 3. [`multicast_listener`] joins inside its thread and `expect`s success. When the join
//!    fails the thread panics before reaching the [`Barrier`], and the caller waits on
//!    the other half of that barrier for ever: on Linux the diary's IPv6 test hangs
//!    instead of failing.
//! 4. [`new_sender`] picks the IPv6 outgoing interface by a number that was right on the
//!    author's laptop ([`AUTHORS_IPV6_INTERFACE`]). Anywhere else it names no interface
//!    (`ENODEV`) or, worse, the wrong one.
//! 5. The client's only deadline is the socket's 100 ms read timeout from [`new_socket`]:
//!    a reply that is merely late reads as no reply.
//! 6. Nothing joins the listener thread: [`test_multicast`] drops the handle, so the
//!    listener's last lines ("sent response to", "client is done") race the end of the
//!    test and are often never printed.
//! 7. The listener sets no `SO_REUSEADDR`: with any other socket on port 7645 its bind
//!    fails with `EADDRINUSE`, and (point 3) the caller hangs.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::addresses::PORT;

/// The IPv6 interface index the diary hard-codes for sending: 5, "specific to the
/// author's computer". On another machine index 5 is some other interface or none at all.
pub const AUTHORS_IPV6_INTERFACE: u32 = 5;

/// How long every diary socket blocks in a read before giving up: 100 ms.
pub const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// The message the diary's client sends to the group.
pub const CLIENT_MESSAGE: &[u8] = b"Hello from client!";

/// Makes a UDP socket of the family of `addr`, with a [`READ_TIMEOUT`] read timeout.
///
/// The timeout (`SO_RCVTIMEO`) is what lets the listener loop notice its stop flag: a
/// read returns `WouldBlock` after 100 ms instead of blocking for ever.
pub fn new_socket(addr: &SocketAddr) -> io::Result<Socket> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_read_timeout(Some(READ_TIMEOUT))?;
    Ok(socket)
}

// ANCHOR: join_multicast
/// Joins the group in `addr` and binds to the group address and port, as the diary
/// does on Unix.
///
/// - IPv4: `IP_ADD_MEMBERSHIP` with interface `0.0.0.0`, which lets the kernel pick
///   the interface from the route to the group.
/// - IPv6: `IPV6_ADD_MEMBERSHIP` with interface index 0 (the same "let the route
///   decide"), then `IPV6_V6ONLY`, so the socket never sees IPv4-mapped traffic.
///
/// Then `bind(group:port)`. For the IPv6 group `ff02::123` this fails on Linux with
/// `EINVAL`, because the address carries no scope id (interface). The fix is in
/// [`crate::listener::join`].
pub fn join_multicast(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = new_socket(&addr)?;
    match addr.ip() {
        IpAddr::V4(group) => {
            socket.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)?;
        }
        IpAddr::V6(group) => {
            socket.join_multicast_v6(&group, 0)?;
            socket.set_only_v6(true)?;
        }
    }
    socket.bind(&SockAddr::from(addr))?;
    Ok(socket.into())
}
// ANCHOR_END: join_multicast

/// Starts the diary's listener thread, named `"{response}:server"`, and returns once the
/// thread says it is ready.
///
/// The thread joins the group with [`join_multicast`], meets the caller at a two-party
/// [`Barrier`], then loops until `client_done` is set: each datagram it reads is answered
/// with `response`, sent from a fresh socket to the sender's address. Read errors
/// (timeouts, mostly) are printed and the loop goes on.
///
/// If the join fails the thread panics before the barrier, and this function never
/// returns (see the module docs, point 3). [`crate::responder::Responder`] is the fix.
pub fn multicast_listener(
    response: &'static str,
    client_done: Arc<AtomicBool>,
    addr: SocketAddr,
) -> JoinHandle<()> {
    let server_barrier = Arc::new(Barrier::new(2));
    let client_barrier = Arc::clone(&server_barrier);

    let join_handle = std::thread::Builder::new()
        .name(format!("{response}:server"))
        .spawn(move || {
            let listener = join_multicast(addr).expect("failed to create listener");
            println!("{response}:server: joined: {addr}");

            server_barrier.wait();
            println!("{response}:server: is ready");

            while !client_done.load(Ordering::Relaxed) {
                let mut buf = [0u8; 64];
                match listener.recv_from(&mut buf) {
                    Ok((len, remote_addr)) => {
                        let data = &buf[..len];
                        println!(
                            "{response}:server: got data: {} from: {remote_addr}",
                            String::from_utf8_lossy(data)
                        );
                        let responder: UdpSocket = new_socket(&remote_addr)
                            .expect("failed to create responder")
                            .into();
                        responder
                            .send_to(response.as_bytes(), remote_addr)
                            .expect("failed to respond");
                        println!("{response}:server: sent response to: {remote_addr}");
                    }
                    Err(err) => {
                        println!("{response}:server: got an error: {err}");
                    }
                }
            }

            println!("{response}:server: client is done");
        })
        .expect("failed to spawn the listener thread");

    client_barrier.wait();
    join_handle
}

/// Makes the diary's sending socket, bound to the wildcard address and an ephemeral port.
///
/// - IPv4: `IP_MULTICAST_IF` set to `0.0.0.0`, which means "follow the route", then
///   `bind(0.0.0.0:0)`.
/// - IPv6: `IPV6_MULTICAST_IF` set to [`AUTHORS_IPV6_INTERFACE`], then `bind([::]:0)`.
///   Where no interface has index 5 the kernel answers `ENODEV` ("No such device").
///   [`crate::sender::sender`] takes the interface as a resolved value instead.
pub fn new_sender(addr: &SocketAddr) -> io::Result<UdpSocket> {
    let socket = new_socket(addr)?;
    if addr.is_ipv4() {
        socket.set_multicast_if_v4(&Ipv4Addr::UNSPECIFIED)?;
        socket.bind(&SockAddr::from(SocketAddr::new(
            Ipv4Addr::UNSPECIFIED.into(),
            0,
        )))?;
    } else {
        socket.set_multicast_if_v6(AUTHORS_IPV6_INTERFACE)?;
        socket.bind(&SockAddr::from(SocketAddr::new(
            Ipv6Addr::UNSPECIFIED.into(),
            0,
        )))?;
    }
    Ok(socket.into())
}

// ANCHOR: notify_server
/// The diary's drop guard: when it goes out of scope it sets the flag that stops
/// the listener, so the listener stops even when the test panics halfway.
///
/// A guard only guards while it is alive. `NotifyServer(flag);` as a statement, or
/// `let _ = NotifyServer(flag);`, drops it on the spot; `let notify =
/// NotifyServer(flag);` keeps it until the end of the scope (or an explicit
/// `drop(notify)`).
pub struct NotifyServer(pub Arc<AtomicBool>);

impl Drop for NotifyServer {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
// ANCHOR_END: notify_server

/// The diary's test body, in the repository's final form: start a listener named `test`
/// on `addr`:[`PORT`], send [`CLIENT_MESSAGE`] with [`new_sender`], read one reply and
/// assert that it is `test`.
///
/// It panics on failure, like the `#[test]` it was written as. It must run where the
/// group is routable; in this workspace that means inside a harness sandbox.
pub fn test_multicast(test: &'static str, addr: IpAddr) {
    assert!(addr.is_multicast());
    let addr = SocketAddr::new(addr, PORT);

    let client_done = Arc::new(AtomicBool::new(false));
    let notify = NotifyServer(Arc::clone(&client_done));

    multicast_listener(test, client_done, addr);

    println!("{test}:client: running");

    let socket = new_sender(&addr).expect("could not create sender!");
    socket
        .send_to(CLIENT_MESSAGE, addr)
        .expect("could not send_to!");

    let mut buf = [0u8; 64];
    match socket.recv_from(&mut buf) {
        Ok((len, _remote_addr)) => {
            let response = String::from_utf8_lossy(&buf[..len]);
            println!("{test}:client: got data: {response}");
            assert_eq!(test, response);
        }
        Err(err) => {
            panic!("{test}:client: had a problem: {err}");
        }
    }

    drop(notify);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new socket blocks at most 100 ms in a read, which is what the listener loop and
    /// the client rely on.
    #[test]
    fn new_socket_reads_time_out_after_100_ms() {
        let socket = new_socket(&SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)).unwrap();
        assert_eq!(socket.read_timeout().unwrap(), Some(READ_TIMEOUT));
        let socket = new_socket(&SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0)).unwrap();
        assert_eq!(socket.domain().unwrap(), Domain::IPV6);
    }

    /// A guard written as a bare statement is dropped, and the flag set, on that line.
    #[test]
    fn a_guard_that_is_not_bound_sets_the_flag_at_once() {
        let flag = Arc::new(AtomicBool::new(false));
        #[allow(clippy::no_effect)]
        NotifyServer(Arc::clone(&flag));
        assert!(flag.load(Ordering::Relaxed));
    }

    /// `let _ =` is not a binding either: the guard is dropped immediately.
    #[test]
    fn a_guard_bound_to_underscore_sets_the_flag_at_once() {
        let flag = Arc::new(AtomicBool::new(false));
        let _ = NotifyServer(Arc::clone(&flag));
        assert!(flag.load(Ordering::Relaxed));
    }

    /// A guard bound to a name holds until it is dropped.
    #[test]
    fn a_bound_guard_holds_until_dropped() {
        let flag = Arc::new(AtomicBool::new(false));
        let notify = NotifyServer(Arc::clone(&flag));
        assert!(!flag.load(Ordering::Relaxed));
        drop(notify);
        assert!(flag.load(Ordering::Relaxed));
    }
}
