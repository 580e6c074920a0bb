//! The `diary` command: its fixed listener and client talk to each other in a sandbox,
//! and its `original` subcommand replays the diary's test, IPv4 passing, IPv6 hanging.

use crate::common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Family;
use harness::Sandbox;

fn diary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_diary"))
}

/// Redacts what changes from run to run: ephemeral ports and the interface index.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    // Link-local addresses first: their hex groups would otherwise pass for ports.
    settings.add_filter(r"fe80::[0-9a-f:]+", "[link-local]");
    settings.add_filter(r"(\d|\]):\d{4,5}\b", "$1:[port]");
    settings.add_filter(r"%\d+", "%[index]");
    settings.add_filter(r"index \d+", "index [n]");
    settings
}

/// `diary respond` is ready once it prints its first line; `diary ask` gets the family's
/// name back; both say where: the group, the interface, the bind address, the sender.
#[rstest::rstest]
#[case::ipv4(Family::V4)]
#[case::ipv6(Family::V6)]
fn respond_and_ask_commands_talk(#[case] family: Family) {
    let host = harness::or_skip!(Sandbox::new());
    let group = family.group().to_string();
    let interface = family.interface_name();

    let mut responder = host
        .spawn(
            diary()
                .args([
                    "respond",
                    "--group",
                    &group,
                    "--interface",
                    interface,
                    "--count",
                    "1",
                ])
                .stdout(Stdio::piped()),
        )
        .expect("diary respond starts");
    let mut out = BufReader::new(responder.stdout.take().unwrap());
    let mut ready = String::new();
    out.read_line(&mut ready).unwrap();

    let asked = host
        .output(diary().args(["ask", "--group", &group, "--interface", interface]))
        .expect("diary ask runs");
    assert!(
        asked.status.success(),
        "{}",
        String::from_utf8_lossy(&asked.stderr)
    );

    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(
        responder.wait().unwrap().success(),
        "respond exits after one answer"
    );

    let transcript = format!(
        "$ diary respond --group {group} --interface {interface} --count 1\n{ready}{rest}\
         $ diary ask --group {group} --interface {interface}\n{}",
        String::from_utf8_lossy(&asked.stdout)
    );
    settings().bind(|| insta::assert_snapshot!(family.name(), transcript));
}

/// `diary original ipv4` is the diary's IPv4 test, and it passes.
#[test]
fn original_ipv4_command_passes() {
    let host = harness::or_skip!(Sandbox::new());
    let run = host.output(diary().args(["original", "ipv4"])).unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for line in [
        "ipv4:server: joined: 224.0.0.123:7645",
        "ipv4:client: running",
        "ipv4:client: got data: ipv4",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?} in:\n{stdout}"
        );
    }
}

/// `diary original ipv6` never ends: its listener thread dies at the bind (`EINVAL`,
/// printed by the panic) and the main thread waits at the barrier for ever.
#[test]
fn original_ipv6_command_hangs_after_its_listener_dies() {
    let host = harness::or_skip!(Sandbox::new());
    let mut run = host
        .spawn(diary().args(["original", "ipv6"]).stderr(Stdio::piped()))
        .unwrap();
    let mut stderr = BufReader::new(run.stderr.take().unwrap());
    let mut panic = String::new();
    while !panic.contains("failed to create listener") {
        let mut line = String::new();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "stderr closed: {panic}"
        );
        panic.push_str(&line);
    }
    assert!(panic.contains("thread 'ipv6:server'"), "{panic}");
    assert!(
        panic.contains("Os { code: 22, kind: InvalidInput"),
        "{panic}"
    );
    // The listener is dead, so the barrier can never open: the process is still there.
    assert!(run.try_wait().unwrap().is_none(), "the process ended");
    run.kill().unwrap();
    run.wait().unwrap();
}

/// What `diary --help` tells a reader.
#[test]
fn help_lists_the_three_commands() {
    let help = diary().arg("--help").output().unwrap();
    assert!(help.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&help.stdout));
}

/// `diary respond | head -1`: once the reader has its line and goes, the responder ends
/// quietly at the next datagram (status 0, nothing on stderr), where `println!` panicked.
/// A port of 0 and a zero timeout are refused, naming the value.
#[test]
fn respond_piped_into_head_ends_quietly() {
    let host = harness::or_skip!(Sandbox::new());
    let group = Family::V4.group().to_string();
    let mut responder = host
        .spawn(
            diary()
                .args(["respond", "--group", &group])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .expect("diary respond starts");
    let mut first = String::new();
    BufReader::new(responder.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("listening on"), "{first}");
    // The reader is gone: the next line the responder prints meets a closed pipe. It is
    // asked again until it ends: a process another test is starting at that moment may hold
    // a copy of the pipe's read end until it execs, and that write still succeeds.
    let asked = host
        .output(diary().args(["ask", "--group", &group]))
        .expect("diary ask runs");
    assert!(asked.status.success());
    // Between asks the responder has 200 ms to end (polled, never killed: `wait_within`
    // kills at its deadline, and a responder killed for being slow under load read as one
    // that died of the closed pipe).
    let end = Instant::now() + common::DEADLINE;
    let mut next_ask = Instant::now() + Duration::from_millis(200);
    while responder.try_wait().unwrap().is_none() && Instant::now() < end {
        if Instant::now() >= next_ask {
            // Whether this one is answered depends on when the responder ends: not checked.
            let _ = host.output(diary().args(["ask", "--group", &group]));
            next_ask = Instant::now() + Duration::from_millis(200);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let status =
        harness::wait_within(&mut responder, common::DEADLINE).expect("respond did not end");
    let mut stderr = String::new();
    responder
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
}

/// A group on port 0 and a zero timeout are refused with one line naming the value and
/// what was expected.
#[test]
fn bad_values_are_refused_naming_them() {
    for (args, expected) in [
        (
            &["respond", "--group", "224.0.0.123:0"][..],
            "error: invalid value '224.0.0.123:0' for '--group <GROUP>': port 0 cannot be a group's port (expected 1 to 65535)",
        ),
        (
            &["ask", "--timeout-ms", "0"][..],
            "error: invalid value '0' for '--timeout-ms <TIMEOUT_MS>': 0 is not in 1..18446744073709551615",
        ),
    ] {
        let output = diary().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().next(), Some(expected), "{args:?}");
    }
}

/// `diary original ipv4 | head -1` ends quietly: when the diary's own `println!`s meet a
/// closed pipe, the process ends by SIGPIPE as a C program would (status 141 in the shell;
/// 0 when it finished printing before `head` left), with nothing on stderr: no panic.
#[test]
fn original_piped_into_head_ends_quietly() {
    let host = harness::or_skip!(Sandbox::new());
    let out = host
        .output(Command::new("bash").args([
            "-c",
            &format!(
                "'{}' original ipv4 | head -1; exit ${{PIPESTATUS[0]}}",
                env!("CARGO_BIN_EXE_diary")
            ),
        ]))
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 141)),
        "{:?}: {stderr}",
        out.status
    );
    assert_eq!(stderr, "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ipv4:server: joined: 224.0.0.123:7645\n"
    );
}
