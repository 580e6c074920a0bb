//! Finding the workspace's programs from a test: build them once, get their paths.
//!
//! An integration test only knows its own package's binaries (`CARGO_BIN_EXE_<name>`). The
//! book runs programs of every port, so its tests ask cargo, the one running the tests
//! (`$CARGO`), to build the ones they need and read the executables' paths from cargo's
//! JSON messages. Nothing is run through `cargo run`, and never inside a sandbox.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Built executables by (package, binary name).
pub type Binaries = BTreeMap<(String, String), PathBuf>;

/// Builds the binaries `wanted` (package name to binary names) of the workspace at
/// `workspace` in the dev profile, and returns where they are.
pub fn build(
    workspace: &Path,
    wanted: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Binaries, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let mut built = Binaries::new();
    for (package, bins) in wanted {
        let mut build = Command::new(&cargo);
        build.current_dir(workspace).args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            package,
        ]);
        for bin in bins {
            build.args(["--bin", bin]);
        }
        let output = build
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("running {cargo}: {e}"))?;
        if !output.status.success() {
            let names: Vec<&str> = bins.iter().map(String::as_str).collect();
            return Err(format!(
                "cargo build -p {package} --bin {} failed (its errors are above)",
                names.join(" --bin ")
            ));
        }
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if message["reason"] != "compiler-artifact" {
                continue;
            }
            if let (Some(name), Some(path)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) && bins.contains(name)
            {
                built.insert((package.clone(), name.to_owned()), PathBuf::from(path));
            }
        }
        for bin in bins {
            if !built.contains_key(&(package.clone(), bin.clone())) {
                return Err(format!(
                    "cargo built no binary `{bin}` in package `{package}`"
                ));
            }
        }
    }
    Ok(built)
}

/// The workspace this crate lives in.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
