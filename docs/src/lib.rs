//! # The workshop book, its walkthrough tests, and the tour
//!
//! This crate holds the workshop book (`docs/src/*.md`, an mdBook: build it
//! with `mdbook build docs`) and the code that keeps the book honest.
//!
//! What the reader learns here is less about multicast than about keeping
//! documentation true: every `console` block in the book is a test, every
//! claim in the appendix names the test that decides it.
//!
//! Deliberately left out: any multicast code of its own. The ports own the
//! code; the book includes it from their crates.
