//! Helpers the book's test files share.

#![allow(dead_code)] // each test file uses what it needs

use std::process::Command;

use harness::Host;

/// Runs a shell script inside `host`; panics with its output if it fails.
pub(crate) fn sh(host: &Host, script: &str) -> String {
    let output = host
        .output(Command::new("sh").arg("-c").arg(script))
        .expect("sh runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`{script}` failed in {}:\n{text}",
        host.name()
    );
    text
}
