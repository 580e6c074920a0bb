//! The `demo` binary end to end, run the way a person runs it: by name, in a throwaway
//! namespace (here the harness's sandbox, the one the book's walkthrough uses), and refused
//! in the machine's own.

use std::process::Command;

use harness::Sandbox;
use loopback::namespace;

/// What a reader of the demo sees in a sandbox: the listener's `lo: sendto()` line, the
/// capture of `send()` leaving `eth0`, the fixes keeping both sends on `lo`, and IPv6
/// ignoring the route, each with the reason for what was seen. Ports vary between runs and
/// are redacted.
#[test]
fn demo_prints_one_verdict_per_send() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let output = sandbox
        .output(&mut Command::new(env!("CARGO_BIN_EXE_demo")))
        .unwrap();
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

/// The check the demo makes first passes in a sandbox and fails in this test's own network
/// namespace, which is the machine's.
#[test]
fn only_a_throwaway_namespace_passes_the_check() {
    let sandbox = harness::or_skip!(Sandbox::new());
    sandbox.run(namespace::ensure_throwaway).unwrap();
    let refused = namespace::ensure_throwaway().unwrap_err().to_string();
    assert!(
        refused.starts_with("refusing to run in the machine's own network namespace"),
        "{refused}"
    );
}

/// Started in the machine's own network namespace, the demo refuses with one line and
/// exits non-zero before touching anything. (The check is asserted first, in-process, so a
/// broken check fails this test instead of letting the demo run here.)
#[test]
fn demo_refuses_the_machines_own_namespace() {
    assert!(
        namespace::ensure_throwaway().is_err(),
        "this test must run in the machine's own namespace"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_demo")).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("demo: refusing to run in the machine's own network namespace"),
        "{stderr}"
    );
}

/// A bad port is refused with a message that names it, before anything else.
#[test]
fn demo_refuses_port_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: invalid value '0' for '--port <PORT>': 0 is not in 1..=65535"),
        "{stderr}"
    );
}

/// `demo | head -1` ends quietly: status 0, nothing on stderr (no broken-pipe panic).
#[test]
fn demo_piped_into_head_ends_quietly() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let out = sandbox
        .output(Command::new("bash").args([
            "-c",
            &format!(
                "'{}' --port 6666 | head -1; exit ${{PIPESTATUS[0]}}",
                env!("CARGO_BIN_EXE_demo")
            ),
        ]))
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert_eq!(stderr, "");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("this namespace: route 224.16.17.8/32")
    );
}
