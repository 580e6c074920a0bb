//! The README's dozen-line test, as a crate outside this workspace would write it: only the
//! public API (`harness::...`), nothing from the workspace's other crates, no private paths.
//! An example is compiled as a separate crate against the harness, which is exactly how a
//! dependent sees it; if this builds, the README's instructions give an outside crate all it
//! needs.
//!
//! Run it as: `cargo run -p harness --example outside_crate`
//! (as an ordinary user too, where unprivileged user namespaces are allowed).

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::Duration;

use harness::{Group, Lan};

fn main() -> ExitCode {
    // Where namespaces are refused this prints `skipped: <why>` and exits 0, as a test would
    // pass; with HARNESS_REQUIRE_SANDBOX=1 it panics instead.
    let lan = harness::or_skip!(Lan::new(["a", "b"]), ExitCode::SUCCESS);
    let group = Group::parse("239.1.2.3:5000").expect("a valid group");
    let on_b = match lan.host("b").listen(group) {
        Ok(listener) => listener, // joined and bound: ready, no sleep
        Err(e) => {
            eprintln!("error: listening in b: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sent = lan.host("a").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0")?; // made on a thread inside host a
        socket.send_to(b"hello", group.socket_addr())
    });
    if let Err(e) = sent {
        eprintln!("error: sending from a: {e}");
        return ExitCode::FAILURE;
    }
    match on_b.expect(1).within(Duration::from_secs(5)) {
        Ok(got) => {
            let d = &got[0];
            println!(
                "b got {:?} from {} on {} (to {}, TTL {:?})",
                d.text(),
                d.source,
                d.interface.name,
                d.destination,
                d.ttl
            );
            let right = d.text() == "hello"
                && d.interface.name == "eth0"
                && d.source.ip() == lan.host("a").ipv4();
            if right {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: expected \"hello\" from a (10.0.0.1) on eth0");
                ExitCode::FAILURE
            }
        }
        Err(unmet) => {
            eprintln!("error: {unmet}");
            ExitCode::FAILURE
        }
    }
}
