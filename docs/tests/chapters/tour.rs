//! The tour agrees with the book: its expected verdicts are the appendix's.
//!
//! That a run *observes* them is the introduction chapter's walkthrough
//! (`tests/chapters/walkthroughs.rs::introduction`): it runs `tour` as the book tells a reader to,
//! matches every verdict line it prints against the book, and needs its exit status 0,
//! which the tour gives only when every article ran and no verdict it observed differs from
//! the book. A claim this kernel cannot check (the TTL claim without multicast routing) is
//! neither: `claims_this_kernel_cannot_check_are_counted_not_failed` shows how it is printed.

use std::path::Path;
use std::process::{Command, Output};

use docs::{tour, walkthrough};
use harness::{Capability, Sandbox};

/// Every claim the tour checks appears in the appendix, for the same article, naming the
/// same test, with the same verdict: the tour cannot drift from the book.
#[test]
fn tour_verdicts_match_the_appendix() {
    let appendix =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/claims.md"))
            .unwrap();
    for spec in tour::expected_claims() {
        let rows: Vec<&str> = appendix
            .lines()
            .filter(|line| line.starts_with('|') && line.contains(spec.test))
            .filter(|line| line.split('|').nth(2).map(str::trim) == Some(spec.article))
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "the appendix needs exactly one row for the {} claim tested by {}",
            spec.article,
            spec.test
        );
        let verdict = rows[0].split('|').nth(3).unwrap_or("");
        assert!(
            verdict.contains(&format!("**{}**", spec.expected.word())),
            "the tour expects `{}` for \"{}\" but the appendix says: {verdict}",
            spec.expected,
            spec.text
        );
    }
}

/// Each section of the tour names the book's chapter it belongs to, by file, and that
/// chapter's title is the section's.
#[test]
fn every_tour_section_names_its_chapter() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sections = tour::sections();
    assert_eq!(sections.len(), 4, "one section per article");
    for (title, file) in sections {
        let chapter = std::fs::read_to_string(book.join(file))
            .unwrap_or_else(|e| panic!("the tour names {file}: {e}"));
        assert_eq!(
            chapter.lines().next(),
            Some(format!("# {title}").as_str()),
            "{file}"
        );
    }
}

/// `tour | head -1` ends quietly: status 0, nothing on stderr (no broken-pipe panic).
#[test]
fn tour_piped_into_head_ends_quietly() {
    let sandbox = harness::or_skip!(harness::Sandbox::new());
    let out = sandbox
        .output(std::process::Command::new("bash").args([
            "-c",
            &format!(
                "'{}' | head -1; exit ${{PIPESTATUS[0]}}",
                env!("CARGO_BIN_EXE_tour")
            ),
        ]))
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert_eq!(stderr, "");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("== Ruby: "));
}

/// Runs the tour inside `sandbox` with `HARNESS_REQUIRE` set to `require` (or unset).
fn run_tour(sandbox: &Sandbox, require: Option<&str>) -> Output {
    let mut tour = Command::new(env!("CARGO_BIN_EXE_tour"));
    match require {
        Some(ids) => tour.env("HARNESS_REQUIRE", ids),
        None => tour.env_remove("HARNESS_REQUIRE"),
    };
    sandbox.output(&mut tour).unwrap()
}

/// The TTL claim needs a kernel with multicast routing. Where the kernel has it, the claim is
/// checked; where it has not, the tour prints `[not checked]` with the reason the probe
/// gives, counts it on its last line, and still exits 0; with `HARNESS_REQUIRE` naming the
/// capability (as CI's VM sets it) the same run fails. Either way the TTL line and the last
/// line are the ones the introduction shows for such a kernel.
#[test]
fn claims_this_kernel_cannot_check_are_counted_not_failed() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let out = run_tour(&sandbox, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}\n{stdout}", out.status);
    let ttl = "TTL 1 stays on the segment, a larger TTL crosses a multicast router: ";
    let claim = stdout
        .lines()
        .find(|line| line.contains(ttl))
        .unwrap_or_else(|| panic!("no TTL claim in:\n{stdout}"));
    let last = stdout.lines().last().unwrap_or("");
    match Capability::Ipv4Routing.check() {
        Ok(()) => {
            assert!(claim.starts_with("  [holds ] "), "{claim}");
            assert!(!stdout.contains("[not checked]"), "{stdout}");
            assert!(!last.contains("not checked"), "{last}");
        }
        Err(harness::Error::Unavailable(missing)) => {
            assert_eq!(claim, format!("  [not checked] {ttl}{missing}"));
            assert_eq!(stdout.matches("[not checked]").count(), 1, "{stdout}");
            assert!(
                last.ends_with(&format!(
                    "; 1 claim not checked on this kernel, which has no IPv4 multicast routing \
                     ({})",
                    Capability::Ipv4Routing.provided_by()
                )),
                "{last}"
            );
            let required = run_tour(&sandbox, Some(Capability::Ipv4Routing.id()));
            let complaint = String::from_utf8_lossy(&required.stderr);
            assert_eq!(required.status.code(), Some(1), "{complaint}");
            assert!(
                complaint.contains("HARNESS_REQUIRE names ipv4-routing, but this kernel has no"),
                "{complaint}"
            );
        }
        Err(other) => panic!("probing for multicast routing: {other}"),
    }
    let introduction =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/introduction.md"))
            .unwrap();
    let shown = text_block_lines(&introduction);
    for printed in [claim, last] {
        assert!(
            shown
                .iter()
                .any(|line| walkthrough::check_output(&[line.to_string()], printed).is_ok()),
            "no `text` block of the introduction shows this line as this kernel prints it:\n\
             {printed}"
        );
    }
}

/// The lines of `markdown`'s `text` blocks: output the book shows without running it.
fn text_block_lines(markdown: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in markdown.lines() {
        match line.trim_start().strip_prefix("```") {
            Some(language) if !inside => inside = language.trim() == "text",
            Some(_) => inside = false,
            None if inside => lines.push(line),
            None => {}
        }
    }
    lines
}
