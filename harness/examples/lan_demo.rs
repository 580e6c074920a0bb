//! A three-host LAN in network namespaces: `a` sends one datagram to a group with TTL 1 and
//! every host reports what it received, from whom, and on which interface.
//!
//! Run it as: `cargo run -p harness --example lan_demo`

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::Duration;

use harness::{Group, Lan};

fn main() -> ExitCode {
    let lan = match Lan::new(["a", "b", "c"]) {
        Ok(lan) => lan,
        Err(e) => {
            eprintln!("cannot build the virtual LAN: {e}");
            return ExitCode::FAILURE;
        }
    };
    let group = Group::parse("239.1.2.3:5000").expect("a valid group");
    println!(
        "LAN: a = {}, b = {}, c = {} on one bridge; group {group}",
        lan.host("a").ipv4(),
        lan.host("b").ipv4(),
        lan.host("c").ipv4()
    );
    let listeners: Vec<_> = lan
        .hosts()
        .iter()
        .map(|h| h.listen(group).expect("listen"))
        .collect();
    lan.host("a").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("socket");
        socket.set_multicast_ttl_v4(1).expect("TTL 1");
        socket
            .send_to(b"hello, segment", group.socket_addr())
            .expect("send");
    });
    println!("a sent \"hello, segment\" with TTL 1");
    let mut ok = true;
    for (host, rx) in lan.hosts().iter().zip(&listeners) {
        match rx.expect(1).within(Duration::from_secs(2)) {
            Ok(got) => {
                let d = &got[0];
                println!(
                    "{} received \"{}\" from {} on {} (ttl {})",
                    host.name(),
                    d.text(),
                    d.source.ip(),
                    d.interface.name,
                    d.ttl.unwrap_or(0)
                );
            }
            Err(e) => {
                ok = false;
                println!("{} received nothing:\n{e}", host.name());
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
