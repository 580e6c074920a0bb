//! `tour`: all four articles, end to end, in a sandboxed LAN, with a verdict per claim.

use std::process::ExitCode;
use std::time::Instant;

/// Runs the workshop's four articles on a throwaway LAN of three hosts (a, b, c), prints
/// what each sent and who received it where, and checks every claim against the book.
///
/// Exit status: 0 when every verdict matches the book, 1 when one differs or an article
/// could not run, 2 when no sandbox can be built here (the message says what is needed).
fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!(
            "Usage: tour\n\nRuns the four articles of the multicast workshop on a throwaway LAN of \
             three network namespaces (a 10.0.0.1, b 10.0.0.2, c 10.0.0.3) and checks each claim \
             against the book's appendix (docs/src/claims.md).\nExit status: 0 all verdicts as in \
             the book, 1 a verdict differs or an article failed, 2 no sandbox possible here."
        );
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let chapters = match docs::tour::run() {
        Ok(chapters) => chapters,
        Err(error) => {
            eprintln!("tour: {error}");
            return ExitCode::from(2);
        }
    };
    let (mut claims, mut differing, mut failed) = (0, 0, 0);
    for chapter in &chapters {
        match chapter {
            Ok(chapter) => {
                println!("{chapter}");
                claims += chapter.claims.len();
                differing += chapter.claims.iter().filter(|c| !c.agrees()).count();
            }
            Err(error) => {
                println!("== FAILED: {error} ==\n");
                failed += 1;
            }
        }
    }
    println!(
        "{claims} claims checked, {differing} differ from the book, {failed} article(s) failed, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if differing == 0 && failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
