//! What a test does when the machine lacks something it needs: skip, visibly, or fail where
//! the run asked for that capability.
//!
//! A skip prints one line, `skipped: TEST: WHY`, straight to the process's standard error.
//! The test runner captures what a passing test prints with `eprintln!`; it does not capture a
//! direct write, so the line shows in a plain `cargo test` and can be counted
//! (`cargo test --workspace 2>&1 | grep -c '^skipped:'`). With `HARNESS_SKIP_LOG=FILE` each
//! skip is also appended to FILE as `EXECUTABLE<TAB>TEST<TAB>CAPABILITY<TAB>WHY`: CI reads it to
//! run the skipped tests again on a kernel that has what they missed.
//!
//! Two variables turn a skip into a failure, so a machine that skips everything cannot pass
//! for green:
//! - `HARNESS_REQUIRE_SANDBOX=1`: the sandbox and the optional programs (CI installs them).
//!   Kernel features still skip: the CI machine's kernel may lack multicast routing.
//! - `HARNESS_REQUIRE=ID,ID` (or `all`): those capabilities ([`Capability::id`]), as CI's VM
//!   sets it for the tests it runs there.

use std::io::Write;

use crate::Error;
use crate::capability::{Capability, Missing};

/// True when `HARNESS_REQUIRE_SANDBOX` is set to anything but `0` or empty.
pub fn sandbox_required() -> bool {
    std::env::var("HARNESS_REQUIRE_SANDBOX").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Why this run must not skip for lacking `capability`, if it must not.
pub fn required(capability: Capability) -> Option<String> {
    let listed = std::env::var("HARNESS_REQUIRE").unwrap_or_default();
    if listed
        .split(',')
        .map(str::trim)
        .any(|id| id == "all" || id == capability.id())
    {
        return Some(format!("HARNESS_REQUIRE names {}", capability.id()));
    }
    if sandbox_required() && (capability == Capability::Sandbox || capability.is_program()) {
        return Some("HARNESS_REQUIRE_SANDBOX is set".into());
    }
    None
}

/// What [`crate::or_skip!`] does with a result: the value, or `None` after reporting the skip.
/// Panics on any other error, and on a missing capability the run requires ([`required`]).
pub fn skip_unless_available<T>(result: crate::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::Unavailable(missing)) => {
            skip(&missing);
            None
        }
        Err(other) => panic!("building the sandbox failed: {other}"),
    }
}

/// Reports a skip for `missing` (see the module docs), or panics where the run requires it.
pub fn skip(missing: &Missing) {
    if let Some(why) = required(missing.capability) {
        if missing.capability == Capability::Sandbox {
            panic!("{why} but no sandbox can be built: {missing}");
        }
        panic!("{why}, but {missing}");
    }
    report(missing.capability.id(), &missing.to_string());
}

/// Reports a skip that no [`Capability`] explains (a test that cannot see what it checks
/// from where it runs), the same way: one line on standard error and in `HARNESS_SKIP_LOG`,
/// under the capability `-`. Never a failure.
pub fn skip_because(why: &str) {
    report("-", why);
}

fn report(capability: &str, why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    let line = format!("skipped: {test}: {why}\n");
    // One write, not captured by the test runner.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("HARNESS_SKIP_LOG") {
        let exe = std::env::current_exe().unwrap_or_default();
        let record = format!(
            "{}\t{test}\t{capability}\t{}\n",
            exe.display(),
            why.replace(['\t', '\n'], " ")
        );
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut file| file.write_all(record.as_bytes()));
        if let Err(e) = appended {
            let warning = format!(
                "harness: this skip is not in HARNESS_SKIP_LOG={}: {e}\n",
                log.to_string_lossy()
            );
            let _ = std::io::stderr().lock().write_all(warning.as_bytes());
        }
    }
}

/// Builds a sandbox or skips the test: `let host = harness::or_skip!(Sandbox::new());`
///
/// Evaluates to the value when the expression succeeds. When the machine lacks a
/// [`Capability`] it needs (no network namespaces, no multicast routing, no `tmux`...) it
/// prints `skipped: TEST: WHY` and `return`s from the calling function, or panics where the
/// run requires that capability (see `HARNESS_REQUIRE_SANDBOX`, `HARNESS_REQUIRE`). Any other
/// error panics with its message. In a test that returns a value, say what a skip returns:
/// `let lan = harness::or_skip!(Lan::new(["a", "b"]), Ok(()));`
#[macro_export]
macro_rules! or_skip {
    ($built:expr) => {
        $crate::or_skip!($built, ())
    };
    ($built:expr, $skipped:expr) => {
        match $crate::skip_unless_available($built) {
            Some(value) => value,
            None => return $skipped,
        }
    };
}
