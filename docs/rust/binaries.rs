//! Finding the workspace's programs from a test: take the ones cargo built, build the rest.
//!
//! This is the one place where the book's tests build anything, and here is why they must
//! look for programs at all: cargo gives an integration test the paths of its *own*
//! package's binaries only (`CARGO_BIN_EXE_<name>`), and the book runs programs of every
//! port. There is no way to declare a dependency on another package's binary.
//!
//! `cargo test --workspace` builds every package's binaries anyway (for that package's
//! integration tests) and leaves each in the profile directory, `target/debug/<name>`, next
//! to the `deps/` folder the test itself runs from, with a `<name>.d` file listing every
//! source file it was built from. [`current_programs`] takes a binary from there when it is newer than
//! all of those files and than the manifests and `Cargo.lock`. Only a missing or stale one
//! (under `cargo test -p docs` after editing a port, say) is built, by `cargo build` run
//! with the cargo that runs the tests, outside any sandbox; its path comes from cargo's JSON
//! messages. Nothing is ever run through `cargo run`.
//!
//! Examples (`cargo run -q -p harness --example NAME` in the book) are found the same way,
//! one at a time and once per process ([`current_example`]): `target/debug/examples/<name>`
//! when it is newer than its sources, else `cargo build --example` with the features the
//! book's command names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// Executables by (package, binary name).
type Binaries = BTreeMap<(String, String), PathBuf>;

/// The paths of the binaries `wanted` (package name to binary names), built in the dev
/// profile of this workspace: up-to-date ones as found, the others built first.
fn locate(wanted: &BTreeMap<String, BTreeSet<String>>) -> Result<Binaries, String> {
    let mut found = Binaries::new();
    let mut to_build: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (package, bins) in wanted {
        for bin in bins {
            match up_to_date(bin) {
                Some(path) => {
                    found.insert((package.clone(), bin.clone()), path);
                }
                None => {
                    to_build
                        .entry(package.clone())
                        .or_default()
                        .insert(bin.clone());
                }
            }
        }
    }
    found.extend(build(&to_build)?);
    Ok(found)
}

/// Every program of the workspace, by package: each package's `src/bin/*.rs`, and this
/// crate's `rust/bin/*.rs` (the workspace's packages live in folders named after them and
/// declare no other binaries).
fn programs() -> BTreeMap<String, BTreeSet<String>> {
    let mut programs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let root = workspace();
    for package in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let bins = ["src/bin", "rust/bin"].map(|folder| package.path().join(folder));
        let files = bins
            .iter()
            .flat_map(|bin| std::fs::read_dir(bin).into_iter().flatten().flatten());
        for file in files {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "rs")
                && let Some(stem) = path.file_stem()
            {
                programs
                    .entry(package.file_name().to_string_lossy().into_owned())
                    .or_default()
                    .insert(stem.to_string_lossy().into_owned());
            }
        }
    }
    programs
}

/// The directory of the workspace's programs (`target/debug`), with every one of them
/// current: located once per process, so the missing or stale ones are built first.
/// What a lab's `PATH` starts with in the book's tests.
pub fn current_programs() -> Result<&'static Path, String> {
    static CURRENT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    CURRENT
        .get_or_init(|| {
            locate(&programs())?;
            profile_dir().ok_or_else(|| "the test does not run from a target directory".into())
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The workspace this crate lives in.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("docs lives in the workspace")
        .to_path_buf()
}

/// The profile directory (`target/debug`) the running test executable was built into:
/// tests run from its `deps/` folder. It holds the workspace's programs.
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    (deps.file_name()? == "deps").then(|| deps.parent().map(Path::to_path_buf))?
}

/// Whether the profile directory `dir` was unpacked from a `cargo nextest archive` (README:
/// "A suite bigger than one machine"): the archive's metadata lies beside it. An archive
/// carries the programs built with the tests (and the examples `.config/nextest.toml` adds)
/// to a runner that builds nothing, and a fresh checkout's sources there are newer than
/// any of them: the programs it carries are as current as the tests themselves.
fn unpacked_from_archive(dir: &Path) -> bool {
    dir.parent()
        .is_some_and(|target| target.join("nextest/binaries-metadata.json").is_file())
}

