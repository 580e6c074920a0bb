//! Tokio code under test in a three-host LAN: a tokio multicast receiver runs inside host `b`
//! ([`harness::Host::block_on`]), a tokio sender on the example's own multi-threaded runtime
//! uses a socket made in host `a` ([`harness::Host::udp_socket`]), and both print what
//! happened: who sent, who received, from which address.
//!
//! Why two ways: `setns` moves one thread, and a multi-threaded runtime moves tasks between
//! its worker threads, so entering a namespace from inside a task is wrong. Either make the
//! socket inside the host and hand it to the runtime (`udp_socket` + `from_std`), or run the
//! whole future on a thread that lives in the host (`block_on`).
//!
//! Run it as: `cargo run -p harness --features tokio --example tokio_multicast`

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use harness::{Group, Lan};

const DEADLINE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let lan = match Lan::new(["a", "b", "c"]) {
        Ok(lan) => lan,
        Err(e) => {
            eprintln!("error: cannot build the virtual LAN: {e}");
            return ExitCode::FAILURE;
        }
    };
    let group_v4 = Ipv4Addr::new(239, 1, 2, 3);
    let group = Group::new(group_v4.into(), 5000).expect("a multicast address");

    std::thread::scope(|scope| {
        // ANCHOR: receiver
        // Host b: a tokio receiver, on a current-thread runtime inside b's
        // namespace.
        let (joined_tx, joined) = mpsc::channel();
        let receiver = scope.spawn(|| {
            lan.host("b").block_on(async move {
                let bind = SocketAddr::from((Ipv4Addr::UNSPECIFIED, group.port()));
                let socket = tokio::net::UdpSocket::bind(bind).await?;
                socket.join_multicast_v4(group_v4, Ipv4Addr::UNSPECIFIED)?;
                joined_tx.send(()).expect("main thread waits");
                let mut buffer = [0u8; 1500];
                let received = socket.recv_from(&mut buffer);
                let (n, from) = tokio::time::timeout(DEADLINE, received).await??;
                let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                Ok::<_, std::io::Error>((text, from))
            })
        });
        // Ready means joined: the receiver said so; no sleep.
        if joined.recv_timeout(DEADLINE).is_err() {
            eprintln!("error: the receiver in b did not join within {DEADLINE:?}");
            return ExitCode::FAILURE;
        }
        // ANCHOR_END: receiver

        // ANCHOR: sender
        // Host a: a socket made in a, used by a multi-threaded runtime in the main
        // namespace.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let sent = runtime.block_on(async {
            let socket = lan
                .host("a")
                .udp_socket(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))?;
            let socket = tokio::net::UdpSocket::from_std(socket)?;
            socket
                .send_to(b"hello from tokio", group.socket_addr())
                .await
        });
        // ANCHOR_END: sender
        match sent {
            Ok(n) => println!("a ({}) sent {n} bytes to {group}", lan.host("a").ipv4()),
            Err(e) => {
                eprintln!("error: sending from a: {e}");
                return ExitCode::FAILURE;
            }
        }

        match receiver.join().expect("receiver thread") {
            Ok((text, from)) => {
                println!("b ({}) received {text:?} from {from}", lan.host("b").ipv4());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: receiving in b: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
