//! The tour: all four articles, end to end, on one sandboxed LAN, with a verdict per claim.
//!
//! [`run`] builds a LAN of three hosts (`a` 10.0.0.1, `b` 10.0.0.2, `c` 10.0.0.3), runs
//! each article's programs through the port crates' libraries, and returns a [`Report`]
//! with one [`Chapter`] per article: what was sent, who received it and on which interface, and
//! the claims it checked. Each [`Claim`] carries the verdict the book gives
//! (`docs/src/claims.md`) and the verdict observed now; a difference means the kernel, a
//! port or the book changed. The test `tour_verdicts_match_the_appendix` keeps the
//! expected verdicts here and the appendix in step.
//!
//! One file per article: [`ruby`], [`python`], [`diary`], [`loopback`].

pub mod diary;
pub mod loopback;
pub mod python;
pub mod ruby;

use std::fmt;
use std::time::{Duration, Instant};

use harness::{Host, Lan};

/// What the book says about a claim, or what the tour observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The claim is true on this kernel.
    Holds,
    /// True only with a condition the article does not state.
    Partly,
    /// Not true on this kernel.
    Wrong,
}

impl Verdict {
    /// The word the appendix uses, in bold there: `holds`, `partly`, `wrong`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Partly => "partly",
            Verdict::Wrong => "wrong",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.word())
    }
}

/// One claim of an article, checked.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The claim, in a few words.
    pub text: &'static str,
    /// The verdict the book gives.
    pub expected: Verdict,
    /// The verdict observed in this run.
    pub observed: Verdict,
    /// What was seen that decided it.
    pub evidence: String,
    /// The test the appendix names for this claim (`crate/tests/file.rs::test`).
    pub test: &'static str,
}

impl Claim {
    /// Whether the run agrees with the book.
    pub fn agrees(&self) -> bool {
        self.expected == self.observed
    }
}

/// One article's part of the tour.
#[derive(Debug, Clone)]
pub struct Chapter {
    /// The article, as the book's chapter title names it.
    pub title: &'static str,
    /// The book's chapter about it (a file of `docs/src`).
    pub file: &'static str,
    /// What happened, one line per event, in order.
    pub narration: Vec<String>,
    /// The claims checked.
    pub claims: Vec<Claim>,
}

impl Chapter {
    fn new((title, file): (&'static str, &'static str)) -> Chapter {
        Chapter {
            title,
            file,
            narration: Vec::new(),
            claims: Vec::new(),
        }
    }

    fn say(&mut self, line: impl Into<String>) {
        self.narration.push(line.into());
    }

    fn check(&mut self, spec: &Spec, observed: Verdict, evidence: impl Into<String>) {
        self.claims.push(Claim {
            text: spec.text,
            expected: spec.expected,
            observed,
            evidence: evidence.into(),
            test: spec.test,
        });
    }

    /// Whether every claim agrees with the book.
    pub fn agrees(&self) -> bool {
        self.claims.iter().all(Claim::agrees)
    }
}

impl fmt::Display for Chapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== {} (the book's {}) ==", self.title, self.file)?;
        for line in &self.narration {
            writeln!(f, "  {line}")?;
        }
        for claim in &self.claims {
            if claim.agrees() {
                writeln!(
                    f,
                    "  [{:<6}] {}: {}",
                    claim.observed, claim.text, claim.evidence
                )?;
            } else {
                writeln!(
                    f,
                    "  [DIFFERS] {}: the book says {}, observed {}: {}",
                    claim.text, claim.expected, claim.observed, claim.evidence
                )?;
            }
        }
        Ok(())
    }
}

/// Why the tour could not run at all.
#[derive(Debug)]
pub enum TourError {
    /// This machine cannot create network namespaces; the text says why.
    NoSandbox(String),
    /// Building the LAN failed for another reason.
    Lan(String),
}

