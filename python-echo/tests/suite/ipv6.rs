//! The article's example again, over IPv6: the same programs with an IPv6 group.
//! The original speaks IPv4 only; the ack pattern does not care.

use crate::common;

use std::process::Command;

use common::{Program, RECEIVER, in_address_order, received_lines, run_sender};
use harness::Lan;

/// A site-local group (`ff05::`): the sender's source and the acks' sources are the hosts'
/// unique-local addresses fd00::1 and fd00::2, since those are the addresses whose scope
/// fits the group's (link-local fe80:: would be too narrow).
#[test]
fn two_hosts_acknowledge_over_ipv6() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let group = ["--group", "ff05::329:71"];
    let _on_a = Program::ready(lan.host("a"), Command::new(RECEIVER).args(group));
    let _on_b = Program::ready(lan.host("b"), Command::new(RECEIVER).args(group));

    let (code, output, stderr) =
        run_sender(lan.host("a"), &[&group[..], &["--expect", "2"]].concat());
    assert_eq!(code, 0, "sender failed: {stderr}\n{output}");
    let mut sources = received_lines(&output);
    sources.sort();
    assert_eq!(
        sources,
        [
            "received b'ack' from ('fd00::1', 10000, 0, 0)",
            "received b'ack' from ('fd00::2', 10000, 0, 0)",
        ],
        "full output:\n{output}"
    );
    insta::assert_snapshot!(in_address_order(&output));
}

/// A link-local group (`ff02::`) exists once per link, so both sides name the interface.
/// The acks then come from each host's link-local fe80:: address, scoped to eth0.
#[test]
fn link_local_group_acks_come_from_link_local_addresses() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let args = ["--group", "ff02::329:71", "--interface", "eth0"];
    let _on_a = Program::ready(lan.host("a"), Command::new(RECEIVER).args(args));
    let _on_b = Program::ready(lan.host("b"), Command::new(RECEIVER).args(args));

    let (code, output, stderr) =
        run_sender(lan.host("a"), &[&args[..], &["--expect", "2"]].concat());
    assert_eq!(code, 0, "sender failed: {stderr}\n{output}");
    let eth0 = lan.host("a").interface_index("eth0").unwrap();
    let sources = received_lines(&output);
    assert_eq!(sources.len(), 2, "{output}");
    for line in &sources {
        assert!(
            line.starts_with("received b'ack' from ('fe80::"),
            "{output}"
        );
        assert!(line.ends_with(&format!(", 10000, 0, {eth0})")), "{output}");
    }
    assert_ne!(sources[0], sources[1], "two different hosts: {output}");
}
