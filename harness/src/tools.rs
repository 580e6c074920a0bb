//! Optional programs a test may need (tmux, python3, tshark, sockperf, ...).
//!
//! A test that needs one asks [`tool`] through [`crate::or_skip!`]: where the program is
//! missing, the test prints `skipped: tmux is not installed` and passes, like a test that
//! cannot get a sandbox; under `HARNESS_REQUIRE_SANDBOX=1` (CI) it fails instead, so CI
//! cannot pass by skipping.
//!
//! ```no_run
//! let tmux = harness::or_skip!(harness::tool("tmux"));
//! std::process::Command::new(tmux).arg("-V").status().unwrap();
//! ```

use std::path::PathBuf;

use crate::Error;

/// The full path of `program` found on `PATH`, or [`Error::Unavailable`] saying it is not
/// installed.
pub fn tool(program: &str) -> crate::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|directory| directory.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| Error::Unavailable(format!("{program} is not installed")))
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sh` is found with its full path; a made-up program is "not installed", by name.
    #[test]
    fn tools_are_found_on_path_or_named_as_missing() {
        assert!(tool("sh").unwrap().is_absolute());
        let error = tool("no-such-program-here").unwrap_err().to_string();
        assert_eq!(error, "no-such-program-here is not installed");
    }
}
