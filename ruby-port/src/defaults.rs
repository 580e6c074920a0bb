//! The article's groups: where its programs send and listen unless told otherwise.
//!
//! The Ruby scripts hard-code them as strings (`MULTICAST_ADDR = "224.0.0.1"`,
//! `PORT = 3000`). Here they are [`Group`] constants, checked to be multicast
//! when the crate is built: a typo such as `224.0.0.1000` or a unicast address
//! does not compile.

use std::net::Ipv4Addr;

use mcast_vocab::Group;

/// `send.rb` and `receive.rb`: the all-hosts group 224.0.0.1, port 3000.
pub const SEND_RECEIVE_GROUP: Group = Group::ipv4(Ipv4Addr::new(224, 0, 0, 1), 3000);

/// The backchannel chat: 224.6.8.11, port 6811, as in the released code that
/// real peers run (the article's prose says 224.6.1.88 and 6188; the wire wins).
pub const BACKCHANNEL_GROUP: Group = Group::ipv4(Ipv4Addr::new(224, 6, 8, 11), 6811);

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are the article's scripts' and the released gem's, so the
    /// programs meet the originals on the wire.
    #[test]
    fn defaults_are_the_originals_groups() {
        assert_eq!(SEND_RECEIVE_GROUP.to_string(), "224.0.0.1:3000");
        assert_eq!(BACKCHANNEL_GROUP.to_string(), "224.6.8.11:6811");
    }
}
