//! The tour: all four articles, end to end, on one sandboxed LAN, with a verdict per claim.
//!
//! [`run`] builds a LAN of three hosts (`a` 10.0.0.1, `b` 10.0.0.2, `c` 10.0.0.3), runs
//! each article's programs through the port crates' libraries, and returns a [`Report`]
//! with one [`Chapter`] per article: what was sent, who received it and on which interface, and
//! the claims it checked. Each [`Claim`] carries the verdict the book gives
//! (`docs/src/claims.md`) and its [`Outcome`]: the verdict observed now, or, where this
//! machine lacks what the check needs (a kernel without multicast routing cannot build the
//! router of the TTL claim), the [`harness::Missing`] that says so. A verdict that differs
//! means the kernel, a port or the book changed; a claim not checked is neither a pass nor a
//! failure, and the report counts it. The test `tour_verdicts_match_the_appendix` keeps the
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

/// One claim of an article, and what the tour made of it.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The claim, in a few words.
    pub text: &'static str,
    /// The verdict the book gives.
    pub expected: Verdict,
    /// The verdict observed in this run, or why it could not be checked.
    pub outcome: Outcome,
    /// The test the appendix names for this claim (`crate/tests/file.rs::test`).
    pub test: &'static str,
}

/// What the tour made of one claim.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Checked: the verdict observed and what was seen that decided it.
    Checked {
        /// The verdict observed in this run.
        verdict: Verdict,
        /// What was seen that decided it.
        evidence: String,
    },
    /// Not checked: this machine lacks what the check needs. Neither a pass nor a failure,
    /// unless the run requires that capability (`HARNESS_REQUIRE`, see
    /// [`Report::unmet_requirements`]).
    NotChecked(harness::Missing),
}

impl Claim {
    /// Whether the claim was checked and the verdict observed is not the book's.
    pub fn differs(&self) -> bool {
        matches!(&self.outcome, Outcome::Checked { verdict, .. } if *verdict != self.expected)
    }

    /// What this machine lacks to check the claim, if it could not.
    pub fn missing(&self) -> Option<&harness::Missing> {
        match &self.outcome {
            Outcome::NotChecked(missing) => Some(missing),
            Outcome::Checked { .. } => None,
        }
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
        self.record(
            spec,
            Outcome::Checked {
                verdict: observed,
                evidence: evidence.into(),
            },
        );
    }

    fn record(&mut self, spec: &Spec, outcome: Outcome) {
        self.claims.push(Claim {
            text: spec.text,
            expected: spec.expected,
            outcome,
            test: spec.test,
        });
    }

    /// What a claim's check needs, built: the value, or `None` with the claim recorded as not
    /// checked when this machine lacks a capability it needs (the tour's `or_skip!`). Any
    /// other error is returned: a fault, not a kernel without a feature.
    fn needs<T>(&mut self, spec: &Spec, built: harness::Result<T>) -> harness::Result<Option<T>> {
        match built {
            Ok(value) => Ok(Some(value)),
            Err(harness::Error::Unavailable(missing)) => {
                self.record(spec, Outcome::NotChecked(missing));
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// Whether a verdict observed here differs from the book.
    pub fn differs(&self) -> bool {
        self.claims.iter().any(Claim::differs)
    }
}

impl fmt::Display for Chapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== {} (the book's {}) ==", self.title, self.file)?;
        for line in &self.narration {
            writeln!(f, "  {line}")?;
        }
        for claim in &self.claims {
            let text = claim.text;
            match &claim.outcome {
                Outcome::Checked { verdict, evidence } if *verdict == claim.expected => {
                    writeln!(f, "  [{verdict:<6}] {text}: {evidence}")?
                }
                Outcome::Checked { verdict, evidence } => writeln!(
                    f,
                    "  [DIFFERS] {text}: the book says {}, observed {verdict}: {evidence}",
                    claim.expected
                )?,
                Outcome::NotChecked(missing) => writeln!(f, "  [not checked] {text}: {missing}")?,
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
    /// Whether every article ran and no verdict observed differs from the book. A claim this
    /// machine could not check differs from nothing.
    pub fn agrees(&self) -> bool {
        self.chapters
            .iter()
            .all(|chapter| chapter.as_ref().is_ok_and(|c| !c.differs()))
    }

    /// The claims of the articles that ran.
    fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.chapters.iter().flatten().flat_map(|c| &c.claims)
    }

    /// One line per claim left unchecked for lack of a capability this run requires
    /// (`HARNESS_REQUIRE`, as CI's VM sets it; see `harness::required`): there, not checking
    /// is a failure.
    pub fn unmet_requirements(&self) -> Vec<String> {
        self.claims()
            .filter_map(|claim| {
                let missing = claim.missing()?;
                let why = harness::required(missing.capability)?;
                Some(format!("{}: {why}, but {missing}", claim.text))
            })
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut failed = 0;
        for chapter in &self.chapters {
            match chapter {
                Ok(chapter) => writeln!(f, "{chapter}")?,
                Err(error) => {
                    writeln!(f, "== FAILED: {error} ==\n")?;
                    failed += 1;
                }
            }
        }
        let unchecked: Vec<&harness::Missing> = self.claims().filter_map(Claim::missing).collect();
        let checked = self.claims().count() - unchecked.len();
        let differing = self.claims().filter(|c| c.differs()).count();
        write!(
            f,
            "{checked} claims checked, {differing} differ from the book, {failed} article(s) failed, in {:.1} s",
            self.elapsed.as_secs_f64()
        )?;
        if !unchecked.is_empty() {
            let mut lacking: Vec<String> = Vec::new();
            for c in unchecked.iter().map(|m| m.capability) {
                let named = format!(
                    "{} ({})",
                    c.title().trim_start_matches("the "),
                    c.provided_by()
                );
                if !lacking.contains(&named) {
                    lacking.push(named);
                }
            }
            let claims = if unchecked.len() == 1 {
                "claim"
            } else {
                "claims"
            };
            write!(
                f,
                "; {} {claims} not checked on this kernel, which has no {}",
                unchecked.len(),
                lacking.join(" and no ")
            )?;
        }
        writeln!(f)
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
