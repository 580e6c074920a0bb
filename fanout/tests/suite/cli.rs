//! The fan-out tool's accounting, checked in a sandbox. Nothing here is timed: the tests
//! check counts, which must be exact, never speeds.

use std::path::PathBuf;
use std::process::{Command, Output};

use fanout::roles::ReceiverReport;
use fanout::{FanoutConfig, Mode, PingPongConfig, Placement, run_fanout, run_pingpong};
use harness::Sandbox;

fn program() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fanout"))
}

/// Runs `command` to its end; panics with its stderr unless it succeeded.
fn succeeded(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `config` in `sandbox` and checks every receiver with `check`, naming the mode.
fn each_receiver(
    sandbox: &Sandbox,
    config: &FanoutConfig,
    check: impl Fn(&ReceiverReport, &str),
) -> fanout::FanoutReport {
    let report = run_fanout(sandbox, config).unwrap();
    assert_eq!(report.per_receiver.len(), config.receivers);
    for receiver in &report.per_receiver {
        check(receiver, &format!("{:?}: {receiver:?}", config.mode));
    }
    report
}

/// Loss accounting, part one: the sender skips every 7th sequence number on purpose, and
/// every receiver counts exactly those as lost, in both modes, whether receivers block in
/// `recvmmsg` or drain their queue on a timer; the kernel dropped nothing.
#[test]
fn skipped_sequence_numbers_are_counted_as_lost_exactly() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let blocking_or_draining = [None, Some(200)];
    for (mode, drain) in [Mode::Multicast, Mode::Unicast]
        .into_iter()
        .flat_map(|m| blocking_or_draining.map(|d| (m, d)))
    {
        let mut config = FanoutConfig::new(program(), mode, 3);
        config.messages = 7_000;
        config.skip_every = Some(7);
        config.drain_every_us = drain;
        let report = each_receiver(&sandbox, &config, |receiver, case| {
            let case = format!("drain {drain:?}, {case}");
            assert_eq!(receiver.tally.sent, 7_000, "{case}");
            assert_eq!(receiver.tally.lost, 1_000, "{case}");
            assert_eq!(receiver.tally.unique, 6_000, "{case}");
            assert_eq!(receiver.tally.gaps, 1_000, "{case}");
            let clean = (receiver.tally.duplicates, receiver.message_drops);
            assert_eq!(clean, (0, 0), "{case}");
        });
        assert_eq!(report.lost, 3_000);
    }
}

/// Loss accounting, part two: receivers with the smallest receive buffer the kernel allows
/// read nothing until the sender is done, so their queues overflow. The loss counted from
/// sequence numbers equals the kernel's own drop counter for every receiver, read where the
/// messages end (`SO_RXQ_OVFL` on the first end marker, minus the markers dropped before it).
#[test]
fn overflow_losses_match_the_kernels_drop_counter() {
    let sandbox = harness::or_skip!(Sandbox::new());
    for mode in [Mode::Multicast, Mode::Unicast] {
        let mut config = FanoutConfig::new(program(), mode, 2);
        config.messages = 2_000;
        config.receive_buffer = Some(1);
        config.hold_receivers = true;
        each_receiver(&sandbox, &config, |receiver, case| {
            let tally = receiver.tally;
            assert!(tally.lost > 0, "a tiny held queue must overflow: {case}");
            assert!(tally.unique > 0, "some datagrams fit: {case}");
            assert_eq!(tally.lost, receiver.message_drops, "{case}");
            assert_eq!(tally.unique + tally.lost, 2_000, "{case}");
        });
    }
}

/// With queues big enough for the whole run, every message reaches every receiver once and
/// in order, in both modes. (Where the kernel grants less than the 8 MiB asked for, as
/// without root, the run may overflow; then the loss must still match the kernel's count.)
#[test]
fn every_message_reaches_every_receiver_once_in_order() {
    let sandbox = harness::or_skip!(Sandbox::new());
    for mode in [Mode::Multicast, Mode::Unicast] {
        let mut config = FanoutConfig::new(program(), mode, 4);
        config.messages = 3_000;
        let report = each_receiver(&sandbox, &config, |receiver, case| {
            let tally = receiver.tally;
            let wrong = (tally.duplicates, tally.reordered, tally.out_of_range);
            assert_eq!(wrong, (0, 0, 0), "{case}");
            if receiver.receive_buffer >= 8 << 20 {
                assert_eq!((tally.unique, tally.lost), (3_000, 0), "{case}");
            } else {
                assert_eq!(tally.lost, receiver.message_drops, "{case}");
            }
        });
        assert!(report.sender_cpu_ns > 0);
    }
}

