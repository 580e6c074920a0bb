//! Running a program in a host and reading what it prints, line by line, as it comes.
//!
//! A test that starts a receiver waits for its "ready" line, sends, then waits for the line
//! that shows the datagram arrived. [`Running`] is that loop done once: a thread per pipe
//! reads lines into a channel, so every wait is bounded by a deadline the test gives (reached
//! only when something is broken), and a failed wait returns [`NotSeen`], which carries
//! everything the program printed so far. The program is killed when its `Running` is
//! dropped, so a failing test leaves nothing behind.
//!
//! ```no_run
//! use std::process::Command;
//! use std::time::{Duration, Instant};
//! use harness::{Running, Sandbox};
//!
//! let host = harness::or_skip!(Sandbox::new());
//! let mut program = Running::start(&host, Command::new("sh").args(["-c", "echo ready"]))
//!     .unwrap();
//! let deadline = Instant::now() + Duration::from_secs(5);
//! assert_eq!(program.wait_for_line("ready", deadline).unwrap(), "ready");
//! ```

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::Host;
use crate::error::Context;

/// How long a report waits for the rest of a pipe once its program has ended.
const REST_OF_PIPE: Duration = Duration::from_secs(1);

/// A program started in a host, its stdout and stderr read line by line as they come.
///
/// Lines a wait takes from stdout are kept in order ([`Running::seen`]), as are stderr lines
/// ([`Running::seen_stderr`]). Dropping it kills the program.
pub struct Running {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    seen: Vec<String>,
    seen_stderr: Vec<String>,
}

impl Running {
    /// Starts `command` in `host` with its stdin empty (`/dev/null`) and both output pipes
    /// read.
    pub fn start(host: &Host, command: &mut Command) -> crate::Result<Running> {
        Running::spawn(Some(host), command.stdin(Stdio::null()), |_| true)
    }

    /// Starts `command` in `host` with a pipe to its stdin, for [`Running::type_line`].
    pub fn start_with_stdin(host: &Host, command: &mut Command) -> crate::Result<Running> {
        Running::spawn(Some(host), command.stdin(Stdio::piped()), |_| true)
    }

    /// Starts `command` in `host` and shows each stdout line to `keep` as it is read; only
    /// the lines it returns true for are queued for the waits. A program that prints a line
    /// per datagram through a flood is watched this way without keeping every line. Its
    /// stdin is what `command` says (a pipe is held open until [`Running::close_stdin`];
    /// unset, it is this process's).
    pub fn start_filtered(
        host: &Host,
        command: &mut Command,
        keep: impl FnMut(&str) -> bool + Send + 'static,
    ) -> crate::Result<Running> {
        Running::spawn(Some(host), command, keep)
    }

    /// Starts `command` in this process's own namespaces, with a pipe to its stdin: for a
    /// program that makes hosts of its own, as the `lab` does, never for one that joins a
    /// group or sends to one.
    pub fn start_here(command: &mut Command) -> crate::Result<Running> {
        Running::spawn(None, command.stdin(Stdio::piped()), |_| true)
    }