/// `target/debug/<bin>` if it is newer than everything it was built from, or came in the
/// archive the tests came in.
fn up_to_date(bin: &str) -> Option<PathBuf> {
    let dir = profile_dir()?;
    let binary = dir.join(bin);
    let current = if unpacked_from_archive(&dir) {
        binary.is_file()
    } else {
        is_fresh(&binary, &dir.join(format!("{bin}.d")), &workspace())
    };
    current.then_some(binary)
}

/// Whether `binary` exists and is newer than every source its dependency file `dep_info`
/// lists, than `root`'s `Cargo.toml` and `Cargo.lock`, and than the `Cargo.toml` of every
/// package of `root` those sources belong to (a changed dependency or feature shows there).
fn is_fresh(binary: &Path, dep_info: &Path, root: &Path) -> bool {
    let Some(built) = modified(binary) else {
        return false;
    };
    let Some(sources) = std::fs::read_to_string(dep_info)
        .ok()
        .and_then(|text| dep_info_sources(&text))
    else {
        return false;
    };
    let mut inputs = vec![root.join("Cargo.lock"), root.join("Cargo.toml")];
    for source in &sources {
        if let Ok(inside) = source.strip_prefix(root)
            && let Some(package) = inside.components().next()
        {
            inputs.push(root.join(package).join("Cargo.toml"));
        }
    }
    inputs.extend(sources);
    inputs
        .iter()
        .all(|input| modified(input).is_some_and(|changed| changed <= built))
}

/// The files after the colon of a make-style dependency line (`target: a.rs b\ c.rs`),
/// as cargo writes them next to a binary; `None` if the text is not one.
fn dep_info_sources(text: &str) -> Option<Vec<PathBuf>> {
    let line = text.lines().next()?;
    let (_, sources) = line.split_once(": ")?;
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = sources.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' => paths
                .extend((!current.is_empty()).then(|| PathBuf::from(std::mem::take(&mut current)))),
            other => current.push(other),
        }
    }
    paths.extend((!current.is_empty()).then(|| PathBuf::from(current)));
    (!paths.is_empty()).then_some(paths)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

/// Builds `wanted` with `cargo build --message-format=json` and reads where they are.
fn build(wanted: &BTreeMap<String, BTreeSet<String>>) -> Result<Binaries, String> {
    let mut built = Binaries::new();
    for (package, bins) in wanted {
        let mut arguments = vec!["-p", package];
        for bin in bins {
            arguments.extend(["--bin", bin]);
        }
        for (name, path) in cargo_build(&arguments, bins)? {
            built.insert((package.clone(), name), path);
        }
    }
    Ok(built)
}

/// The path of example `name` of `package`, built in the dev profile of this workspace: as
/// found in `target/debug/examples` when it is newer than everything it was built from,
/// else built first (`cargo build -p PACKAGE --example NAME --features FEATURES`). Each
/// example is located once per process; a second call returns the first answer.
///
/// An example found up to date is taken whatever features it was built with: cargo builds
/// an example only with the features it requires (`required-features`), so it has them.
pub fn current_example(package: &str, name: &str, features: &[String]) -> Result<PathBuf, String> {
    type Key = (String, String);
    static FOUND: std::sync::Mutex<BTreeMap<Key, Result<PathBuf, String>>> =
        std::sync::Mutex::new(BTreeMap::new());
    // Held while building, so two tests that need one example build it once.
    let mut found = FOUND.lock().unwrap_or_else(|p| p.into_inner());
    found
        .entry((package.to_owned(), name.to_owned()))
        .or_insert_with(|| {
            let dir = profile_dir().ok_or("the test does not run from a target directory")?;
            let examples = dir.join("examples");
            let binary = examples.join(name);
            if unpacked_from_archive(&dir) {
                return binary.is_file().then_some(binary).ok_or_else(|| {
                    format!(
                        "the example {name} is not in the nextest archive these tests came \
                         in: add it to archive.include in .config/nextest.toml"
                    )
                });
            }
            if is_fresh(&binary, &examples.join(format!("{name}.d")), &workspace()) {
                return Ok(binary);
            }
            let features = features.join(",");
            let mut arguments = vec!["-p", package, "--example", name];
            if !features.is_empty() {
                arguments.extend(["--features", &features]);
            }
            let wanted = BTreeSet::from([name.to_owned()]);
            let mut built = cargo_build(&arguments, &wanted)?;
            Ok(built.remove(name).expect("cargo_build checks every name"))
        })
        .clone()
}

