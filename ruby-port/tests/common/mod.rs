//! Helpers shared by the integration tests: running the crate's programs inside
//! a harness host and reading their output line by line with a deadline.

#![allow(dead_code)]

pub mod hostile;
pub mod tmux;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use harness::Host;

/// How long a test waits for something that should happen at once; only a
/// failing test ever waits this long.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// One of the crate's programs running inside a host, with its output collected.
pub struct Program {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    pub seen_stdout: Vec<String>,
    pub seen_stderr: Vec<String>,
}

/// Starts `binary` (a `CARGO_BIN_EXE_*` path) with `args` inside `host`.
pub fn start(host: &Host, binary: &str, args: &[&str]) -> Program {
    let mut child = host
        .spawn(
            Command::new(binary)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Program {
        stdin: child.stdin.take(),
        child,
        stdout,
        stderr,
        seen_stdout: Vec::new(),
        seen_stderr: Vec::new(),
    }
}

fn lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Program {
    /// Waits for the next stdout line; panics with everything seen if none comes.
    pub fn stdout_line(&mut self) -> String {
        match self.stdout.recv_timeout(DEADLINE) {
            Ok(line) => {
                self.seen_stdout.push(line.clone());
                line
            }
            Err(e) => panic!(
                "{self:?}\nno stdout line within {DEADLINE:?} ({e})",
                self = self.report()
            ),
        }
    }

    /// Waits for the next stderr line.
    pub fn stderr_line(&mut self) -> String {
        match self.stderr.recv_timeout(DEADLINE) {
            Ok(line) => {
                self.seen_stderr.push(line.clone());
                line
            }
            Err(e) => panic!(
                "{}\nno stderr line within {DEADLINE:?} ({e})",
                self.report()
            ),
        }
    }

    /// Waits until a stderr line contains `needle`.
    pub fn wait_stderr(&mut self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Ok(line) = self.stderr.recv_timeout(end - Instant::now()) {
                self.seen_stderr.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
        }
        panic!("{}\nno stderr line containing {needle:?}", self.report())
    }

    /// Stdout lines that arrive within `window` (used to show that nothing more comes).
    pub fn more_stdout(&mut self, window: Duration) -> Vec<String> {
        let end = Instant::now() + window;
        let mut more = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.stdout.recv_timeout(left) {
                Ok(line) => more.push(line),
                Err(_) => break,
            }
        }
        self.seen_stdout.extend(more.iter().cloned());
        more
    }

    /// Writes one line to the program's stdin.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("writing to the program");
        stdin.flush().unwrap();
    }

    /// Waits for the program to exit (closing its stdin first) and returns its status code.
    pub fn finish(&mut self) -> Option<i32> {
        drop(self.stdin.take());
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Collect what is left on the pipes.
                self.seen_stdout.extend(self.stdout.try_iter());
                self.seen_stderr.extend(self.stderr.try_iter());
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "{}\nthe program did not exit within {DEADLINE:?}",
            self.report()
        )
    }

    /// What the program printed so far, for failure messages.
    pub fn report(&mut self) -> String {
        self.seen_stdout.extend(self.stdout.try_iter());
        self.seen_stderr.extend(self.stderr.try_iter());
        format!(
            "stdout so far: {:#?}\nstderr so far: {:#?}",
            self.seen_stdout, self.seen_stderr
        )
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command | head -1` in bash inside `host`, waits for `ready` on the
/// command's stderr, then calls `poke` (which should make the command print a
/// line) until the pipeline ends. Returns the command's exit status as bash's
/// `PIPESTATUS` saw it and everything the command wrote to stderr.
pub fn piped_into_head(
    host: &Host,
    command: &str,
    ready: &str,
    poke: impl Fn(),
) -> (String, String) {
    let script = format!("{command} | head -1 >/dev/null; echo \"status ${{PIPESTATUS[0]}}\" >&2");
    let mut program = {
        let mut child = host
            .spawn(
                Command::new("bash")
                    .args(["-c", &script])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped()),
            )
            .expect("starting bash");
        let stderr = lines(child.stderr.take().unwrap());
        Program {
            stdin: child.stdin.take(),
            child,
            stdout: channel().1,
            stderr,
            seen_stdout: Vec::new(),
            seen_stderr: Vec::new(),
        }
    };
    program.wait_stderr(ready);
    let end = Instant::now() + DEADLINE;
    while program.child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            panic!("{}\n`{command} | head -1` did not end", program.report());
        }
        poke();
        std::thread::sleep(Duration::from_millis(20));
    }
    program.seen_stderr.extend(program.stderr.try_iter());
    let stderr = program.seen_stderr.join("\n");
    let status = stderr
        .lines()
        .find_map(|l| l.strip_prefix("status "))
        .unwrap_or("?")
        .to_string();
    (status, stderr)
}