impl fmt::Display for TourError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TourError::NoSandbox(why) => write!(
                f,
                "the tour needs to create network namespaces, and cannot here: {why}\n\
                 It needs one of:\n  \
                 - root: sudo -E cargo run -p docs --bin tour\n  \
                 - unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 \
                 (Debian) or kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu)\n\
                 Nothing was sent: the tour never touches this machine's own network."
            ),
            TourError::Lan(why) => write!(f, "building the tour's LAN failed: {why}"),
        }
    }
}

impl std::error::Error for TourError {}

/// The hosts of the tour's LAN, in order.
const HOSTS: [&str; 3] = ["a", "b", "c"];

/// Builds the LAN and runs the four articles on it, in book order. An article that could
/// not run at all is an `Err` naming what failed; the others still run.
pub fn run() -> Result<Report, TourError> {
    let started = Instant::now();
    let lan = Lan::new(HOSTS).map_err(|error| match error {
        harness::Error::Unavailable(why) => TourError::NoSandbox(why.to_string()),
        other => TourError::Lan(other.to_string()),
    })?;
    let chapters = vec![
        ruby::tour(&lan).map_err(|e| format!("Ruby article: {e}")),
        python::tour(&lan).map_err(|e| format!("Python article: {e}")),
        diary::tour(&lan).map_err(|e| format!("Rust diary: {e}")),
        loopback::tour(&lan).map_err(|e| format!("C loopback article: {e}")),
    ];
    Ok(Report {
        chapters,
        elapsed: started.elapsed(),
    })
}

/// A whole tour: each article's chapter, or why it could not run, and how long it all took.
/// Its `Display` is what the `tour` program prints.
#[derive(Debug)]
pub struct Report {
    /// One per article, in book order.
    pub chapters: Vec<Result<Chapter, String>>,
    /// From building the LAN to the end of the last article.
    pub elapsed: Duration,
}

impl Report {
    /// Whether every article ran and every verdict is the book's.
    pub fn agrees(&self) -> bool {
        self.chapters
            .iter()
            .all(|chapter| chapter.as_ref().is_ok_and(Chapter::agrees))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut claims, mut differing, mut failed) = (0, 0, 0);
        for chapter in &self.chapters {
            match chapter {
                Ok(chapter) => {
                    writeln!(f, "{chapter}")?;
                    claims += chapter.claims.len();
                    differing += chapter.claims.iter().filter(|c| !c.agrees()).count();
                }
                Err(error) => {
                    writeln!(f, "== FAILED: {error} ==\n")?;
                    failed += 1;
                }
            }
        }
        writeln!(
            f,
            "{claims} claims checked, {differing} differ from the book, {failed} article(s) failed, in {:.1} s",
            self.elapsed.as_secs_f64()
        )
    }
}

/// A claim as the book states it: its words, its test, its verdict.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The article that makes the claim, as the appendix's "article" column names it.
    pub article: &'static str,
    /// The claim, in a few words.
    pub text: &'static str,
    /// The test the appendix names for it.
    pub test: &'static str,
    /// The verdict the appendix gives.
    pub expected: Verdict,
}

/// Every claim the tour checks, with the verdict the book expects, without running
/// anything: what `tour_verdicts_match_the_appendix` compares with the appendix.
pub fn expected_claims() -> Vec<Spec> {
    [
        ruby::CLAIMS,
        python::CLAIMS,
        diary::CLAIMS,
        loopback::CLAIMS,
    ]
    .concat()
}

/// Each section's title and the book's chapter it belongs to, in the tour's order.
pub fn sections() -> [(&'static str, &'static str); 4] {
    [
        ruby::SECTION,
        python::SECTION,
        diary::SECTION,
        loopback::SECTION,
    ]
}

/// `host`'s name and address, for narration: `b (10.0.0.2)`.
fn who(host: &Host) -> String {
    format!("{} ({})", host.name(), host.ipv4())
}

/// A claim's verdict from a yes/no observation.
fn verdict(holds: bool, otherwise: Verdict) -> Verdict {
    if holds { Verdict::Holds } else { otherwise }
}

/// How long any single wait of the tour may take before it counts as a failure.
const DEADLINE: Duration = Duration::from_secs(2);
