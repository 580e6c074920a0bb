//! Tokio code under test: sockets made inside a host and driven by a multi-threaded runtime
//! that never enters a namespace ([`Host::udp_socket`], [`Host::socket`]), and whole futures
//! run on a thread that lives in a host ([`Host::block_on`], with the `tokio` feature).
//!
//! The `block_on` tests need the harness's `tokio` feature, which its own tests always have
//! (the harness is its own dev-dependency with the feature, see `Cargo.toml`): `cargo test
//! -p harness` and `cargo test --workspace` both run them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use harness::{Group, Host, Lan};

const DEADLINE: Duration = Duration::from_secs(5);
const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);
const PORT: u16 = 5000;

fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Panics unless `socket` lives in `host`. Every test checks this before it joins or sends,
/// so a harness that made sockets in the wrong place fails here instead of sending multicast
/// from the machine's own namespace.
fn assert_in(host: &Host, socket: impl std::os::fd::AsFd) {
    match host.owns(socket) {
        Ok(true) => {}
        other => panic!("socket is not in host {}: {other:?}", host.name()),
    }
}

/// A receiver socket made in `host`, joined to [`GROUP`] on its default interface.
fn joined_receiver(host: &Host) -> std::net::UdpSocket {
    let socket = host
        .udp_socket(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)))
        .expect("receiver socket");
    assert_in(host, &socket);
    socket
        .join_multicast_v4(&GROUP, &Ipv4Addr::UNSPECIFIED)
        .expect("join");
    socket
}

/// The kernel says the socket is in the host's namespace, and it behaves so: it can bind the
/// host's own address, which a socket made in another namespace cannot (EADDRNOTAVAIL).
#[test]
fn udp_socket_is_made_inside_the_host() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let b = lan.host("b");
    let unbound = b
        .udp_socket(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
        .unwrap();
    assert!(b.owns(&unbound).unwrap(), "made in b");
    assert!(!lan.host("a").owns(&unbound).unwrap(), "not in a");
    let socket = b
        .udp_socket(SocketAddr::new(b.ipv4().into(), 0))
        .expect("binding b's own address from a socket made in b");
    assert_eq!(socket.local_addr().unwrap().ip(), IpAddr::V4(b.ipv4()));
    // b's address is not a's: the same bind from a socket made in a is refused.
    let refused = lan
        .host("a")
        .udp_socket(SocketAddr::new(b.ipv4().into(), 0))
        .expect_err("a does not own b's address");
    assert_eq!(refused.raw_os_error(), Some(libc::EADDRNOTAVAIL));
    // Ready for a reactor: reading with nothing there says WouldBlock instead of waiting.
    let mut buffer = [0u8; 16];
    let empty = socket.recv_from(&mut buffer).expect_err("nothing to read");
    assert_eq!(empty.kind(), std::io::ErrorKind::WouldBlock);
}

/// The workers of a multi-threaded runtime stay in the test's namespace, yet a tokio sender
/// on a socket made in `a` and a tokio receiver on a socket made in `b` talk across the LAN:
/// `b` hears `a`'s datagram from `a`'s address, and a harness listener on `c` sees it arrive
/// on `eth0` with TTL 1, as it left `a`.
#[test]
fn tokio_receiver_in_b_hears_tokio_sender_in_a_across_the_lan() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let group = Group::new(GROUP.into(), PORT).unwrap();
    let on_c = lan.host("c").listen(group).unwrap();
    let receiver = joined_receiver(lan.host("b"));
    let sender = lan
        .host("a")
        .udp_socket(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
        .unwrap();
    assert_in(lan.host("a"), &sender);
    let sender_port = sender.local_addr().unwrap().port();

    let (text, from) = multi_thread_runtime().block_on(async {
        let receiver = tokio::net::UdpSocket::from_std(receiver).unwrap();
        let sender = tokio::net::UdpSocket::from_std(sender).unwrap();
        // Receive on another worker than the one that sends.
        let receiving = tokio::spawn(async move {
            let mut buffer = [0u8; 1500];
            let (n, from) = tokio::time::timeout(DEADLINE, receiver.recv_from(&mut buffer))
                .await
                .expect("b received within the deadline")
                .unwrap();
            (String::from_utf8_lossy(&buffer[..n]).into_owned(), from)
        });
        sender.set_multicast_ttl_v4(1).unwrap();
        sender
            .send_to(b"from tokio in a", group.socket_addr())
            .await
            .unwrap();
        receiving.await.unwrap()
    });

    assert_eq!(text, "from tokio in a");
    assert_eq!(
        from,
        SocketAddr::from((lan.host("a").ipv4(), sender_port)),
        "b heard it from a's address and the sender's port"
    );
    let got = on_c.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "from tokio in a");
    assert_eq!(got[0].interface.name, "eth0");
    assert_eq!(got[0].source.ip(), IpAddr::V4(lan.host("a").ipv4()));
    assert_eq!(got[0].ttl, Some(1));
}

