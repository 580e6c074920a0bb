//! Waiting for a program a test started, with a deadline that only a failure reaches.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Waits for `child` to end, at most `deadline`: its exit status, or `None` after killing
/// and reaping it when the deadline passed. Polls every 10 ms; a passing test waits only as
/// long as the program runs.
pub fn wait_within(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + deadline;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}
