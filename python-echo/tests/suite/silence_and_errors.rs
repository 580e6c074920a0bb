//! When nobody answers, and when the options or the network are wrong: the sender ends
//! cleanly, `--expect` turns silence into a failing exit status, and every error names
//! what was wrong.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Program, RECEIVER, SENDER, run, run_sender};
use harness::Sandbox;

/// With no receiver the sender waits once, times out, closes and reports zero hosts;
/// that is a normal end, so without `--expect` it exits 0. Uses the article's 0.2 s.
#[test]
fn without_receivers_the_sender_times_out_cleanly() {
    let host = harness::or_skip!(Sandbox::new());
    let (code, output, stderr) = run(&host, &mut Command::new(SENDER));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    insta::assert_snapshot!(output);
}

/// `--expect 1` makes the same silence a failure: exit status 1 and a one-line reason.
#[test]
fn expect_fails_when_nobody_answers() {
    let host = harness::or_skip!(Sandbox::new());
    let (code, output, stderr) = run(&host, Command::new(SENDER).args(["--expect", "1"]));
    assert_eq!(code, 1, "{output}");
    assert!(
        output.ends_with("summary: acknowledged by 0 hosts\n"),
        "{output}"
    );
    assert_eq!(
        stderr,
        "error: expected acknowledgements from at least 1 host(s), got 0\n"
    );
}

/// One receiver answers; `--expect 1` passes and `--expect 2` fails. The two senders run at
/// once, each on its own port (the receiver answers each datagram to the port it came from),
/// so that their quiet spells pass together.
#[test]
fn expect_counts_distinct_hosts() {
    let host = harness::or_skip!(Sandbox::new());
    let _receiver = Program::ready(&host, &mut Command::new(RECEIVER));

    let (one, two) = std::thread::scope(|s| {
        let one = s.spawn(|| run_sender(&host, &["--expect", "1"]));
        let two = run_sender(&host, &["--expect", "2"]);
        (one.join().expect("the first sender's thread"), two)
    });
    let (code, output, stderr) = one;
    assert_eq!(code, 0, "{stderr}\n{output}");
    let (code, output, stderr) = two;
    assert_eq!(code, 1, "{output}");
    assert!(
        output.ends_with("summary: acknowledged by 1 host: 10.0.0.1\n"),
        "{output}"
    );
    assert!(stderr.contains("at least 2 host(s), got 1"), "{stderr}");
}

/// Like the original, the receiver binds without address reuse: a second receiver on the
/// same host is refused, and the message says why.
#[test]
fn second_receiver_on_a_host_is_refused_with_a_reason() {
    let host = harness::or_skip!(Sandbox::new());
    let _first = Program::ready(&host, &mut Command::new(RECEIVER));
    let (code, output, stderr) = run(&host, &mut Command::new(RECEIVER));
    assert_eq!(code, 2, "{output}");
    assert!(
        stderr.starts_with("error: cannot bind 0.0.0.0:10000:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("one receiver per host and port"),
        "{stderr}"
    );
}

/// Bad values are refused before any socket exists, each message naming the value and
/// what was expected; the exit status is 2.
#[test]
fn bad_options_are_refused_naming_the_value() {
    let host = harness::or_skip!(Sandbox::new());
    let cases: [(&str, &[&str], &str); 11] = [
        (
            SENDER,
            &["--group", "10.0.0.1"],
            "10.0.0.1 is not a multicast address",
        ),
        (
            SENDER,
            &["--group", "224.3.29"],
            "`224.3.29` is not an IP address",
        ),
        (SENDER, &["--ttl", "256"], "`256` is not a TTL"),
        (SENDER, &["--timeout", "0"], "`0` is not a timeout"),
        // 500 ns would round to a zero SO_RCVTIMEO, which the kernel reads as "for ever".
        (
            SENDER,
            &["--timeout", "0.0000005"],
            "`0.0000005` is not a timeout (expected a number of seconds from 0.001",
        ),
        (
            SENDER,
            &["--max-wait", "0.0005"],
            "`0.0005` is not a timeout",
        ),
        (
            RECEIVER,
            &["--idle", "0.0000005"],
            "`0.0000005` is not a timeout",
        ),
        (SENDER, &["--port", "0"], "0 is not in 1..=65535"),
        (
            SENDER,
            &["--interface", "wlan9"],
            "no network interface named `wlan9`",
        ),
        (
            RECEIVER,
            &["--group", "fd00::1"],
            "fd00::1 is not a multicast address",
        ),
        (
            RECEIVER,
            &["--group", "ff02::329:71"],
            "ff02::329:71 is a link-local IPv6 group: it exists once per link, so it needs an interface",
        ),
    ];
    for (program, args, expected) in cases {
        let (code, output, stderr) = run(&host, Command::new(program).args(args));
        assert_eq!(code, 2, "{args:?}: {output}{stderr}");
        assert_eq!(output, "", "{args:?}: nothing may be sent");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// In a namespace with no routes at all (a fresh `unshare -n` inside the sandbox), the
/// receiver cannot join and the sender cannot send; both say which step failed and hint
/// at the missing route.
#[test]
fn without_a_route_both_programs_explain_the_failure() {
    let host = harness::or_skip!(Sandbox::new());
    let (code, _, stderr) = run(&host, Command::new("unshare").args(["-n", RECEIVER]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot join group 224.3.29.71"), "{stderr}");
    assert!(stderr.contains("route"), "{stderr}");

    let (code, output, stderr) = run(&host, Command::new("unshare").args(["-n", SENDER]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot send to 224.3.29.71:10000"),
        "{stderr}"
    );
    assert!(stderr.contains("route"), "{stderr}");
    // Like the original's `finally:`, the socket is still closed, and said so.
    assert!(output.ends_with("closing socket\n"), "{output}");
}

/// `receiver | head -1`: once its reader has gone, the receiver ends quietly at the next
/// datagram (status 0, nothing on stderr), instead of failing on the broken pipe.
///
/// A datagram is sent every 20 ms until it ends, as `head`'s writer would keep writing: a
/// process another test is starting at that moment may hold a copy of the pipe's read end
/// until it execs, and a write then still succeeds.
#[test]
fn receiver_piped_into_head_ends_quietly() {
    let host = harness::or_skip!(Sandbox::new());
    let (mut child, read) =
        common::start_then_close_stdout(&host, &mut Command::new(RECEIVER), |l| l == common::READY);
    assert_eq!(read, ["", common::READY]);
    let socket = host.run(|| std::net::UdpSocket::bind("0.0.0.0:0")).unwrap();
    let end = Instant::now() + common::DEADLINE;
    while child.try_wait().unwrap().is_none() && Instant::now() < end {
        socket.send_to(b"anyone?", "224.3.29.71:10000").unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(common::wait_with_deadline(child), (0, String::new()));
}

/// `sender | head -1`: the sender ends quietly when its reader has gone after the first
/// line, instead of failing on the broken pipe.
#[test]
fn sender_piped_into_head_ends_quietly() {
    let host = harness::or_skip!(Sandbox::new());
    let (child, read) = common::start_then_close_stdout(
        &host,
        Command::new(SENDER).args(["--timeout", "0.3"]),
        |_| true,
    );
    assert_eq!(read, ["sending b'very important data'"]);
    assert_eq!(common::wait_with_deadline(child), (0, String::new()));
}
