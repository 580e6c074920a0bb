//! Watching a program through a flood: its output read as it comes (counted and checked
//! for control characters, never all kept), and its resident memory.

#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use harness::Host;
use harness::flood::{self, Memory};

/// Upper bound for anything a flood test waits for; only reached when something is broken.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What a watched program printed, in counts.
#[derive(Debug, Default, Clone)]
pub struct Printed {
    /// Lines printed.
    pub lines: u64,
    /// The first few lines that carried a control character (shown escaped).
    pub with_controls: Vec<String>,
}

/// A program started in a host, its stdout read by a thread.
pub struct Watched {
    child: Child,
    kept: mpsc::Receiver<String>,
    printed: Arc<Mutex<Printed>>,
    /// The highest resident memory seen by [`Watched::memory`] so far.
    pub peak: Option<Memory>,
}

impl Watched {
    /// Starts `command` in `host`; lines for which `keep` is true are kept for
    /// [`Watched::wait_for`], the others are only counted and checked.
    pub fn start(host: &Host, command: &mut Command, keep: fn(&str) -> bool) -> Watched {
        let mut child = host
            .spawn(
                command
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped()),
            )
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let printed = Arc::new(Mutex::new(Printed::default()));
        let (tx, kept) = mpsc::channel();
        std::thread::spawn({
            let printed = Arc::clone(&printed);
            move || {
                let mut raw = Vec::new();
                while stdout.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
                    let line = String::from_utf8_lossy(&raw)
                        .trim_end_matches('\n')
                        .to_string();
                    raw.clear();
                    let controls = flood::control_characters(&line);
                    {
                        let mut printed = printed.lock().unwrap();
                        printed.lines += 1;
                        if !controls.is_empty() && printed.with_controls.len() < 5 {
                            printed.with_controls.push(format!("{line:?}"));
                        }
                    }
                    if keep(&line) && tx.send(line).is_err() {
                        break;
                    }
                }
            }
        });
        Watched {
            child,
            kept,
            printed,
            peak: None,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a kept line satisfying `wanted` (bounded by [`DEADLINE`]).
    pub fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        self.wait_for_resending(wanted, || {})
    }

    /// Waits for a kept line satisfying `wanted`, calling `resend` at once and then every
    /// 100 ms until it comes: a datagram sent just after a flood may meet a full queue and
    /// be dropped, so the test sends it again until it shows (bounded by [`DEADLINE`]).
    pub fn wait_for_resending(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        mut resend: impl FnMut(),
    ) -> String {
        let end = Instant::now() + DEADLINE;
        resend();
        loop {
            if Instant::now() > end {
                panic!(
                    "the program did not print the line expected; it printed {:?}; stderr: {}",
                    self.printed(),
                    self.stderr()
                );
            }
            match self.kept.recv_timeout(Duration::from_millis(100)) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => resend(),
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                    "the program did not print the line expected; it printed {:?}; stderr: {}",
                    self.printed(),
                    self.stderr()
                ),
            }
        }
    }

    /// What it printed so far, in counts.
    pub fn printed(&self) -> Printed {
        self.printed.lock().unwrap().clone()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("poll the child").is_none()
    }

    /// Its resident memory now (and the most it ever had), remembered in [`Watched::peak`].
    pub fn memory(&mut self) -> Memory {
        let memory = flood::memory(self.pid()).expect("read /proc/PID/status");
        if self
            .peak
            .is_none_or(|peak| peak.peak_kib <= memory.peak_kib)
        {
            self.peak = Some(memory);
        }
        memory
    }

    /// Waits for it to end (bounded by [`DEADLINE`]), sampling its memory meanwhile:
    /// exit code.
    pub fn finish(&mut self) -> i32 {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                return status.code().unwrap_or(-1);
            }
            let _ = flood::memory(self.pid()).map(|m| {
                if self.peak.is_none_or(|peak| peak.peak_kib <= m.peak_kib) {
                    self.peak = Some(m);
                }
            });
            assert!(Instant::now() < end, "the program did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Everything it printed on stderr; call once it has ended (or been killed).
    pub fn stderr(&mut self) -> String {
        let _ = self.child.kill();
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        stderr
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
