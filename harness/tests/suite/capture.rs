//! Captures written as pcap files: read back by an independent parser, and by tshark where
//! it is installed.

use crate::common;
use crate::pcap;

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
    let path = pcap::scratch("harness-pcap").with_extension("pcap");
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

/// An expectation that fails: b listens for a group that a sends to on another port. Run by
/// itself, without `HARNESS_PCAP_DIR`, the failure mentions no recordings (nothing is
/// recorded). Run as the child of the test below, with `HARNESS_PCAP_DIR` and
/// `HARNESS_RECORDING_CHILD` set, it fails on purpose so that its recordings are kept.
#[test]
fn recorded_failure_child() {
    let lan = harness::or_skip!(harness::Lan::new(["a", "b"]));
    let listening = Group::parse("239.4.4.4:4000").unwrap();
    let elsewhere = Group::parse("239.4.4.4:4001").unwrap();
    let on_b = lan.host("b").listen(listening).unwrap();
    // The datagram has crossed b's eth0 (and its recording) once this listener has it; then
    // the expectation above fails at once rather than after waiting out a quiet spell.
    let on_b_elsewhere = lan.host("b").listen(elsewhere).unwrap();
    lan.host("a")
        .run(|| common::send(elsewhere, b"on the wrong port", 1));
    on_b_elsewhere
        .expect(1)
        .within(std::time::Duration::from_secs(5))
        .unwrap();
    let unmet = on_b
        .expect(1)
        .within(std::time::Duration::ZERO)
        .unwrap_err()
        .to_string();
    if std::env::var_os("HARNESS_RECORDING_CHILD").is_some() {
        panic!("{unmet}");
    }
    assert!(
        std::env::var_os("HARNESS_PCAP_DIR").is_some() || !unmet.contains("recordings of host"),
        "{unmet}"
    );
}

/// With `HARNESS_PCAP_DIR`, a failing test keeps one pcap file per host and interface, named
/// by test, host and interface and named in its failure message; b's `eth0` file holds a's
/// datagram with its source, group and TTL. A passing test writes nothing.
#[test]
fn a_failing_test_keeps_its_recordings_as_pcap_files() {
    if harness::skip_unless_available(Sandbox::new()).is_none() {
        return;
    }
    let (dir, said) = pcap::run_failing_child("capture::recorded_failure_child");
    let b_eth0 = dir.join("capture-recorded_failure_child-b-eth0.pcap");
    assert!(
        said.contains(&format!(
            "recordings of host b (written when the test's network is dropped): {}",
            dir.join("capture-recorded_failure_child-b-*.pcap")
                .display()
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("kept {}", b_eth0.display())),
        "{said}"
    );
    let mut kept: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    for name in [
        "capture-recorded_failure_child-a-eth0.pcap",
        "capture-recorded_failure_child-a-lo.pcap",
        "capture-recorded_failure_child-b-eth0.pcap",
        "capture-recorded_failure_child-b-lo.pcap",
    ] {
        assert!(kept.contains(&name.to_owned()), "{kept:?}");
    }
    let records = udp_records(&std::fs::read(&b_eth0).unwrap());
    assert!(
        records.contains(&(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(239, 4, 4, 4),
            1,
            b"on the wrong port".to_vec()
        )),
        "{records:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
