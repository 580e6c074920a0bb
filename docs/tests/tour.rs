//! The tour agrees with the book: its expected verdicts are the appendix's, and a run
//! observes them.

use std::path::Path;

use docs::tour::{self, TourError};

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

/// The tour runs all four articles and every verdict it observes is the book's.
#[test]
fn tour_observes_the_books_verdicts() {
    let chapters = match tour::run() {
        Ok(chapters) => chapters,
        Err(TourError::NoSandbox(why)) if !harness::sandbox_required() => {
            eprintln!("skipped: {why}");
            return;
        }
        Err(error) => panic!("{error}"),
    };
    assert_eq!(chapters.len(), 4);
    for chapter in chapters {
        let chapter = chapter.unwrap_or_else(|e| panic!("{e}"));
        assert!(chapter.agrees(), "{chapter}");
        assert!(!chapter.claims.is_empty(), "{chapter}");
    }
}
