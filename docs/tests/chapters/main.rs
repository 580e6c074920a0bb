//! The book as a reader meets it, in one binary: every `console` block of every chapter run
//! as the chapter says (`walkthroughs`), the tour (`tour`), the sandbox chapter's commands
//! (`recipes`), the harness chapter's example (`harness_example`), the lab pictures
//! (`pictures`) and the text itself: its links, its summary, the tests its appendix names
//! (`text`). What the book says the kernel does is `tests/kernel/`.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod harness_example;
mod pictures;
mod recipes;
mod text;
mod tour;
mod walkthroughs;
