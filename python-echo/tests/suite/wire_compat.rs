//! Our programs against the original Python ones (rewritten as fixtures under
//! `tests/fixtures/`), in both directions, on a virtual LAN. The wire format is only the
//! payload bytes (`very important data` one way, `ack` back), so either side may be ours.
//!
//! python3 is optional: without it each test prints one `skipped: python3 is not installed`
//! line and passes (under `HARNESS_REQUIRE_SANDBOX=1` it fails instead).

use crate::common;

use std::net::UdpSocket;
use std::process::Command;

use common::{Program, RECEIVER, TEST_TIMEOUT, port_filters, python, run, run_sender};
use harness::Lan;

/// Our sender counts the original receiver's `ack` like our own: one host, 10.0.0.2.
#[test]
fn our_sender_collects_the_original_receivers_ack() {
    let python3 = harness::or_skip!(harness::tool(harness::Capability::Python3));
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let mut original = Program::ready(lan.host("b"), &mut python(&python3, "original_receiver.py"));

    let (code, output, stderr) = run_sender(lan.host("a"), &["--expect", "1"]);
    assert_eq!(code, 0, "sender failed: {stderr}\n{output}");
    insta::assert_snapshot!("our_sender", output);

    original.wait_for_lines("sending acknowledgement to", 1);
    insta::with_settings!({ filters => port_filters() }, {
        insta::assert_snapshot!(
            "original_receiver",
            original.transcript_through("sending acknowledgement to")
        );
    });
}

/// The original sender hears our receiver's `ack` and prints it like any other.
#[test]
fn original_sender_collects_our_receivers_ack() {
    let python3 = harness::or_skip!(harness::tool(harness::Capability::Python3));
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let mut ours = Program::ready(lan.host("b"), &mut Command::new(RECEIVER));

    let (code, output, stderr) = run(
        lan.host("a"),
        python(&python3, "original_sender.py").arg(TEST_TIMEOUT),
    );
    assert_eq!(code, 0, "original sender failed: {stderr}\n{output}");
    insta::assert_snapshot!("original_sender", output);

    ours.wait_for_lines("sending acknowledgement to", 1);
    insta::with_settings!({ filters => port_filters() }, {
        insta::assert_snapshot!(
            "our_receiver",
            ours.transcript_through("sending acknowledgement to")
        );
    });
}

/// Fed the same datagrams, including binary garbage, an empty one and quotes, our
/// receiver prints exactly what the original prints, line for line.
#[test]
fn our_receiver_prints_what_the_original_prints() {
    let python3 = harness::or_skip!(harness::tool(harness::Capability::Python3));
    let lan = harness::or_skip!(Lan::new(["sender", "original", "ours"]));
    let mut original = Program::ready(
        lan.host("original"),
        &mut python(&python3, "original_receiver.py"),
    );
    let mut ours = Program::ready(lan.host("ours"), &mut Command::new(RECEIVER));

    let datagrams: [&[u8]; 5] = [
        b"very important data",
        b"\x00\x01\xfe\xff binary \x7f",
        b"",
        b"it's \"quoted\"\\ and\ttabbed\r\n",
        "caf\u{e9} \u{1f4e1}".as_bytes(),
    ];
    lan.host("sender").run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        for payload in datagrams {
            socket.send_to(payload, "224.3.29.71:10000").unwrap();
        }
    });

    let prefix = "sending acknowledgement to";
    original.wait_for_lines(prefix, datagrams.len());
    ours.wait_for_lines(prefix, datagrams.len());
    let theirs = original.transcript_through(prefix);
    assert_eq!(ours.transcript_through(prefix), theirs);
    assert!(
        theirs.contains(r"b'\x00\x01\xfe\xff binary \x7f'"),
        "{theirs}"
    );
    insta::with_settings!({ filters => port_filters() }, {
        insta::assert_snapshot!(theirs);
    });
}

/// Our sender and the original agree on the ack lines when both receivers answer, one
/// of each kind; only our summary line is extra. The two senders run at once, each on its
/// own port: each receiver acknowledges each datagram to the port it came from, and each
/// sender ends after a quiet spell of its own, which they wait out together.
#[test]
fn mixed_receivers_are_both_counted() {
    let python3 = harness::or_skip!(harness::tool(harness::Capability::Python3));
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let _original = Program::ready(lan.host("b"), &mut python(&python3, "original_receiver.py"));
    let _ours = Program::ready(lan.host("c"), &mut Command::new(RECEIVER));

    let ((code, output, stderr), (their_code, theirs, their_stderr)) = std::thread::scope(|s| {
        let ours = s.spawn(|| run_sender(lan.host("a"), &["--expect", "2"]));
        let theirs = run(
            lan.host("a"),
            python(&python3, "original_sender.py").arg(TEST_TIMEOUT),
        );
        (ours.join().expect("our sender's thread"), theirs)
    });
    assert_eq!(code, 0, "sender failed: {stderr}\n{output}");
    assert!(
        output.ends_with("summary: acknowledged by 2 hosts: 10.0.0.2, 10.0.0.3\n"),
        "{output}"
    );
    assert_eq!(
        their_code, 0,
        "original sender failed: {their_stderr}\n{theirs}"
    );
    let mut ours_received = common::received_lines(&output);
    let mut theirs_received = common::received_lines(&theirs);
    ours_received.sort();
    theirs_received.sort();
    assert_eq!(ours_received, theirs_received);
}

/// Without python3 on `PATH` a test that needs it prints one `skipped:` line naming it and
/// passes; under `HARNESS_REQUIRE_SANDBOX=1` (CI) the same test fails. Shown by running one
/// of the tests above again, as a child process of this test binary, with an empty `PATH`.
#[test]
fn without_python3_the_tests_skip_or_fail_under_ci() {
    let rerun = |require: &str| {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "wire_compat::mixed_receivers_are_both_counted",
                "--nocapture",
            ])
            .args(["--test-threads", "1"])
            .env("PATH", "/nonexistent")
            .env("HARNESS_REQUIRE_SANDBOX", require)
            // A skip staged here is no skip of the suite's.
            .env_remove("HARNESS_SKIP_LOG")
            .output()
            .expect("rerun this test binary")
    };
    let skipped = rerun("0");
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    let skips: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("skipped:"))
        .collect();
    assert_eq!(
        skips,
        [
            "skipped: wire_compat::mixed_receivers_are_both_counted: python3 is not installed (package python3)"
        ],
        "{stderr}"
    );

    let required = rerun("1");
    let stdout = String::from_utf8_lossy(&required.stdout);
    assert!(!required.status.success(), "must fail under CI: {stdout}");
    assert!(stdout.contains("1 failed"), "{stdout}");
}
