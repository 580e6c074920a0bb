//! The fan-out tool's accounting, checked in a sandbox. Nothing here is timed: the tests
//! check counts, which must be exact, never speeds.

use std::path::PathBuf;
use std::process::Command;

use harness::Sandbox;
use loopback::fanout::{FanoutConfig, Mode, PingPongConfig, run_fanout, run_pingpong};

fn program() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fanout"))
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
        let report = run_fanout(&sandbox, &config).unwrap();
        assert_eq!(report.per_receiver.len(), 3);
        for receiver in &report.per_receiver {
            let case = format!("{mode:?}, drain {drain:?}: {receiver:?}");
            assert_eq!(receiver.tally.sent, 7_000, "{case}");
            assert_eq!(receiver.tally.lost, 1_000, "{case}");
            assert_eq!(receiver.tally.unique, 6_000, "{case}");
            assert_eq!(receiver.tally.gaps, 1_000, "{case}");
            assert_eq!(
                (receiver.tally.duplicates, receiver.message_drops),
                (0, 0),
                "{case}"
            );
        }
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
        let report = run_fanout(&sandbox, &config).unwrap();
        for receiver in &report.per_receiver {
            let tally = receiver.tally;
            assert!(
                tally.lost > 0,
                "{mode:?}: a tiny held queue must overflow: {receiver:?}"
            );
            assert!(
                tally.unique > 0,
                "{mode:?}: some datagrams fit: {receiver:?}"
            );
            assert_eq!(tally.lost, receiver.message_drops, "{mode:?}: {receiver:?}");
            assert_eq!(tally.unique + tally.lost, 2_000, "{mode:?}: {receiver:?}");
        }
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
        let report = run_fanout(&sandbox, &config).unwrap();
        for receiver in &report.per_receiver {
            let tally = receiver.tally;
            assert_eq!(
                (tally.duplicates, tally.reordered, tally.out_of_range),
                (0, 0, 0),
                "{mode:?}"
            );
            if receiver.receive_buffer >= 8 << 20 {
                assert_eq!(
                    (tally.unique, tally.lost),
                    (3_000, 0),
                    "{mode:?}: {receiver:?}"
                );
            } else {
                assert_eq!(tally.lost, receiver.message_drops, "{mode:?}: {receiver:?}");
            }
        }
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

/// The command line: `run --json` prints a summary a program can read, `sweep --plot`
/// writes an SVG, both from their own sandbox.
#[test]
fn command_line_prints_json_and_draws_the_plot() {
    drop(harness::or_skip!(Sandbox::new()));
    let output = Command::new(program())
        .args([
            "run",
            "-n",
            "2",
            "--messages",
            "1000",
            "--skip-every",
            "10",
            "--json",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["receivers"], 2);
    assert_eq!(json["worst_lost"], 200, "{json}");

    let svg = std::env::temp_dir().join(format!("fanout-test-{}.svg", std::process::id()));
    let output = Command::new(program())
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
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
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

/// A bad size is refused with the value named.
#[test]
fn command_line_refuses_a_too_small_message() {
    let output = Command::new(program())
        .args(["run", "--size", "8"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("8"));
}
