//! Optional programs a test may need (tmux, python3, tshark, sockperf, iperf).
//!
//! A test that needs one asks [`tool`] through [`crate::or_skip!`]: where the program is
//! missing, the test prints `skipped: TEST: tmux is not installed (package tmux)` and passes,
//! like a test that cannot get a sandbox; under `HARNESS_REQUIRE_SANDBOX=1` (CI) it fails
//! instead, so CI cannot pass by skipping.
//!
//! ```no_run
//! use harness::Capability;
//! let tmux = harness::or_skip!(harness::tool(Capability::Tmux));
//! std::process::Command::new(tmux).arg("-V").status().unwrap();
//! ```

use std::path::PathBuf;

use crate::{Capability, Error};

/// The full path of `program` (one of the [`Capability`]s that are programs) found on `PATH`,
/// or [`Error::Unavailable`] saying it is not installed and which package has it.
pub fn tool(program: Capability) -> crate::Result<PathBuf> {
    if !program.is_program() {
        return Err(Error::Invalid(format!("{program} is not a program")));
    }
    program.check()?;
    find(program.program()).map_err(|why| program.missing(why))
}

/// The full path of `program` on `PATH`, or why there is none.
pub(crate) fn find(program: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|directory| directory.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| format!("no {program} on PATH"))
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sh` is found with its full path; a made-up program is named as missing.
    #[test]
    fn programs_are_found_on_path_or_named_as_missing() {
        assert!(find("sh").unwrap().is_absolute());
        assert_eq!(
            find("no-such-program-here").unwrap_err(),
            "no no-such-program-here on PATH"
        );
    }

    /// A capability that is no program is refused, by name.
    #[test]
    fn a_kernel_feature_is_not_a_tool() {
        let error = tool(Capability::Netem).unwrap_err().to_string();
        assert_eq!(error, "the netem queueing discipline is not a program");
    }
}
