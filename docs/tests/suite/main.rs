//! The book's tests, in one binary: each module checks a chapter or a part of the book
//! against what really happens (`claims`, `snooping`, `beyond`, `limits`, `serial`, ...), or
//! the book itself (`text`: its links, its summary, the tests its appendix names). Most of
//! their time is spent waiting on the kernel's timers and on the programs they run, so they
//! run side by side.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

mod beyond;
mod claims;
mod harness_example;
mod limits;
mod pictures;
mod recipes;
mod serial;
mod snooping;
mod text;
mod tour;
mod walkthroughs;
