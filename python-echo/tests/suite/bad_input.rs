//! Datagrams the article never imagined: garbage and oversized ones at the receiver,
//! replies other than `ack` (and duplicates) at the sender.

use crate::common;

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{DEADLINE, Program, RECEIVER, run_sender};
use harness::Sandbox;

const GROUP: Ipv4Addr = Ipv4Addr::new(224, 3, 29, 71);

/// Garbage, an empty datagram and datagrams far larger than the 1024-byte buffer do not
/// stop the receiver: each is printed escaped (oversized ones with their real size) and
/// acknowledged, and it still answers a real sender afterwards.
#[test]
fn receiver_survives_garbage_and_oversized_datagrams() {
    let host = harness::or_skip!(Sandbox::new());
    let mut receiver = Program::ready(&host, &mut Command::new(RECEIVER));

    let garbage: Vec<Vec<u8>> = vec![
        (0..=255u8).collect(),
        Vec::new(),
        vec![b'x'; 2000],
        vec![0xff; 65507], // the largest UDP payload IPv4 can carry
    ];
    host.run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        for payload in &garbage {
            socket.send_to(payload, (GROUP, 10000)).unwrap();
        }
    });
    let lines = receiver.wait_for_lines("sending acknowledgement to", garbage.len());
    let received: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("received "))
        .collect();
    assert!(received[0].starts_with("received 256 bytes from ('10.0.0.1', "));
    assert!(received[1].starts_with("received 0 bytes from"));
    assert!(received[2].starts_with("received 1024 bytes from"));
    assert!(received[3].starts_with("received 1024 bytes from"));
    assert!(
        lines.contains(&"  (the datagram was 2000 bytes; only the first 1024 were read)".into())
    );
    assert!(
        lines.contains(&"  (the datagram was 65507 bytes; only the first 1024 were read)".into())
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(r"b'\x00\x01\x02") && l.ends_with(r"\xfe\xff'"))
    );

    let (code, output, stderr) = run_sender(&host, &["--expect", "1"]);
    assert_eq!(code, 0, "receiver stopped answering: {stderr}\n{output}");
}

/// A misbehaving receiver on `host`, joined and bound when this returns: it waits for the
/// sender's datagram and answers it with each of `replies` in turn.
fn rogue_receiver(host: &Sandbox, replies: Vec<&'static [u8]>) -> JoinHandle<()> {
    let rogue = host.run(|| {
        let socket = UdpSocket::bind("0.0.0.0:10000").unwrap();
        socket
            .join_multicast_v4(&GROUP, &Ipv4Addr::UNSPECIFIED)
            .unwrap();
        socket.set_read_timeout(Some(DEADLINE)).unwrap();
        socket
    });
    std::thread::spawn(move || {
        let mut buffer = [0u8; 64];
        let (_, sender) = rogue.recv_from(&mut buffer).expect("the sender's datagram");
        for reply in replies {
            rogue.send_to(reply, sender).unwrap();
        }
    })
}

/// A responder that answers with everything but a clean single `ack`: the sender prints
/// each reply as the original does, says which ones it ignored or counted once, and
/// counts one host. So `--expect 2` fails although five replies came back.
#[test]
fn sender_ignores_replies_that_are_not_acks() {
    let host = harness::or_skip!(Sandbox::new());
    let answering = rogue_receiver(
        &host,
        vec![b"nak", b"ack", b"ack", b"ack, and much more", b"ACK"],
    );

    let (code, output, stderr) = run_sender(&host, &["--expect", "2"]);
    answering.join().unwrap();
    assert_eq!(code, 1, "{output}");
    assert!(stderr.contains("at least 2 host(s), got 1"), "{stderr}");
    insta::assert_snapshot!(output);
}

/// The library reports the same: one host, one duplicate, three replies that were not
/// acks, with their real lengths.
#[test]
fn library_report_classifies_every_reply() {
    use python_echo::{SenderConfig, Verdict, send};

    let host = harness::or_skip!(Sandbox::new());
    let answering = rogue_receiver(&host, vec![b"ack", b"ack", b"nak", &[b'a'; 40]]);
    let config = SenderConfig {
        timeout: Duration::from_millis(500),
        ..SenderConfig::default()
    };
    let report = host
        .run(|| send(&config, &mut std::io::sink()))
        .expect("send");
    answering.join().unwrap();

    let verdicts: Vec<(Verdict, usize)> = report
        .summary
        .replies()
        .iter()
        .map(|r| (r.verdict, r.length))
        .collect();
    assert_eq!(
        verdicts,
        [
            (Verdict::NewAck, 3),
            (Verdict::DuplicateAck, 3),
            (Verdict::NotAnAck, 3),
            (Verdict::NotAnAck, 40),
        ]
    );
    assert_eq!(
        report.summary.replies()[3].payload.len(),
        16,
        "read size as in the original"
    );
    assert_eq!(report.hosts(), [std::net::IpAddr::V4(host.ipv4())]);
}
