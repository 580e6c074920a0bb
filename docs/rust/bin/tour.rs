//! `tour`: all four articles, end to end, in a sandboxed LAN, with a verdict per claim.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::process::ExitCode;

use clap::Parser;

/// Runs the four articles of the multicast workshop on a throwaway LAN of three network
/// namespaces (a 10.0.0.1, b 10.0.0.2, c 10.0.0.3) and checks each claim against the book's
/// appendix (docs/src/claims.md).
#[derive(Parser)]
#[command(
    name = "tour",
    version,
    after_help = "A claim this machine cannot check (the TTL claim needs a kernel with multicast \
                  routing, CONFIG_IP_MROUTE) is printed as [not checked] with the reason, and \
                  counted on the last line.\n\n\
                  Exit status: 0 no verdict differs from the book, 1 a verdict differs, an \
                  article failed, or HARNESS_REQUIRE names a capability a claim needed and this \
                  machine lacks, 2 no sandbox possible here (or the arguments were wrong)."
)]
struct Arguments {}

fn main() -> ExitCode {
    Arguments::parse();
    match docs::tour::run() {
        Ok(report) => {
            use std::io::Write;
            match write!(std::io::stdout().lock(), "{report}") {
                // The reader went away (`tour | head -1`): end quietly.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tour: writing the report: {e}");
                    return ExitCode::FAILURE;
                }
                Ok(()) => {}
            }
            let unmet = report.unmet_requirements();
            for line in &unmet {
                eprintln!("tour: {line}");
            }
            if report.agrees() && unmet.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("tour: {error}");
            ExitCode::from(2)
        }
    }
}
