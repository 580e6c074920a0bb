//! The loopback demo's tests, in one binary: the demo as the article runs it, and the
//! experiment that varies what the article fixed.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod demo;
mod experiment;
