//! Helpers shared by the integration tests: running the crate's programs inside
//! a harness host and reading their output line by line with a deadline.

#![allow(dead_code)]

pub(crate) mod hostile;
pub(crate) mod tmux;

use std::process::Command;
use std::time::{Duration, Instant};

use harness::{Host, Running};

/// How long a test waits for something that should happen at once; only a
/// failing test ever waits this long.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

/// One of the crate's programs running inside a host, with its output collected.
pub(crate) struct Program(Running);

/// Starts `binary` (a `CARGO_BIN_EXE_*` path) with `args` inside `host`.
pub(crate) fn start(host: &Host, binary: &str, args: &[&str]) -> Program {
    Program(
        Running::start_with_stdin(host, Command::new(binary).args(args))
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

/// The deadline of a wait starting now.
fn deadline() -> Instant {
    Instant::now() + DEADLINE
}

impl Program {
    /// Waits for the next stdout line; panics with everything seen if none comes.
    pub(crate) fn stdout_line(&mut self) -> String {
        self.0
            .next_line(deadline())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits for the next stderr line.
    pub(crate) fn stderr_line(&mut self) -> String {
        self.0
            .next_stderr_line(deadline())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits until a stderr line contains `needle`.
    pub(crate) fn wait_stderr(&mut self, needle: &str) -> String {
        self.0
            .wait_for_stderr(|line| line.contains(needle), deadline())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Stdout lines that arrive within `window` (used to show that nothing more comes).
    pub(crate) fn more_stdout(&mut self, window: Duration) -> Vec<String> {
        self.0.lines_within(window)
    }

    /// The stdout lines read so far.
    pub(crate) fn seen_stdout(&self) -> &[String] {
        self.0.seen()
    }

    /// Writes one line to the program's stdin.
    pub(crate) fn type_line(&mut self, line: &str) {
        self.0.type_line(line).expect("writing to the program");
    }

    /// Waits for the program to exit (closing its stdin first) and returns its status code.
    pub(crate) fn finish(&mut self) -> Option<i32> {
        self.0
            .finish(deadline())
            .unwrap_or_else(|e| panic!("{e}"))
            .code()
    }

    /// What the program printed so far, for failure messages.
    pub(crate) fn report(&mut self) -> String {
        let stderr = self.0.seen_stderr().to_vec();
        format!(
            "stdout so far: {:#?}\nstderr so far: {stderr:#?}",
            self.0.seen()
        )
    }
}

/// Runs `command | head -1` in bash inside `host`, waits for `ready` on the
/// command's stderr, then calls `poke` (which should make the command print a
/// line) until the pipeline ends. Returns the command's exit status as bash's
/// `PIPESTATUS` saw it and everything the command wrote to stderr.
pub(crate) fn piped_into_head(
    host: &Host,
    command: &str,
    ready: &str,
    poke: impl Fn(),
) -> (String, String) {
    let script = format!("{command} | head -1 >/dev/null; echo \"status ${{PIPESTATUS[0]}}\" >&2");
    let mut bash = Running::start_with_stdin(host, Command::new("bash").args(["-c", &script]))
        .expect("starting bash");
    bash.wait_for_stderr(|line| line.contains(ready), deadline())
        .unwrap_or_else(|e| panic!("{e}"));
    let end = deadline();
    while bash.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            panic!(
                "`{command} | head -1` did not end; stderr so far: {:#?}",
                bash.seen_stderr()
            );
        }
        poke();
        std::thread::sleep(Duration::from_millis(20));
    }
    bash.finish(end).unwrap_or_else(|e| panic!("{e}"));
    let stderr = bash.seen_stderr().join("\n");
    let status = stderr
        .lines()
        .find_map(|l| l.strip_prefix("status "))
        .unwrap_or("?")
        .to_string();
    (status, stderr)
}
