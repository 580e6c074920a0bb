//! What the `diary` command prints, one `Display` per line kind, so the program itself only
//! parses arguments and calls the library.

use std::fmt;
use std::net::SocketAddr;

use mcast_vocab::{Group, Interface};

use crate::responder::Heard;

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

/// A line of `diary respond` per datagram answered:
/// `heard "Hello from client!" from 10.0.0.1:40000, answered "ipv4"`.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    /// The datagram.
    pub heard: &'a Heard,
    /// What the responder answered.
    pub response: &'a str,
}

impl fmt::Display for Answered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heard {:?} from {}, answered {:?}",
            self.heard.text, self.heard.from, self.response
        )
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
}
