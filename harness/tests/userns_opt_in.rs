//! Nothing runs before `main` in a binary that did not ask: this test binary has no
//! `harness::userns_before_main!()` line, so an ordinary user's run of it stays that user,
//! and a test that needs a sandbox skips, naming the line that would have moved it.
//! (`userns_move.rs`, which has the line, shows the move itself.)

use std::process::Command;

/// What the child runs: it prints its effective uid, then needs a sandbox.
#[test]
fn child_without_the_line_reports_uid_and_needs_a_sandbox() {
    if std::env::var_os("HARNESS_OPT_IN_CHILD").is_none() {
        return;
    }
    println!("euid {}", nix::unistd::geteuid());
    let _host = harness::or_skip!(harness::Sandbox::new());
    println!("built a sandbox");
}

/// Run as an ordinary user (uid 1000), a binary without the line does not move into a user
/// namespace: it stays uid 1000, builds no sandbox, and its skip names the missing line.
#[test]
fn a_binary_without_the_line_does_not_move_and_says_which_line_would() {
    use std::os::unix::process::CommandExt;
    if !harness::real_root() {
        harness::skip_because("only the machine's root can start a child as another user");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_without_the_line_reports_uid_and_needs_a_sandbox",
            "--nocapture",
        ])
        .env("HARNESS_OPT_IN_CHILD", "1")
        .env_remove("HARNESS_REQUIRE_SANDBOX")
        .env_remove("HARNESS_NO_USERNS")
        .env_remove("HARNESS_SKIP_LOG")
        .uid(1000)
        .gid(1000)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("euid 1000\n"), "{stdout}");
    assert!(!stdout.contains("built a sandbox"), "{stdout}");
    assert!(
        stderr.contains(
            "did not ask for a user namespace of its own (add `harness::userns_before_main!();`"
        ),
        "{stderr}"
    );
}
