//! The `demo` binary end to end: it builds its own sandbox, so the test only runs it.

use std::process::Command;

/// What a reader of the demo sees: the listener's `lo: sendto()` line, the capture of
/// `send()` leaving `eth0`, the fixes keeping both sends on `lo`, and IPv6 ignoring the
/// route. Ports vary between runs and are redacted.
#[test]
fn demo_prints_one_verdict_per_send() {
    // Skip (or fail under HARNESS_REQUIRE_SANDBOX=1) exactly as a sandboxed test would.
    drop(harness::or_skip!(harness::Lan::new(["probe"])));
    let output = Command::new(env!("CARGO_BIN_EXE_demo")).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::with_settings!({filters => vec![
        (r"\]:\d+", "]:[port]"),
        (r"(\d+\.\d+\.\d+\.\d+):\d+", "$1:[port]"),
    ]}, {
        insta::assert_snapshot!(stdout);
    });
}

/// A bad port is refused with a message that names it, before any sandbox is built.
#[test]
fn demo_refuses_port_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--port", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'0'"), "{stderr}");
}
