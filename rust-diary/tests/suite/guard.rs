//! The diary's drop guard, `NotifyServer`, with its real listener in a sandbox: written as a
//! bare statement it stops the listener before the client speaks; bound to a name it holds
//! until the end of the test. `Responder`, the fix, is its own guard.

use crate::common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{DEADLINE, Family};
use harness::Sandbox;
use rust_diary::diary::{self, CLIENT_MESSAGE, NotifyServer};
use rust_diary::{IPV4, ListenOptions, PORT, Responder, ask};

/// Whether the listener thread ends within the deadline (which only bounds failure).
fn ends_in_time(handle: JoinHandle<()>) -> bool {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(handle.join().is_ok());
    });
    rx.recv_timeout(DEADLINE).unwrap_or(false)
}

/// Sends the diary's client message from the diary's sender and reads one reply, waiting at
/// most the diary's 100 ms read timeout.
fn client_round_trip(addr: SocketAddr) -> std::io::Result<String> {
    let socket = diary::new_sender(&addr)?;
    socket.send_to(CLIENT_MESSAGE, addr)?;
    let mut buf = [0u8; 64];
    let (len, _) = socket.recv_from(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// The diary's text: `NotifyServer(..);` is dropped on its own line, so the stop flag is set
/// before the listener starts, the listener quits right after the barrier, and the client's
/// datagram (which does go out, on `lo`) gets no answer.
#[test]
fn unbound_guard_stops_the_listener_before_the_client_speaks() {
    let host = harness::or_skip!(Sandbox::new());
    let lo = host.capture("lo").expect("capture on lo");
    let addr = SocketAddr::new(*IPV4, PORT);

    let (flag_set_at_once, ended, reply) = host.run(|| {
        let client_done = Arc::new(AtomicBool::new(false));
        #[allow(clippy::no_effect)]
        NotifyServer(Arc::clone(&client_done));
        let flag_set_at_once = client_done.load(Ordering::Relaxed);
        let handle = diary::multicast_listener("ipv4", client_done, addr);
        let ended = ends_in_time(handle);
        (flag_set_at_once, ended, client_round_trip(addr))
    });

    assert!(flag_set_at_once, "the guard set the flag on its own line");
    assert!(
        ended,
        "the listener thread ended without anyone stopping it"
    );
    let err = reply.expect_err("nobody is left to answer");
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "{err}");
    let sent = lo
        .wait_for_udp(|u| u.payload == CLIENT_MESSAGE, DEADLINE)
        .expect("the client's datagram did go out");
    assert_eq!(sent.destination, addr);
}

/// The repository's fix: `let notify = NotifyServer(..)` keeps the flag clear through the
/// round trip, the listener answers, and only `drop(notify)` ends it.
#[test]
fn bound_guard_keeps_the_listener_until_it_is_dropped() {
    let host = harness::or_skip!(Sandbox::new());
    let addr = SocketAddr::new(*IPV4, PORT);

    host.run(|| {
        let client_done = Arc::new(AtomicBool::new(false));
        let notify = NotifyServer(Arc::clone(&client_done));
        let handle = diary::multicast_listener("ipv4", Arc::clone(&client_done), addr);

        let reply = client_round_trip(addr).expect("a reply");
        assert_eq!(reply, "ipv4");
        assert!(!client_done.load(Ordering::Relaxed));
        assert!(!handle.is_finished(), "the listener is still serving");

        drop(notify);
        assert!(client_done.load(Ordering::Relaxed));
        assert!(
            ends_in_time(handle),
            "the listener ended after the guard went"
        );
    });
}

/// The fixed listener cannot be stopped early by a forgotten binding: it is its own guard,
/// answering until the `Responder` itself is dropped (and `#[must_use]` warns about
/// `Responder::start(..);`). Shown for both families.
#[rstest::rstest]
#[case::ipv4(Family::V4)]
#[case::ipv6(Family::V6)]
fn responder_is_its_own_guard(#[case] family: Family) {
    let host = harness::or_skip!(Sandbox::new());
    host.run(|| {
        let options = ListenOptions::default().interface(family.interface());
        let responder = Responder::start(family.name(), &family.group(), &options).unwrap();
        let reply = ask(
            &family.group(),
            Some(&family.interface()),
            CLIENT_MESSAGE,
            DEADLINE,
        )
        .unwrap();
        assert_eq!(reply.text, family.name());
        let heard = responder.stop().expect("the responder stopped cleanly");
        assert_eq!(heard.len(), 1);
        // Stopped: nobody answers any more.
        let late = ask(
            &family.group(),
            Some(&family.interface()),
            CLIENT_MESSAGE,
            Duration::from_millis(200),
        );
        assert_eq!(
            late.expect_err("no responder").kind(),
            std::io::ErrorKind::TimedOut
        );
    });
}
