//! The move into a user namespace before `main` never leaves a process worse off.
//!
//! The tests run this binary again as an ordinary user (uid 1000 when the suite runs as root)
//! and read what the child reports. With the id maps made to fail, as Ubuntu 24.04's AppArmor
//! restriction makes them fail, the child must stay the user it was (not `nobody`) and skip
//! with one line that names the cause.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::os::unix::process::CommandExt;
use std::process::Command;

/// What the child runs: it prints its effective uid, then needs a sandbox.
#[test]
fn child_reports_uid_and_needs_a_sandbox() {
    if std::env::var_os("HARNESS_USERNS_CHILD").is_none() {
        return;
    }
    println!("euid {}", nix::unistd::geteuid());
    let _host = harness::or_skip!(harness::Sandbox::new());
    println!("built a sandbox");
}

/// Runs the child as a non-root user; `maps_fail` forces the id maps to fail in the probe.
/// `None` (after a visible skip) where this process is root of a user namespace: an ordinary
/// user's test binary has already made the move, and no child of it can start outside.
fn run_child_as_user(maps_fail: bool) -> Option<(String, String, u32)> {
    if nix::unistd::geteuid().is_root() && !harness::real_root() {
        harness::skip_because(
            "this test process already runs in a user namespace (an ordinary user's, moved \
             before main), so no child of it starts outside one; run as root to check the move",
        );
        return None;
    }
    let user = if harness::real_root() {
        1000
    } else {
        nix::unistd::geteuid().as_raw()
    };
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_reports_uid_and_needs_a_sandbox",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HARNESS_USERNS_CHILD", "1")
        .env_remove("HARNESS_REQUIRE_SANDBOX")
        .env_remove("HARNESS_NO_USERNS")
        .env_remove("HARNESS_SKIP_LOG");
    if maps_fail {
        command.env("HARNESS_TEST_USERNS_MAPS_FAIL", "1");
    }
    if harness::real_root() {
        command.uid(user).gid(user);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    Some((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        user,
    ))
}

/// When the maps cannot be written, the process stays its own user and skips, naming why.
#[test]
fn refused_id_maps_leave_the_process_as_it_was_and_skip_with_the_cause() {
    let Some((stdout, stderr, user)) = run_child_as_user(true) else {
        return;
    };
    assert!(stdout.contains(&format!("euid {user}\n")), "{stdout}");
    let skips: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("skipped: "))
        .collect();
    assert_eq!(skips.len(), 1, "{stderr}");
    // Where this machine refuses user namespaces outright (the probe never reaches the maps),
    // the skip names that setting instead.
    let refused_outright = skips[0].contains("unprivileged user namespaces are refused here");
    let named = if refused_outright {
        "user.max_user_namespaces"
    } else {
        "cannot be mapped"
    };
    assert!(skips[0].contains(named), "{}", skips[0]);
    assert!(
        skips[0].contains("apparmor_restrict_unprivileged_userns"),
        "{}",
        skips[0]
    );
    assert!(!stdout.contains("built a sandbox"), "{stdout}");
}

/// Where the whole move works, the process becomes root of its own user namespace and builds
/// a sandbox; where it does not, it stays its own user and skips. Never anything in between.
#[test]
fn an_ordinary_user_moves_whole_or_not_at_all() {
    let Some((stdout, stderr, user)) = run_child_as_user(false) else {
        return;
    };
    if stdout.contains("built a sandbox") {
        assert!(stdout.contains("euid 0\n"), "{stdout}");
    } else {
        assert!(stdout.contains(&format!("euid {user}\n")), "{stdout}");
        assert!(
            stderr.lines().any(|l| l.starts_with("skipped: ")),
            "{stderr}"
        );
        assert!(
            !harness::sandbox_required(),
            "HARNESS_REQUIRE_SANDBOX is set, but an ordinary user cannot build a sandbox here: {stderr}"
        );
    }
}
