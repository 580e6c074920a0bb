//! The article's own example on a virtual LAN: receivers on hosts `a` and `b`, the sender
//! on `a`. The article's hosts were 192.168.1.17 and 192.168.1.8; here they are 10.0.0.1
//! and 10.0.0.2 on one bridged segment.

use crate::common;

use std::process::Command;

use common::{Program, RECEIVER, in_address_order, port_filters, received_lines, run_sender};
use harness::Lan;

/// One datagram, two acknowledgements: one from each host, each from that host's own
/// address and the receivers' port, then a timeout, exactly as the article shows.
#[test]
fn two_receivers_each_acknowledge_once() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let (a, b) = (lan.host("a"), lan.host("b"));
    let mut on_a = Program::ready(a, &mut Command::new(RECEIVER));
    let mut on_b = Program::ready(b, &mut Command::new(RECEIVER));

    let (code, output, stderr) = run_sender(a, &[]);
    assert_eq!(code, 0, "sender failed: {stderr}\n{output}");

    let mut sources = received_lines(&output);
    sources.sort();
    assert_eq!(
        sources,
        [
            "received b'ack' from ('10.0.0.1', 10000)",
            "received b'ack' from ('10.0.0.2', 10000)",
        ],
        "full output:\n{output}"
    );
    insta::assert_snapshot!(in_address_order(&output));

    // Both receivers saw the datagram come from a's address, and said so the same way.
    for (receiver, name) in [(&mut on_a, "a"), (&mut on_b, "b")] {
        receiver.wait_for_lines("sending acknowledgement to", 1);
        insta::with_settings!({ filters => port_filters(), snapshot_suffix => name }, {
            insta::assert_snapshot!(
                "receiver_transcript",
                receiver.transcript_through("sending acknowledgement to")
            );
        });
    }
}

/// The library calls the tour uses give the same answer as the programs: two hosts,
/// reported by address, no duplicates, nothing ignored.
#[test]
fn library_sender_reports_both_hosts() {
    use python_echo::{Receiver, ReceiverConfig, SenderConfig, Verdict, send};
    use std::time::Duration;

    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let config = ReceiverConfig {
        count: Some(1),
        ..ReceiverConfig::default()
    };
    let serving: Vec<_> = lan
        .hosts()
        .iter()
        .map(|host| {
            let receiver = host.run(|| Receiver::bind(config.clone())).expect("bind");
            std::thread::spawn(move || receiver.serve(&mut std::io::sink()))
        })
        .collect();

    let sender = SenderConfig {
        timeout: Duration::from_millis(500),
        expect: Some(2),
        ..SenderConfig::default()
    };
    let report = lan
        .host("a")
        .run(|| send(&sender, &mut std::io::sink()))
        .expect("send");

    let mut hosts = report.hosts().to_vec();
    hosts.sort();
    assert_eq!(
        hosts,
        [lan.host("a").ipv4(), lan.host("b").ipv4()].map(std::net::IpAddr::V4)
    );
    assert_eq!(report.shortfall(), None);
    assert_eq!(report.summary.count(Verdict::DuplicateAck), 0);
    assert_eq!(report.summary.count(Verdict::NotAnAck), 0);
    // The receivers saw a's address and the port our socket was bound to.
    let from = std::net::SocketAddr::new(lan.host("a").ipv4().into(), report.local.port());

    for (thread, host) in serving.into_iter().zip(lan.hosts()) {
        let handled = thread.join().unwrap().expect("serve").handled;
        assert_eq!(handled.len(), 1, "{}", host.name());
        assert_eq!(handled[0].payload, b"very important data");
        assert_eq!(handled[0].from, from, "{}", host.name());
        assert!(handled[0].acknowledged);
    }
}
