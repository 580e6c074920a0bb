//! # The workshop book, its walkthrough tests, and the tour
//!
//! This crate holds the workshop book (`docs/src/*.md`, an mdBook: build it
//! with `mdbook build docs`) and the code that keeps the book honest.
//!
//! What the reader learns here is less about multicast than about keeping
//! documentation true: every `console` block in the book is a test, every
//! claim in the appendix names the test that decides it.
//!
//! Deliberately left out: the articles' code. The ports own it, and the book
//! includes it from their crates; the tour drives it through their libraries.
//! It has no socket code of its own: even the Ruby article's `ping` to a group, which
//! the tour sends where no `ping` program is installed, is `ruby_port::ping_group_among`.
//!
//! ## Layout
//!
//! - `src/*.md`: the book (mdBook layout; `SUMMARY.md` is its table of contents). This
//!   crate's code is in `rust/`, so that the built HTML ships only the book.
//! - [`walkthrough`]: reads the book's `console` blocks as steps to run and
//!   matches program output against what the book shows.
//! - [`binaries`]: where the workspace's programs are, for tests that run them
//!   (and why a test has to look: the one place that builds them).
//! - [`picture`]: SVG pictures of the labs the chapters open, drawn from a running lab
//!   (the code lives in the lab crate, `lab/src/picture.rs`, whose web view draws the same).
//! - [`tour`]: all four articles on one sandboxed LAN, with a verdict per claim
//!   (`rust/bin/tour.rs` prints it: `cargo run -p docs --bin tour`).
//! - `tests/chapters/walkthroughs.rs`: runs every `console` block of the book in a sandbox.
//! - `tests/chapters/text.rs`: every `{{#include}}` and every link of the book resolves.
//! - `tests/kernel/claims.rs`: the claims no port crate covers (see the appendix).
//! - `tests/chapters/pictures.rs`: the book's lab pictures are what the labs really are.
//! - `tests/chapters/harness_example.rs`: the harness chapter's example, compiled and run.

pub mod binaries;
/// SVG pictures of the labs; drawn by the lab crate, which the live web view shares.
pub use lab::picture;
pub mod tour;
pub mod walkthrough;