/// Ping-pong answers every round trip and the percentiles come out ordered.
#[test]
fn pingpong_times_every_round_trip() {
    let sandbox = harness::or_skip!(Sandbox::new());
    for mode in [Mode::Multicast, Mode::Unicast] {
        let mut config = PingPongConfig::new(program(), mode);
        config.round_trips = 300;
        config.warm_up = 10;
        let report = run_pingpong(&sandbox, &config).unwrap();
        assert_eq!((report.round_trips, report.lost), (300, 0), "{mode:?}");
        assert!(
            0.0 < report.p50_us
                && report.p50_us <= report.p99_us
                && report.p99_us <= report.p999_us,
            "{report:?}"
        );
    }
}

/// `pingpong` runs both modes at each placement in every round and says where client and
/// echo ran beside every figure, then a median with the range of the rounds.
#[test]
fn pingpong_prints_placement_and_range_for_every_round() {
    drop(harness::or_skip!(Sandbox::new()));
    let output = succeeded(Command::new(program()).args([
        "pingpong",
        "--runs",
        "2",
        "--round-trips",
        "50",
        "--quiet",
    ]));
    let text = String::from_utf8_lossy(&output.stdout);
    for placement in [Placement::Same, Placement::Split] {
        let at = placement.round_trip_label();
        for mode in ["multicast", "unicast  "] {
            for round in [1, 2] {
                let line = format!("round {round} ping-pong {mode} {at}: p50 ");
                assert!(text.contains(&line), "no `{line}` in:\n{text}");
            }
            let summary = format!("ping-pong {mode} {at}, median [range] of 2 rounds: p50 ");
            assert!(text.contains(&summary), "no `{summary}` in:\n{text}");
        }
    }
    assert_eq!(text.lines().count(), 2 * 2 * 2 + 2 * 2, "{text}");
}

