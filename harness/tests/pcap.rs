//! Captures written as pcap files: read back by an independent parser, and by tshark where
//! it is installed.

mod common;
#[path = "common/pcap.rs"]
mod pcap;

use std::net::Ipv4Addr;

use pcap::{tshark_udp, udp_records};

use harness::{Group, Sandbox};

/// `Capture::write_pcap` writes what crossed `lo` as a pcap file whose datagram has the right
/// source, group and TTL, for the test's own parser and for tshark alike.
#[test]
fn capture_writes_a_pcap_file_that_tshark_reads() {
    let host = harness::or_skip!(Sandbox::new());
    let group = Group::parse("224.6.8.12:6812").unwrap();
    let lo = host.capture("lo").unwrap();
    host.run(|| common::send(group, b"to the file", 5));
    lo.wait_for_udp(
        |u| u.payload == b"to the file",
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("harness-pcap-{}.pcap", std::process::id()));
    let frames = lo.write_pcap(&path).unwrap();
    let records = udp_records(&std::fs::read(&path).unwrap());
    // On lo the kernel shows each datagram twice: going out and coming back in.
    assert!(frames >= 2, "{frames} frames");
    let expected = (
        harness::SANDBOX_IPV4,
        Ipv4Addr::new(224, 6, 8, 12),
        5,
        b"to the file".to_vec(),
    );
    assert!(records.contains(&expected), "{records:?}");
    if let Some(lines) = tshark_udp(&path) {
        assert!(
            lines.contains(&"10.0.0.1 224.6.8.12 5".to_string()),
            "{lines:?}"
        );
    }
    let _ = std::fs::remove_file(&path);
}
