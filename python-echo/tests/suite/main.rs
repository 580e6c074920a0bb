//! The programs' tests, in one binary: most of them spend their time waiting (for the
//! kernel, and for the sender's reply timeout) and the floods spend theirs on the CPU, so
//! they run side by side. Each module is one subject: the article's own example, bad input,
//! floods, IPv6, the options the original lacks, silence and errors, and wire compatibility
//! with the Python originals.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

mod article_example;
mod bad_input;
mod flood;
mod ipv6;
mod options;
mod silence_and_errors;
mod wire_compat;
