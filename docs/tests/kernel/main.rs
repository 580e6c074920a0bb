//! What the book says the kernel does, checked on the kernel in front of you, in one binary:
//! the claims appendix (`claims`), the chapters' network behaviours (`beyond`: what goes on
//! the wire and what a slow receiver loses; `snooping`: a bridge's membership timers), the
//! kernel's limits (`limits`) and tests that share a namespace (`serial`). Most of their
//! time is spent waiting on the kernel's timers, so they run side by side. What a reader
//! runs and reads is `tests/chapters/`.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

mod beyond;
mod claims;
mod limits;
mod serial;
mod snooping;
