//! `receive --source`: a source-specific join, (S,G), hears one sender of a group and no
//! other, in the SSM range and outside it alike.

use crate::common;

use std::process::Command;

use common::start;
use harness::Lan;

const SEND: &str = env!("CARGO_BIN_EXE_send");
const RECEIVE: &str = env!("CARGO_BIN_EXE_receive");

/// Sends `text` to `group` from `host` with the `send` program.
fn send_from(lan: &Lan, host: &str, group: &str, text: &str) {
    let out = lan
        .host(host)
        .output(Command::new(SEND).args(["--group", group, text]))
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// A receiver joined for (10.0.0.1, G) on host c prints a's datagram and not b's, though
/// b's was sent first to the same group and port: the kernel drops what the join's source
/// list excludes. Linux applies the filter to any group, 232/8 (where the network is
/// expected to do the same, RFC 4607) and 239/8 alike.
#[test]
fn a_source_specific_join_hears_only_its_source() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    for group in ["232.1.1.1", "239.1.1.1"] {
        let mut receiver = start(
            lan.host("c"),
            RECEIVE,
            &["-v", "--group", group, "--source", "10.0.0.1", "-n", "1"],
        );
        let joined = receiver.wait_stderr("waiting");
        assert_eq!(
            joined,
            format!("joined {group}:3000 from 10.0.0.1 on any interface; waiting")
        );
        send_from(&lan, "b", group, "from b");
        send_from(&lan, "a", group, "from a");
        let line = receiver.stdout_line();
        assert!(
            line.starts_with("from 10.0.0.1:")
                && line.ends_with(&format!(" to {group} on eth0: from a")),
            "{line}"
        );
        assert_eq!(receiver.finish(), Some(0), "{}", receiver.report());
    }
}

/// Without `--source` the same receiver prints both, b's first: the filter above is the
/// join's doing, not the network's.
#[test]
fn an_any_source_join_hears_every_sender() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let mut receiver = start(
        lan.host("c"),
        RECEIVE,
        &["-v", "--group", "232.1.1.1", "-n", "2"],
    );
    receiver.wait_stderr("waiting");
    send_from(&lan, "b", "232.1.1.1", "from b");
    send_from(&lan, "a", "232.1.1.1", "from a");
    let lines = [receiver.stdout_line(), receiver.stdout_line()];
    assert!(
        lines[0].starts_with("from 10.0.0.2:") && lines[0].ends_with(": from b"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("from 10.0.0.1:") && lines[1].ends_with(": from a"),
        "{lines:?}"
    );
    assert_eq!(receiver.finish(), Some(0));
}

/// A source that cannot be a sender of the group is refused with one line naming
/// `--source`, and exit status 2, before anything is joined.
#[test]
fn a_source_of_the_wrong_family_is_one_line() {
    let out = Command::new(RECEIVE)
        .args(["--group", "232.1.1.1", "--source", "fd00::1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --source: fd00::1 cannot send to 232.1.1.1 (expected an IPv4 sender)\n"
    );
}