/// The command line: `run --json` prints a summary a program can read, `sweep --plot`
/// writes an SVG, both from their own sandbox.
#[test]
fn command_line_prints_json_and_draws_the_plot() {
    drop(harness::or_skip!(Sandbox::new()));
    let output = succeeded(Command::new(program()).args([
        "run",
        "-n",
        "2",
        "--messages",
        "1000",
        "--skip-every",
        "10",
        "--json",
        "--quiet",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["receivers"], 2);
    assert_eq!(json["worst_lost"], 200, "{json}");

    let svg = std::env::temp_dir().join(format!("fanout-test-{}.svg", std::process::id()));
    let output = succeeded(
        Command::new(program())
            .args([
                "sweep",
                "--receivers",
                "1,2",
                "--messages",
                "500",
                "--runs",
                "1",
                "--round-trips",
                "50",
                "--quiet",
            ])
            .arg("--plot")
            .arg(&svg),
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("multicast N=2") && text.contains("unicast   N=2"),
        "{text}"
    );
    let drawn = std::fs::read_to_string(&svg).unwrap();
    std::fs::remove_file(&svg).unwrap();
    assert!(
        drawn.starts_with("<svg") && drawn.contains("N×unicast"),
        "{}",
        &drawn[..drawn.len().min(300)]
    );
}

/// The one line the command line prints for `arguments`, which it must refuse before
/// building anything.
fn refusal(arguments: &[&str]) -> String {
    let output = Command::new(program()).args(arguments).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{arguments:?} should be refused"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    stderr.lines().next().unwrap_or_default().to_string()
}

/// Settings a run cannot honour are refused with one line naming the value and what was
/// expected: a message too small for its header, no pacing at all (rate 0), a group that is
/// not an IPv4 multicast group with a port, more messages than a receiver can count, and a
/// receive buffer the kernel could not grant; and for the receiver and echo roles, port 0,
/// an empty batch and a size that would allocate without bound.
#[test]
fn command_line_refuses_what_a_run_cannot_honour() {
    let cases: [(&[&str], &str); 11] = [
        (
            &["run", "--size", "8"],
            "error: invalid value '8' for '--size <SIZE>': 8 is not in 16..=65000",
        ),
        (
            &["run", "--rate", "0"],
            "error: invalid value '0' for '--rate <RATE>': 0 is not in 1..18446744073709551615",
        ),
        (
            &["run", "--group", "239.255.16.17:0"],
            "error: invalid value '239.255.16.17:0' for '--group <GROUP>': [..]",
        ),
        (
            &["run", "--group", "10.0.0.1:6868"],
            "error: invalid value '10.0.0.1:6868' for '--group <GROUP>': 10.0.0.1 is not a multicast address [..]",
        ),
        (
            &["run", "--group", "[ff15::1:8]:6868"],
            "error: invalid value '[ff15::1:8]:6868' for '--group <GROUP>': `[ff15::1:8]:6868` is an IPv6 group [..]",
        ),
        (
            &["run", "--messages", "67108865"],
            "error: invalid value '67108865' for '--messages <MESSAGES>': 67108865 is not in 1..=67108864",
        ),
        (
            &["run", "--receive-buffer", "2048M"],
            "error: invalid value '2048M' for '--receive-buffer <RECEIVE_BUFFER>': `2048M` is too large a receive buffer (at most 1024M)",
        ),
        (
            &["run", "--receive-buffer", "99999999999999999999K"],
            "error: invalid value '99999999999999999999K' for '--receive-buffer <RECEIVE_BUFFER>': `99999999999999999999K` is not a size (expected bytes, or a number with K or M)",
        ),
        // The roles' own flags: a batch or a buffer size they could not allocate.
        (
            &["receive", "--group", "239.255.16.17:0"],
            "error: invalid value '239.255.16.17:0' for '--group <GROUP>': port 0 cannot be a group's port (expected 1 to 65535)",
        ),
        (
            &["receive", "--unicast", "--batch", "0"],
            "error: invalid value '0' for '--batch <BATCH>': 0 is not in 1..=1024",
        ),
        (
            &["echo", "--unicast", "--size", "100000000000"],
            "error: invalid value '100000000000' for '--size <SIZE>': 100000000000 is not in 16..=65535",
        ),
    ];
    for (arguments, expected) in cases {
        let line = refusal(arguments);
        let matches = match expected.split_once("[..]") {
            Some((start, end)) => line.starts_with(start) && line.ends_with(end),
            None => line == expected,
        };
        assert!(
            matches,
            "{arguments:?}:\n  got      {line}\n  expected {expected}"
        );
    }
}

/// A receiver that dies before it is ready is named in the error, with its exit status,
/// instead of leaving the run waiting for a line that never comes.
#[test]
fn a_receiver_that_dies_is_named_with_its_status() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let config = FanoutConfig::new(PathBuf::from("/bin/false"), Mode::Multicast, 2);
    let error = run_fanout(&sandbox, &config).unwrap_err().to_string();
    assert_eq!(
        error,
        "receiver 0 exited (exit status: 1) before sending `ready <port>`"
    );
}

/// Waits for `child` to end (bounded by a deadline only a failure reaches) and returns its
/// exit code and stderr.
fn finished(mut child: std::process::Child) -> (Option<i32>, String) {
    use std::io::Read;
    let status = harness::wait_within(&mut child, std::time::Duration::from_secs(20))
        .expect("the program did not end");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

/// `fanout run | head -1`: when the reader has its line and goes, the tool ends quietly
/// with status 0 (no broken-pipe panic, and its receivers die with it); so does a receiver
/// whose parent stopped reading before its report.
#[test]
fn output_piped_into_head_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let sandbox = harness::or_skip!(Sandbox::new());
    let mut run = Command::new(program())
        .args(["run", "--messages", "1000", "--runs", "3", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(run.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    assert_eq!(finished(run), (Some(0), String::new()));

    let group = "239.255.16.17:6868";
    let mut receiver = sandbox
        .spawn(
            Command::new(program())
                .args(["receive", "--group", group])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .unwrap();
    let mut ready = String::new();
    BufReader::new(receiver.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready 6868\n");
    sandbox.run(|| {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut marker = [0u8; fanout::wire::END_LENGTH];
        fanout::wire::encode_end(&mut marker, 0, 0);
        socket.send_to(&marker, group).unwrap();
    });
    assert_eq!(finished(receiver), (Some(0), String::new()));
}
