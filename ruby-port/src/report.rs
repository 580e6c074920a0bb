//! What `send --verbose` says about the datagram it sent.
//!
//! The other programs' lines are `Display`s of the values they describe:
//! [`Config`] (`224.0.0.1:3000 on any interface`), [`crate::Client`]
//! (`<alice> (client id 3f9a0c11de)`) and [`crate::Received::display`].

use std::fmt;

use crate::config::Config;

/// One datagram sent with `config`: `sent 11 bytes to 224.0.0.1:3000 with TTL 1`,
/// with `via eth0` before the TTL when an interface was chosen.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    /// The bytes [`crate::send()`] reported sent.
    pub bytes: usize,
    /// Where they went.
    pub config: &'a Config,
}

impl fmt::Display for Sent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sent {} bytes to {}", self.bytes, self.config.group())?;
        if let Some(interface) = self.config.interface() {
            write!(f, " via {interface}")?;
        }
        write!(f, " with TTL {}", self.config.ttl())
    }
}

#[cfg(test)]
mod tests {
    use mcast_vocab::{Group, Interface, Ttl};

    use super::*;

    /// The line names the size, the group, the interface only when one was
    /// chosen, and the TTL.
    #[test]
    fn sent_line_names_the_interface_only_when_chosen() {
        let default = Config::send_receive();
        let line = Sent {
            bytes: 11,
            config: &default,
        };
        assert_eq!(
            line.to_string(),
            "sent 11 bytes to 224.0.0.1:3000 with TTL 1"
        );
        let lo = Interface::named("lo").unwrap();
        let chosen = Config::new(Group::parse("239.1.2.3:5000").unwrap(), Some(lo))
            .unwrap()
            .with_ttl(Ttl(3));
        let line = Sent {
            bytes: 2,
            config: &chosen,
        };
        assert_eq!(
            line.to_string(),
            "sent 2 bytes to 239.1.2.3:5000 via lo with TTL 3"
        );
    }
}
