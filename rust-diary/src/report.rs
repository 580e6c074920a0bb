//! What the `diary` command prints, one `Display` per line kind, so the program itself only
//! parses arguments and calls the library.

use std::fmt;
use std::net::SocketAddr;

use mcast_vocab::{Group, Interface};

use crate::responder::{Heard, Tally};

/// The interface a socket uses, as a reader wants it: `eth0 (index 2)`, or `the routed
/// interface` when none was chosen and the route to the group decides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Via<'a>(pub Option<&'a Interface>);

impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(interface) => write!(f, "{} (index {})", interface.name, interface.index),
            None => f.write_str("the routed interface"),
        }
    }
}

/// The first line of `diary respond`, printed once the socket is joined and bound:
/// `listening on [ff02::123]:7645 (joined on eth0 (index 2), bound to [ff02::123%2]:7645)`.
#[derive(Debug, Clone, Copy)]
pub struct Listening<'a> {
    /// The group joined.
    pub group: &'a Group,
    /// The interface it was joined on, if one was chosen.
    pub interface: Option<&'a Interface>,
    /// The address the socket is bound to.
    pub bound: SocketAddr,
}

impl fmt::Display for Listening<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "listening on {} (joined on {}, bound to {})",
            self.group,
            Via(self.interface),
            self.bound
        )
    }
}

/// A line of `diary respond` per datagram heard:
/// `heard "Hello from client!" from 10.0.0.1:40000, answered "ipv4"`, or, when the kernel
/// refused the answer, `heard "x" from 10.0.0.1:0, could not answer "ipv4": Invalid
/// argument (os error 22)`. The text is shown quoted and escaped (`{:?}`), so a peer's
/// control characters never reach the terminal raw.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    /// The datagram.
    pub heard: &'a Heard,
    /// What the responder answered.
    pub response: &'a str,
}

impl fmt::Display for Answered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.heard.failure {
            None => write!(
                f,
                "heard {:?} from {}, answered {:?}",
                self.heard.text, self.heard.from, self.response
            ),
            Some(failure) => write!(
                f,
                "heard {:?} from {}, could not answer {:?}: {failure}",
                self.heard.text, self.heard.from, self.response
            ),
        }
    }
}

/// The last line of `diary respond`: `heard 3 datagrams, answered 2, 1 could not be
/// answered (last: Invalid argument (os error 22))`.
#[derive(Debug, Clone, Copy)]
pub struct Totals<'a>(pub &'a Tally);

impl fmt::Display for Totals<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Tally {
            heard,
            failed,
            last_failure,
        } = self.0;
        write!(f, "heard {heard} datagram(s), answered {}", heard - failed)?;
        if let Some(last) = last_failure {
            write!(f, ", {failed} could not be answered (last: {last})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines read as the book shows them, with or without a chosen interface.
    #[test]
    fn lines_read_as_the_book_shows_them() {
        let eth0 = Interface {
            index: 2,
            name: "eth0".into(),
        };
        let group = crate::group_v6();
        let listening = Listening {
            group: &group,
            interface: Some(&eth0),
            bound: "[ff02::123%2]:7645".parse().unwrap(),
        };
        assert_eq!(
            listening.to_string(),
            "listening on [ff02::123]:7645 (joined on eth0 (index 2), bound to [ff02::123%2]:7645)"
        );
        assert_eq!(Via(None).to_string(), "the routed interface");
        let heard = Heard {
            from: "10.0.0.1:40000".parse().unwrap(),
            text: "Hello from client!".into(),
            failure: None,
        };
        let answered = Answered {
            heard: &heard,
            response: "ipv4",
        };
        assert_eq!(
            answered.to_string(),
            r#"heard "Hello from client!" from 10.0.0.1:40000, answered "ipv4""#
        );
    }

    /// A refused answer and a peer's escape sequence read as text, never raw.
    #[test]
    fn failures_and_escapes_are_shown_as_text() {
        let heard = Heard {
            from: "10.0.0.1:0".parse().unwrap(),
            text: "\u{1b}]0;x\u{7}\u{9b}".into(),
            failure: Some("Invalid argument (os error 22)".into()),
        };
        let line = Answered {
            heard: &heard,
            response: "ipv4",
        }
        .to_string();
        assert_eq!(
            line,
            r#"heard "\u{1b}]0;x\u{7}\u{9b}" from 10.0.0.1:0, could not answer "ipv4": Invalid argument (os error 22)"#
        );
        let tally = Tally {
            heard: 3,
            failed: 1,
            last_failure: heard.failure.clone(),
        };
        assert_eq!(
            Totals(&tally).to_string(),
            "heard 3 datagram(s), answered 2, 1 could not be answered (last: Invalid argument (os error 22))"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever bytes a peer sends, the line `diary respond` prints for them (read the
        /// way the responder reads them, as lossy UTF-8) is one line with no control
        /// character: the text is escaped, never printed raw. So is `diary ask`'s reply.
        #[test]
        fn any_datagram_prints_as_one_safe_line(
            bytes in proptest::collection::vec(any::<u8>(), 0..1024),
            failed in any::<bool>(),
        ) {
            let heard = Heard {
                from: "10.0.0.1:0".parse().unwrap(),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                failure: failed.then(|| "Invalid argument (os error 22)".to_string()),
            };
            let line = Answered { heard: &heard, response: "ipv4" }.to_string();
            prop_assert!(!line.chars().any(char::is_control), "{:?}", line);
            // `diary ask` prints a reply's text the same way.
            let reply = crate::Reply { text: heard.text, from: heard.from }.to_string();
            prop_assert!(!reply.chars().any(char::is_control), "{:?}", reply);
        }
    }
}
