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
/// Its `Debug` is its `Display`, so that `.within(..).unwrap()` in a test prints the message
/// as lines, not as one string full of `\n`.
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

impl fmt::Debug for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unmet {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test that unwraps an unmet expectation shows its message line by line.
    #[test]
    fn an_unwrapped_unmet_prints_its_lines() {
        let unmet = Unmet::new(
            "1 datagram on b".into(),
            vec![],
            "routes of b: none\n".into(),
        );
        let shown = format!("{unmet:?}");
        assert!(
            shown.starts_with("1 datagram on b\nnothing arrived\n"),
            "{shown}"
        );
        assert!(!shown.contains("\\n"), "{shown}");
    }
}
