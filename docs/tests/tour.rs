//! The tour agrees with the book: its expected verdicts are the appendix's.
//!
//! That a run *observes* them is the introduction chapter's walkthrough
//! (`tests/walkthroughs.rs::introduction`): it runs `tour` as the book tells a reader to,
//! matches every verdict line it prints against the book, and needs its exit status 0,
//! which the tour gives only when every article ran and every verdict is the book's.

use std::path::Path;

use docs::tour;

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
