//! The error of an expectation that did not come true, written for the person reading CI logs.

use std::fmt;

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
        crate::pause::count_unmet();
        Unmet { message }
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unmet {}
