//! The fan-out tool's tests, in one binary: its accounting, checked in a sandbox (`cli`),
//! and a receiver under a flood (`flood`).

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod cli;
mod flood;