/// Runs `cargo build --quiet --message-format=json ARGUMENTS` at the workspace root, with
/// the cargo that runs the tests and its errors on our stderr; returns the executables it
/// reports, by target name, which must include every one of `wanted`.
fn cargo_build(
    arguments: &[&str],
    wanted: &BTreeSet<String>,
) -> Result<BTreeMap<String, PathBuf>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let output = Command::new(&cargo)
        .current_dir(workspace())
        .args(["build", "--quiet", "--message-format=json"])
        .args(arguments)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {cargo}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build {} failed (its errors are above)",
            arguments.join(" ")
        ));
    }
    let mut built = BTreeMap::new();
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
        ) && wanted.contains(name)
        {
            built.insert(name.to_owned(), PathBuf::from(path));
        }
    }
    if let Some(missing) = wanted.iter().find(|name| !built.contains_key(*name)) {
        return Err(format!(
            "cargo build {} built no program `{missing}`",
            arguments.join(" ")
        ));
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cargo's dependency lines escape spaces in paths; each source comes out whole.
    #[test]
    fn dep_info_lists_every_source() {
        let text = "/t/debug/send: /w/ruby-port/src/lib.rs /w/my\\ crate/src/a.rs\n\n/w/x.rs:\n";
        assert_eq!(
            dep_info_sources(text),
            Some(vec![
                PathBuf::from("/w/ruby-port/src/lib.rs"),
                PathBuf::from("/w/my crate/src/a.rs"),
            ])
        );
        assert_eq!(dep_info_sources("no dependency line"), None);
    }

    /// A binary is taken only while it is newer than its sources and manifests; one that
    /// is missing or has no dependency file is built.
    #[test]
    fn a_binary_older_than_a_source_or_a_manifest_is_stale() {
        let root = std::env::temp_dir().join(format!("docs-binaries-{}", std::process::id()));
        let (source, manifest) = (root.join("port/src/main.rs"), root.join("port/Cargo.toml"));
        let (binary, dep_info) = (root.join("target/program"), root.join("target/program.d"));
        std::fs::create_dir_all(root.join("port/src")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        assert!(!is_fresh(&binary, &dep_info, &root), "no binary yet");
        for file in [&source, &manifest, &binary] {
            std::fs::write(file, "").unwrap();
        }
        for file in ["Cargo.toml", "Cargo.lock"] {
            std::fs::write(root.join(file), "").unwrap();
        }
        assert!(
            !is_fresh(&binary, &dep_info, &root),
            "no dependency file yet"
        );
        std::fs::write(
            &dep_info,
            format!("{}: {}\n", binary.display(), source.display()),
        )
        .unwrap();
        let at = |path: &Path, seconds: u64| {
            let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            let file = std::fs::File::options().write(true).open(path).unwrap();
            file.set_modified(time).unwrap();
        };
        for file in [
            &source,
            &manifest,
            &root.join("Cargo.toml"),
            &root.join("Cargo.lock"),
        ] {
            at(file, 1_000);
        }
        at(&binary, 2_000);
        assert!(is_fresh(&binary, &dep_info, &root));
        at(&source, 3_000);
        assert!(!is_fresh(&binary, &dep_info, &root), "source edited");
        at(&source, 1_000);
        at(&manifest, 3_000);
        assert!(!is_fresh(&binary, &dep_info, &root), "manifest edited");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The programs found are the workspace's, with their packages.
    #[test]
    fn programs_are_found_by_package() {
        let programs = programs();
        let names = |package: &str| programs[package].iter().cloned().collect::<Vec<_>>();
        assert_eq!(names("ruby-port"), ["chat", "receive", "send"]);
        assert_eq!(names("python-echo"), ["receiver", "sender"]);
        assert_eq!(names("lab"), ["lab"]);
    }
}
