//! The article's values, kept so our programs meet the originals on the wire.
//!
//! The original programs hard-code all of these; here they are the defaults of options.

use std::net::Ipv4Addr;
use std::time::Duration;

use mcast_vocab::Group;

/// The article's group and port, `224.3.29.71:10000`: both original programs use them.
///
/// The article gives the IPv4 multicast range as 224.0.0.0 to 230.255.255.255. IANA
/// reserves the whole `224.0.0.0/4` block, up to 239.255.255.255, and so does the kernel,
/// so `--group` accepts all of it.
pub const DEFAULT_GROUP: Group = Group::ipv4(Ipv4Addr::new(224, 3, 29, 71), 10000);

/// The article's message.
pub(crate) const DEFAULT_MESSAGE: &[u8] = b"very important data";

/// The article's reply timeout: the sender gives up after 0.2 s without a reply.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);

/// How long the sender waits for replies in all, however many keep coming: not in the
/// article, whose sender a talkative peer can keep running for ever.
pub(crate) const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(10);

/// The shortest timeout either program takes. `SO_RCVTIMEO` counts in microseconds and
/// treats 0 as "wait for ever", so a few hundred nanoseconds would mean the opposite of
/// what was asked; a millisecond is far above that rounding.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);

#[cfg(test)]
mod tests {
    use super::*;

    /// The default is the article's group and port, so our programs meet the originals.
    #[test]
    fn default_group_is_the_articles() {
        assert_eq!(DEFAULT_GROUP.to_string(), "224.3.29.71:10000");
    }
}
