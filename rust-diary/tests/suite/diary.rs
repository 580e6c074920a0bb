//! The diary's program as written, run in a sandbox: its IPv4 test passes, its IPv6 test
//! cannot get going on Linux, and here is exactly why.

use crate::common;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::{DEADLINE, Family};
use harness::Sandbox;
use rust_diary::diary::{self, AUTHORS_IPV6_INTERFACE, CLIENT_MESSAGE};
use rust_diary::{IPV4, IPV6, PORT};

/// Runs the diary's test body on a thread of its own and fails if it has not finished
/// within the deadline: the diary's listener hangs its caller when it cannot start, and a
/// hanging test would tell the reader nothing. Call inside `host.run`, so the thread
/// inherits the sandbox.
fn finishes_in_time(body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let _ = done_tx.send(outcome);
    });
    match done_rx.recv_timeout(DEADLINE) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the diary's test did not finish within {DEADLINE:?}"),
    }
}

/// The diary's IPv4 test passes unchanged: the client's datagram leaves over `lo` to the
/// group with TTL 1, and the listener answers `ipv4`. (The witness is a capture, not a
/// listener: the diary's listener binds without `SO_REUSEADDR` and shares its port with
/// nobody, see the next test.)
#[test]
fn diary_ipv4_test_passes_as_written() {
    let host = harness::or_skip!(Sandbox::new());
    let lo = host.capture("lo").expect("capture on lo");

    host.run(|| finishes_in_time(|| diary::test_multicast("ipv4", *IPV4)));

    let sent = lo
        .wait_for_udp(|u| u.payload == CLIENT_MESSAGE, DEADLINE)
        .unwrap();
    assert_eq!(sent.destination, SocketAddr::new(*IPV4, PORT));
    assert_eq!(sent.source.ip(), host.ipv4());
    assert_eq!(sent.ttl, 1);
    let reply = lo.wait_for_udp(|u| u.payload == b"ipv4", DEADLINE).unwrap();
    assert_eq!(
        reply.destination, sent.source,
        "the answer goes back to the client"
    );
}

/// The diary's listener sets no `SO_REUSEADDR`, so a second listener on port 7645 (here the
/// harness's, which does set it) makes its bind fail with `EADDRINUSE`.
#[test]
fn diary_listener_cannot_share_its_port() {
    let host = harness::or_skip!(Sandbox::new());
    let _other = host
        .listen(Family::V4.group())
        .expect("another listener on 7645");
    let result = host.run(|| diary::join_multicast(SocketAddr::new(*IPV4, PORT)));
    let err = result.expect_err("binding a port another socket holds");
    assert_eq!(err.raw_os_error(), Some(libc::EADDRINUSE), "{err}");
}

/// On Linux the diary's IPv6 listener fails at `bind([ff02::123]:7645)` with `EINVAL`: a
/// link-local address names no interface until it has a scope id, and the diary gives none.
#[test]
fn diary_ipv6_listener_cannot_bind_a_link_local_group_without_a_scope() {
    let host = harness::or_skip!(Sandbox::new());
    let result = host.run(|| diary::join_multicast(SocketAddr::new(*IPV6, PORT)));
    let err = result.expect_err("binding ff02::123 without a scope id");
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
}

/// The join runs inside the listener thread and panics there; the caller keeps waiting at
/// the barrier for a partner that is gone, so the diary's IPv6 test hangs instead of failing.
#[test]
fn diary_listener_waits_for_ever_when_its_join_fails() {
    let host = harness::or_skip!(Sandbox::new());
    let client_done = Arc::new(AtomicBool::new(false));
    let (returned_tx, returned_rx) = mpsc::channel();

    host.run(|| {
        let flag = Arc::clone(&client_done);
        // The caller, on a thread of its own (it inherits the sandbox), so the test can watch it.
        std::thread::spawn(move || {
            let handle = diary::multicast_listener("ipv6", flag, SocketAddr::new(*IPV6, PORT));
            let _ = returned_tx.send(handle);
        });
    });

    // The server thread owns the other clone of the flag; it drops it when it dies. Poll
    // for that with a deadline: this is the test's evidence, not a readiness wait.
    let until = Instant::now() + DEADLINE;
    while Arc::strong_count(&client_done) > 1 {
        assert!(
            Instant::now() < until,
            "the ipv6:server thread is still alive"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The server is gone and can never reach the barrier, so the caller cannot have returned.
    assert!(
        matches!(returned_rx.try_recv(), Err(mpsc::TryRecvError::Empty)),
        "multicast_listener returned although its join failed"
    );
}

/// The diary's IPv6 sender names interface 5, its author's Wi-Fi. The sandbox has no
/// interface 5, and the kernel says so: `ENODEV`, "No such device".
#[test]
fn diary_ipv6_sender_names_an_interface_this_host_lacks() {
    let host = harness::or_skip!(Sandbox::new());
    let eth0 = host.interface_index("eth0").unwrap();
    assert_ne!(
        eth0, AUTHORS_IPV6_INTERFACE,
        "precondition: eth0 is not index 5 here"
    );
    let (name_of_5, result) = host.run(|| {
        (
            mcast_vocab::Interface::with_index(AUTHORS_IPV6_INTERFACE).is_some(),
            diary::new_sender(&SocketAddr::new(*IPV6, PORT)),
        )
    });
    assert!(
        !name_of_5,
        "precondition: no interface has index 5 in the sandbox"
    );
    let err = result.expect_err("IPV6_MULTICAST_IF 5 on a host without interface 5");
    assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
}

/// For IPv4 the diary's sender follows the route (`IP_MULTICAST_IF` 0.0.0.0), which works
/// anywhere a route to the group exists: here it leaves by `lo` with the route's source.
#[test]
fn diary_ipv4_sender_follows_the_route() {
    let host = harness::or_skip!(Sandbox::new());
    let witness = host.listen(Family::V4.group()).expect("witness listener");
    host.run(|| {
        let socket = diary::new_sender(&SocketAddr::new(*IPV4, PORT)).unwrap();
        socket
            .send_to(CLIENT_MESSAGE, SocketAddr::new(*IPV4, PORT))
            .unwrap();
    });
    let seen = witness.expect(1).within(DEADLINE).unwrap();
    assert_eq!(seen[0].interface.name, "lo");
    assert_eq!(seen[0].ttl, Some(1), "multicast TTL defaults to 1");
}