    fn spawn(
        host: Option<&Host>,
        command: &mut Command,
        keep: impl FnMut(&str) -> bool + Send + 'static,
    ) -> crate::Result<Running> {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let (what, child) = match host {
            Some(host) => (
                format!("{command:?} in host {}", host.name()),
                host.spawn(command),
            ),
            None => (format!("{command:?}"), command.spawn()),
        };
        let mut child = child.doing(|| format!("starting {what}"))?;
        let stdout = lines(child.stdout.take().expect("stdout is piped"), keep);
        let stderr = lines(child.stderr.take().expect("stderr is piped"), |_| true);
        Ok(Running {
            what,
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            seen: Vec::new(),
            seen_stderr: Vec::new(),
        })
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The program's exit status if it has ended, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// The stdout lines the waits have taken so far, in order.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The stderr lines printed so far, in order (those already read, without waiting).
    pub fn seen_stderr(&mut self) -> &[String] {
        self.seen_stderr.extend(self.stderr.try_iter());
        &self.seen_stderr
    }

    /// The next stdout line, waiting for it until `deadline`.
    pub fn next_line(&mut self, deadline: Instant) -> Result<String, NotSeen> {
        self.wait_for(|_| true, deadline)
            .map_err(|e| e.wanting("another line"))
    }

    /// Waits until `deadline` for a stdout line that starts with `prefix`, and returns it.
    pub fn wait_for_line(&mut self, prefix: &str, deadline: Instant) -> Result<String, NotSeen> {
        self.wait_for(|line| line.starts_with(prefix), deadline)
            .map_err(|e| e.wanting(&format!("a line starting with {prefix:?}")))
    }

    /// Waits until `deadline` for a stdout line satisfying `wanted`, and returns it. The
    /// lines read before it are kept in [`Running::seen`].
    pub fn wait_for(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        deadline: Instant,
    ) -> Result<String, NotSeen> {
        take_until(&self.stdout, &mut self.seen, wanted, deadline)
            .map_err(|error| self.not_seen("the line wanted", error))
    }

    /// Waits until `deadline` for the stdout lines seen so far to satisfy `done`, and
    /// returns them all.
    pub fn wait_until(
        &mut self,
        done: impl Fn(&[String]) -> bool,
        deadline: Instant,
    ) -> Result<&[String], NotSeen> {
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(error) => return Err(self.not_seen("what was expected", error)),
            }
        }
        Ok(&self.seen)
    }

    /// The next stderr line, waiting for it until `deadline`.
    pub fn next_stderr_line(&mut self, deadline: Instant) -> Result<String, NotSeen> {
        self.wait_for_stderr(|_| true, deadline)
            .map_err(|e| e.wanting("another line on stderr"))
    }

    /// Waits until `deadline` for a stderr line satisfying `wanted`, and returns it.
    pub fn wait_for_stderr(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        deadline: Instant,
    ) -> Result<String, NotSeen> {
        take_until(&self.stderr, &mut self.seen_stderr, wanted, deadline)
            .map_err(|error| self.not_seen("the stderr line wanted", error))
    }

    /// The stdout lines that arrive within `window`: how a test shows that nothing more
    /// comes (the window is the claim, not a bound on failure).
    pub fn lines_within(&mut self, window: Duration) -> Vec<String> {
        let end = Instant::now() + window;
        let mut more = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.stdout.recv_timeout(left) {
                Ok(line) => more.push(line),
                Err(_) => break,
            }
        }
        self.seen.extend(more.iter().cloned());
        more
    }

    /// Writes `line` and a newline to the program's stdin (see
    /// [`Running::start_with_stdin`]).
    pub fn type_line(&mut self, line: &str) -> io::Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| {
            io::Error::new(io::ErrorKind::BrokenPipe, "the program's stdin is closed")
        })?;
        writeln!(stdin, "{line}")?;
        stdin.flush()
    }

    /// Closes the program's stdin: it reads end of file.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Closes its stdin and waits until `deadline` for the program to end and both its
    /// pipes to close; every line it printed is then in [`Running::seen`] and
    /// [`Running::seen_stderr`].
    pub fn finish(&mut self, deadline: Instant) -> Result<ExitStatus, NotSeen> {
        self.close_stdin();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(error) => return Err(self.not_seen("its end", error)),
            }
        }
        self.rest_of_stderr(deadline);
        let left = deadline.saturating_duration_since(Instant::now());
        match crate::wait_within(&mut self.child, left) {
            Some(status) => Ok(status),
            None => Err(self.not_seen("its end", RecvTimeoutError::Timeout)),
        }
    }

    /// Kills the program (if it is still running) and reads what is left of its stderr:
    /// everything it printed there.
    pub fn kill(&mut self) -> &[String] {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.rest_of_stderr(Instant::now() + REST_OF_PIPE);
        &self.seen_stderr
    }

    /// Reads stderr lines until the pipe closes or `deadline` passes.
    fn rest_of_stderr(&mut self, deadline: Instant) {
        while let Ok(line) = self
            .stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen_stderr.push(line);
        }
    }

    fn not_seen(&mut self, wanted: &str, error: RecvTimeoutError) -> NotSeen {
        let ended = error == RecvTimeoutError::Disconnected;
        if ended {
            // Its stdout closed: the program ended, so the rest of stderr comes at once.
            self.rest_of_stderr(Instant::now() + REST_OF_PIPE);
        } else {
            self.seen_stderr.extend(self.stderr.try_iter());
        }
        NotSeen {
            what: self.what.clone(),
            wanted: wanted.to_string(),
            ended,
            stdout: self.seen.clone(),
            stderr: self.seen_stderr.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Takes lines from `lines` into `seen` until one satisfies `wanted` (returned) or `deadline`
/// passes or the pipe closes (the error says which).
fn take_until(
    lines: &Receiver<String>,
    seen: &mut Vec<String>,
    wanted: impl Fn(&str) -> bool,
    deadline: Instant,
) -> Result<String, RecvTimeoutError> {
    loop {
        let line = lines.recv_timeout(deadline.saturating_duration_since(Instant::now()))?;
        seen.push(line.clone());
        if wanted(&line) {
            return Ok(line);
        }
    }
}

/// Reads `pipe` line by line on a thread; the lines `keep` accepts come out of the channel.
/// Bytes that are not UTF-8 are replaced (U+FFFD), so a hostile line is still a line.
fn lines(
    pipe: impl Read + Send + 'static,
    mut keep: impl FnMut(&str) -> bool + Send + 'static,
) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pipe = BufReader::new(pipe);
        let mut raw = Vec::new();
        while pipe.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&raw);
            let line = line.strip_suffix('\n').unwrap_or(&line).to_string();
            raw.clear();
            if keep(&line) && tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A wait of [`Running`] that failed: the program ended, or the deadline passed, before it
/// printed what was wanted. It carries everything the program printed until then.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotSeen {
    /// The program and its host, as `"receiver" in host b`.
    pub what: String,
    /// What the wait was for.
    pub wanted: String,
    /// True when the program's stdout closed (it ended); false when the deadline passed.
    pub ended: bool,
    /// The stdout lines read until then.
    pub stdout: Vec<String>,
    /// The stderr lines read until then.
    pub stderr: Vec<String>,
}

