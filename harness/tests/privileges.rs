//! Without privileges a sandboxed test skips with one line, and under
//! `HARNESS_REQUIRE_SANDBOX=1` that skip becomes a failure.
//!
//! The tests run this binary again as a process that cannot create namespaces: it keeps its
//! user id but loses every capability (`SECBIT_NOROOT` makes `execve` grant none, even to
//! uid 0), which works for real root and for root inside a user namespace alike; and
//! `HARNESS_NO_USERNS=1` keeps the harness from trying a user namespace of its own. The child
//! runs `needs_a_sandbox` and we read what it printed.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

/// The test the child runs: it needs a sandbox and says so.
#[test]
fn needs_a_sandbox() {
    let _host = harness::or_skip!(harness::Sandbox::new());
    if std::env::var_os("HARNESS_PRIVILEGE_CHILD").is_some() {
        panic!("the unprivileged child built a sandbox: the privilege check is wrong");
    }
}

/// Runs `needs_a_sandbox` in a process without capabilities.
fn run_unprivileged(require: bool) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "needs_a_sandbox", "--nocapture"])
        .env("HARNESS_NO_USERNS", "1")
        .env("HARNESS_PRIVILEGE_CHILD", "1")
        .env_remove("HARNESS_REQUIRE_SANDBOX")
        .env_remove("HARNESS_SKIP_LOG");
    if require {
        command.env("HARNESS_REQUIRE_SANDBOX", "1");
    }
    // SAFETY: one prctl between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // An ordinary user (no user namespace: CI's run without them) has no capability
            // to lose, and may not set secure bits: it is unprivileged as it is.
            if libc::geteuid() != 0 {
                return Ok(());
            }
            const SECBIT_NOROOT: libc::c_ulong = 1;
            const SECBIT_NOROOT_LOCKED: libc::c_ulong = 2;
            if libc::prctl(
                libc::PR_SET_SECUREBITS,
                SECBIT_NOROOT | SECBIT_NOROOT_LOCKED,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().unwrap()
}

/// Without privileges the test passes after printing exactly one `skipped: <why>` line that
/// names what is missing.
#[test]
fn without_privileges_a_sandboxed_test_skips_with_one_line() {
    let output = run_unprivileged(false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let skips: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("skipped: "))
        .collect();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(skips.len(), 1, "{stderr}");
    assert!(skips[0].contains("unshare(CLONE_NEWNET)"), "{}", skips[0]);
}

/// With `HARNESS_REQUIRE_SANDBOX=1` the same test fails and says why.
#[test]
fn a_required_sandbox_turns_the_skip_into_a_failure() {
    let output = run_unprivileged(true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("HARNESS_REQUIRE_SANDBOX is set but no sandbox can be built"),
        "{stderr}"
    );
}
