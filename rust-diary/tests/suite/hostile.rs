//! The fixed responder on a hostile network: a datagram whose answer the kernel refuses
//! does not stop it, and the `diary` command says so and goes on answering.

use crate::common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, SocketAddrV4};
use std::process::{Command, Stdio};

use common::{DEADLINE, Family};
use harness::Sandbox;
use rust_diary::diary::CLIENT_MESSAGE;
use rust_diary::{ListenOptions, Responder, ask};
use socket2::{Domain, Protocol, Socket, Type};

/// Sends `payload` to `group` in a UDP datagram whose *source port is 0*, as only a raw
/// socket can (or a spoofing peer): nobody can be answered at port 0, so `sendto` of the
/// answer fails with `EINVAL`. Call inside the sandbox.
fn send_from_port_zero(group: SocketAddrV4, payload: &[u8]) {
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::UDP)).expect("raw socket");
    socket.set_multicast_ttl_v4(1).unwrap();
    let length = u16::try_from(8 + payload.len()).unwrap();
    let mut datagram = Vec::with_capacity(length.into());
    datagram.extend_from_slice(&0u16.to_be_bytes()); // source port 0
    datagram.extend_from_slice(&group.port().to_be_bytes());
    datagram.extend_from_slice(&length.to_be_bytes());
    datagram.extend_from_slice(&0u16.to_be_bytes()); // no checksum (allowed over IPv4)
    datagram.extend_from_slice(payload);
    socket
        .send_to(&datagram, &SocketAddr::V4(group).into())
        .expect("send the port-0 datagram");
}

fn group_v4() -> SocketAddrV4 {
    match Family::V4.group().socket_addr() {
        SocketAddr::V4(group) => group,
        SocketAddr::V6(_) => unreachable!("an IPv4 group"),
    }
}

/// An answer the kernel refuses (to source port 0) is counted with its reason, and the
/// responder still answers the next client.
#[test]
fn a_refused_answer_is_counted_and_the_responder_keeps_answering() {
    let host = harness::or_skip!(Sandbox::new());
    host.run(|| {
        let family = Family::V4;
        let options = ListenOptions::default().interface(family.interface());
        let responder = Responder::start("ipv4", &family.group(), &options).unwrap();
        send_from_port_zero(group_v4(), b"from port 0");
        let first = responder
            .answers()
            .next()
            .expect("the port-0 datagram heard");
        assert_eq!(first.text, "from port 0");
        assert_eq!(first.from.port(), 0);
        assert!(
            first
                .failure
                .as_deref()
                .is_some_and(|f| f.contains("os error 22")),
            "{first:?}"
        );

        let reply = ask(&family.group(), None, CLIENT_MESSAGE, DEADLINE)
            .expect("the responder still answers");
        assert_eq!(reply.text, "ipv4");
        let tally = responder.tally();
        assert_eq!((tally.heard, tally.failed), (2, 1), "{tally:?}");
        let heard = responder.stop().expect("stopped cleanly");
        assert_eq!(heard.len(), 2);
        assert_eq!(heard[1].failure, None);
    });
}

/// `diary respond` prints the refused answer as a line of its own, goes on answering, and
/// ends with its totals.
#[test]
fn diary_respond_reports_a_refused_answer_and_goes_on() {
    let host = harness::or_skip!(Sandbox::new());
    let group = Family::V4.group().to_string();
    let mut responder = host
        .spawn(
            Command::new(env!("CARGO_BIN_EXE_diary"))
                .args(["respond", "--group", &group, "--count", "2"])
                .stdout(Stdio::piped()),
        )
        .expect("diary respond starts");
    let mut lines = BufReader::new(responder.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    assert!(
        ready.starts_with("listening on 224.0.0.123:7645"),
        "{ready}"
    );

    host.run(|| send_from_port_zero(group_v4(), b"from port 0"));
    let asked = host
        .output(Command::new(env!("CARGO_BIN_EXE_diary")).args(["ask", "--group", &group]))
        .expect("diary ask runs");
    assert!(
        asked.status.success(),
        "the responder stopped answering: {}",
        String::from_utf8_lossy(&asked.stderr)
    );
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(responder.wait().unwrap().success());
    let address = host.ipv4();
    assert_eq!(rest.len(), 3, "{rest:#?}");
    assert_eq!(
        rest[0],
        format!(
            "heard \"from port 0\" from {address}:0, could not answer \"ipv4\": \
             Invalid argument (os error 22)"
        )
    );
    let client = format!("heard \"Hello from client!\" from {address}:");
    assert!(
        rest[1].starts_with(&client) && rest[1].ends_with(", answered \"ipv4\""),
        "{rest:#?}"
    );
    assert_eq!(
        rest[2],
        "heard 2 datagram(s), answered 1, 1 could not be answered \
         (last: Invalid argument (os error 22))"
    );
}