impl NotSeen {
    fn wanting(mut self, wanted: &str) -> NotSeen {
        self.wanted = wanted.to_string();
        self
    }
}

impl fmt::Display for NotSeen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = if self.ended {
            "before it ended"
        } else {
            "before the deadline"
        };
        writeln!(f, "{} did not print {} {when}.", self.what, self.wanted)?;
        writeln!(f, "stdout:")?;
        for line in &self.stdout {
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "stderr:")?;
        for line in &self.stderr {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// The same as `Display`: a test that unwraps a wait shows the program's lines, one a row.
impl fmt::Debug for NotSeen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for NotSeen {}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    /// `sh -c SCRIPT`, started in `host`.
    fn sh(host: &Host, script: &str) -> Running {
        Running::start(host, Command::new("sh").args(["-c", script])).unwrap()
    }

    /// Lines come one by one as the program prints them; stdout and stderr apart.
    #[test]
    fn lines_are_read_as_they_come_and_kept_in_order() {
        let host = crate::or_skip!(crate::Sandbox::new());
        let mut program = sh(&host, "echo one; echo two; echo oops >&2; echo three");
        assert_eq!(program.wait_for_line("tw", soon()).unwrap(), "two");
        assert_eq!(program.next_line(soon()).unwrap(), "three");
        assert!(program.finish(soon()).unwrap().success());
        assert_eq!(program.seen(), ["one", "two", "three"]);
        assert_eq!(program.seen_stderr(), ["oops"]);
    }

    /// A failed wait says why (the program ended) and shows all it printed, one line a row.
    #[test]
    fn a_line_never_printed_is_reported_with_what_was() {
        let host = crate::or_skip!(crate::Sandbox::new());
        let mut program = sh(&host, "echo hello; echo trouble >&2");
        let not_seen = program.wait_for_line("bye", soon()).unwrap_err();
        assert!(not_seen.ended);
        assert_eq!(not_seen.stdout, ["hello"]);
        assert_eq!(not_seen.stderr, ["trouble"]);
        let shown = not_seen.to_string();
        assert!(shown.contains("did not print a line starting with \"bye\" before it ended"));
        assert_eq!(format!("{not_seen:?}"), shown);
    }

    /// A deadline bounds the wait, not the program: it is still running afterwards.
    #[test]
    fn a_wait_ends_at_its_deadline_while_the_program_runs_on() {
        let host = crate::or_skip!(crate::Sandbox::new());
        let mut program = Running::start(&host, Command::new("sleep").arg("60")).unwrap();
        let not_seen = program
            .next_line(Instant::now() + Duration::from_millis(50))
            .unwrap_err();
        assert!(!not_seen.ended);
        assert!(program.try_wait().unwrap().is_none());
    }

    /// A piped stdin reaches the program; a filter keeps only the lines a test waits for.
    #[test]
    fn typed_lines_reach_the_program_and_filtered_lines_are_dropped() {
        let host = crate::or_skip!(crate::Sandbox::new());
        let mut cat = Running::start_with_stdin(&host, &mut Command::new("cat")).unwrap();
        cat.type_line("typed").unwrap();
        assert_eq!(cat.next_line(soon()).unwrap(), "typed");
        assert!(cat.finish(soon()).unwrap().success());

        let mut odd = Running::start_filtered(
            &host,
            Command::new("seq").arg("5").stdin(Stdio::null()),
            |line| line.parse::<u32>().is_ok_and(|n| n % 2 == 1),
        )
        .unwrap();
        odd.finish(soon()).unwrap();
        assert_eq!(odd.seen(), ["1", "3", "5"]);
    }
}
