//! Shared test helpers: the two programs and the Python fixtures, run as processes inside
//! harness hosts, with their printed lines collected as they appear.

#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Host, Running};

/// Our sender binary.
pub(crate) const SENDER: &str = env!("CARGO_BIN_EXE_sender");
/// Our receiver binary.
pub(crate) const RECEIVER: &str = env!("CARGO_BIN_EXE_receiver");

/// Upper bound for anything a test waits for; only reached when something is broken.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// The line every receiver (ours and the original) prints once it has joined the group.
pub(crate) const READY: &str = "waiting to receive message";

/// Reply timeout the tests give senders: long enough that a busy machine cannot make an
/// ack late, short enough to keep the suite quick. (The article's 0.2 s is the default.)
pub(crate) const TEST_TIMEOUT: &str = "0.5";

/// A Python fixture under `tests/fixtures/`, run unbuffered by `python3`, the interpreter
/// `harness::tool(harness::Capability::Python3)` found (tests skip without one).
pub(crate) fn python(python3: &Path, fixture: &str) -> Command {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let mut command = Command::new(python3);
    command.arg("-u").arg(path);
    command
}

/// A long-running program (a receiver) inside a host, its stdout read line by line.
pub(crate) struct Program(Running);

impl Program {
    /// Starts `command` in `host`.
    pub(crate) fn start(host: &Host, command: &mut Command) -> Program {
        Program(Running::start(host, command).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts a receiver and returns once it has printed that it waits for a message,
    /// which both programs do only after joining the group.
    pub(crate) fn ready(host: &Host, command: &mut Command) -> Program {
        let mut program = Program::start(host, command);
        program.wait_until(|lines| lines.iter().any(|l| l == READY));
        program
    }

    /// Waits until the lines printed so far satisfy `done`; panics with everything the
    /// program printed (stdout and stderr) when it exits or the deadline passes first.
    pub(crate) fn wait_until(&mut self, done: impl Fn(&[String]) -> bool) -> &[String] {
        self.0
            .wait_until(done, Instant::now() + DEADLINE)
            .unwrap_or_else(|not_seen| panic!("{not_seen}"))
    }

    /// Waits until the program has printed `count` lines starting with `prefix`.
    pub(crate) fn wait_for_lines(&mut self, prefix: &str, count: usize) -> &[String] {
        self.wait_until(|lines| lines.iter().filter(|l| l.starts_with(prefix)).count() >= count)
    }

    /// Waits for the program to end on its own (bounded by [`DEADLINE`]) and returns its
    /// exit code with everything it printed.
    pub(crate) fn finish(&mut self) -> (i32, String) {
        let status = self
            .0
            .finish(Instant::now() + DEADLINE)
            .unwrap_or_else(|not_seen| panic!("{not_seen}"));
        (status.code().unwrap_or(-1), self.transcript())
    }

    /// Everything printed so far, one line each.
    pub(crate) fn transcript(&self) -> String {
        self.0.seen().join("\n")
    }

    /// What was printed up to and including the last line starting with `prefix`. A
    /// receiver goes on to print its next prompt at its own pace; this leaves it out.
    pub(crate) fn transcript_through(&self, prefix: &str) -> String {
        let seen = self.0.seen();
        let end = seen
            .iter()
            .rposition(|l| l.starts_with(prefix))
            .map_or(0, |i| i + 1);
        seen[..end].join("\n")
    }
}

/// Runs a program to completion inside `host`: (exit code, stdout, stderr).
pub(crate) fn run(host: &Host, command: &mut Command) -> (i32, String, String) {
    let output = host
        .output(command.stdin(Stdio::null()))
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Our sender with the test timeout and extra arguments, run to completion in `host`.
pub(crate) fn run_sender(host: &Host, args: &[&str]) -> (i32, String, String) {
    run(
        host,
        Command::new(SENDER)
            .args(["--timeout", TEST_TIMEOUT])
            .args(args),
    )
}

/// The lines `received ... from (...)` in a sender's output, in arrival order.
pub(crate) fn received_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.starts_with("received "))
        .collect()
}

/// The sender's output with its `received` lines sorted among themselves. Which of two
/// receivers answers first is a race; the snapshot should not depend on who won it.
pub(crate) fn in_address_order(output: &str) -> String {
    let mut lines: Vec<&str> = output.lines().collect();
    let slots: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("received "))
        .collect();
    let mut received: Vec<&str> = slots.iter().map(|&i| lines[i]).collect();
    received.sort();
    for (slot, line) in slots.into_iter().zip(received) {
        lines[slot] = line;
    }
    lines.join("\n") + "\n"
}

/// Insta filters hiding the ephemeral port a sender happened to get.
pub(crate) fn port_filters() -> Vec<(&'static str, &'static str)> {
    vec![(r"(\('[0-9a-f.:]+', )\d{4,5}(\)|, )", "${1}[port]${2}")]
}

/// Starts `command` in `host` with stdout piped, reads lines until one satisfies `until`,
/// then closes its stdout, as `| head -1` does once it has its line. Returns the child
/// (stderr piped) and the lines read.
pub(crate) fn start_then_close_stdout(
    host: &Host,
    command: &mut Command,
    until: impl Fn(&str) -> bool,
) -> (Child, Vec<String>) {
    let mut child = host
        .spawn(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let mut read = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("read a line");
        let done = until(&line);
        read.push(line);
        if done {
            break;
        }
    }
    drop(lines);
    (child, read)
}

/// Waits for `child` to end (bounded by [`DEADLINE`], which only a failure reaches):
/// its exit code and stderr.
pub(crate) fn wait_with_deadline(mut child: Child) -> (i32, String) {
    let status = harness::wait_within(&mut child, DEADLINE)
        .unwrap_or_else(|| panic!("the program did not end within {DEADLINE:?}"));
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (status.code().unwrap_or(-1), stderr)
}