/// [`Host::socket`] gives an unbound socket for options before `bind`: two receivers with
/// `SO_REUSEADDR` on one port in `b` each get their own copy of one datagram from `a`.
#[test]
fn two_reuseaddr_receivers_in_one_host_each_get_a_copy() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let group = Group::new(GROUP.into(), PORT).unwrap();
    let receivers: Vec<std::net::UdpSocket> = (0..2)
        .map(|_| {
            let socket = lan
                .host("b")
                .socket(
                    socket2::Domain::IPV4,
                    socket2::Type::DGRAM,
                    Some(socket2::Protocol::UDP),
                )
                .unwrap();
            assert_in(lan.host("b"), &socket);
            socket.set_reuse_address(true).unwrap();
            socket
                .bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)).into())
                .unwrap();
            socket
                .join_multicast_v4(&GROUP, &Ipv4Addr::UNSPECIFIED)
                .unwrap();
            socket.set_nonblocking(true).unwrap();
            socket.into()
        })
        .collect();
    let sender = lan
        .host("a")
        .udp_socket(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
        .unwrap();
    assert_in(lan.host("a"), &sender);

    let heard = multi_thread_runtime().block_on(async {
        let receivers: Vec<_> = receivers
            .into_iter()
            .map(|s| tokio::net::UdpSocket::from_std(s).unwrap())
            .collect();
        let sender = tokio::net::UdpSocket::from_std(sender).unwrap();
        sender.send_to(b"twice", group.socket_addr()).await.unwrap();
        let mut heard = Vec::new();
        for receiver in &receivers {
            let mut buffer = [0u8; 64];
            let (n, from) = tokio::time::timeout(DEADLINE, receiver.recv_from(&mut buffer))
                .await
                .expect("each receiver got it within the deadline")
                .unwrap();
            heard.push((buffer[..n].to_vec(), from.ip()));
        }
        heard
    });
    let a = IpAddr::V4(lan.host("a").ipv4());
    assert_eq!(heard, [(b"twice".to_vec(), a), (b"twice".to_vec(), a)]);
}

mod block_on {
    use std::sync::mpsc;

    use super::*;

    /// A future run with `block_on` makes its sockets in the host, and so do the tasks it
    /// spawns: each can bind the host's own address, which only exists there.
    #[test]
    fn sockets_of_the_future_and_its_tasks_belong_to_the_host() {
        let lan = harness::or_skip!(Lan::new(["a", "b"]));
        let b = IpAddr::V4(lan.host("b").ipv4());
        let host = lan.host("b");
        let (own, spawned) = host.block_on(async move {
            let own = tokio::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                .await
                .unwrap();
            let spawned = tokio::spawn(async move {
                tokio::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                    .await
                    .unwrap()
            });
            (own, spawned.await.unwrap())
        });
        assert!(host.owns(&own).unwrap(), "the future's socket is in b");
        assert!(
            host.owns(&spawned).unwrap(),
            "the spawned task's socket is in b"
        );
        // And they behave so: b's own address can be bound from inside, not from a.
        let bound = host.block_on(async move {
            let socket = tokio::net::UdpSocket::bind((b, 0)).await.unwrap();
            socket.local_addr().unwrap()
        });
        assert_eq!(bound.ip(), b);
        let refused = lan
            .host("a")
            .block_on(async move { tokio::net::UdpSocket::bind((b, 0)).await.map(|_| ()) });
        assert_eq!(
            refused.unwrap_err().raw_os_error(),
            Some(libc::EADDRNOTAVAIL)
        );
    }

    /// A tokio receiver running in `b` (joined before it says so) and a tokio sender running
    /// in `a`: `b` gets the datagram from `a`'s address; `c`, also joined, gets it on `eth0`.
    #[test]
    fn tokio_receiver_in_b_hears_tokio_sender_in_a() {
        let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
        let group = Group::new(GROUP.into(), PORT).unwrap();
        let on_c = lan.host("c").listen(group).unwrap();
        let (a, b) = (lan.host("a"), lan.host("b"));
        let (joined_tx, joined) = mpsc::channel();
        let (heard, sent_from) = std::thread::scope(|scope| {
            let receiver = scope.spawn(|| {
                b.block_on(async move {
                    let socket = tokio::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT))
                        .await
                        .unwrap();
                    assert_in(b, &socket);
                    socket
                        .join_multicast_v4(GROUP, Ipv4Addr::UNSPECIFIED)
                        .unwrap();
                    joined_tx.send(()).unwrap();
                    let mut buffer = [0u8; 1500];
                    let (n, from) = tokio::time::timeout(DEADLINE, socket.recv_from(&mut buffer))
                        .await
                        .expect("b received within the deadline")
                        .unwrap();
                    (String::from_utf8_lossy(&buffer[..n]).into_owned(), from)
                })
            });
            joined
                .recv_timeout(DEADLINE)
                .expect("b joined within the deadline");
            let sent_from = a.block_on(async {
                let socket = tokio::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
                    .await
                    .unwrap();
                assert_in(a, &socket);
                socket
                    .send_to(b"block_on in a", group.socket_addr())
                    .await
                    .unwrap();
                socket.local_addr().unwrap().port()
            });
            (receiver.join().unwrap(), sent_from)
        });
        assert_eq!(heard.0, "block_on in a");
        assert_eq!(heard.1, SocketAddr::from((lan.host("a").ipv4(), sent_from)));
        let got = on_c.expect(1).within(DEADLINE).unwrap();
        assert_eq!(got[0].text(), "block_on in a");
        assert_eq!(got[0].interface.name, "eth0");
        assert_eq!(got[0].source.ip(), IpAddr::V4(lan.host("a").ipv4()));
    }

    /// A panic inside the future reaches the caller with its message, as with `Host::run`.
    #[test]
    fn a_panic_in_the_future_reaches_the_caller() {
        let lan = harness::or_skip!(Lan::new(["b"]));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lan.host("b").block_on(async { panic!("inside b") })
        }))
        .expect_err("the panic reached the caller");
        assert_eq!(caught.downcast_ref::<&str>(), Some(&"inside b"));
    }
}
