//! The error of an expectation that did not come true, written for the person reading CI logs.

use std::fmt;

thread_local! {
    /// How many `Unmet`s were made on this thread.
    static MADE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many unmet expectations this thread has made so far: a network compares it with the
/// count when it was built to tell that its test failed (see `pause.rs`).
pub(crate) fn made_on_this_thread() -> u64 {
    MADE.with(std::cell::Cell::get)
}

/// An expectation on received traffic that was not met. Its message says what was expected,
/// lists what did arrive (with interfaces), and shows the host's memberships and routes.
#[derive(Debug)]
pub struct Unmet {
    message: String,
}

impl Unmet {
    pub(crate) fn new(expected: String, seen: Vec<String>, diagnostics: String) -> Unmet {
        let mut message = format!("{expected}\n");
        if seen.is_empty() {
            message.push_str("nothing arrived\n");
        } else {
            message.push_str(&format!("what arrived ({}):\n", seen.len()));
            for line in seen {
                message.push_str(&format!("  {line}\n"));
            }
        }
        message.push_str(&diagnostics);
        MADE.with(|c| c.set(c.get() + 1));
        Unmet { message }
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unmet {}
