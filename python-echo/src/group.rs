//! The multicast group: the one address every sender and receiver in this lesson agrees on.
//!
//! The article hard-codes `224.3.29.71` and port `10000`. Here they are defaults, and a
//! [`Group`] is an address that has been checked to be multicast once, when it is parsed,
//! so the sender and receiver never have to ask again.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use crate::options::ParseError;

/// The article's group, `224.3.29.71`: both original programs use it.
pub const DEFAULT_GROUP: Ipv4Addr = Ipv4Addr::new(224, 3, 29, 71);

/// The article's port, `10000`: the receiver binds it and the sender sends to it.
pub const DEFAULT_PORT: u16 = 10000;

/// A multicast group address, IPv4 (`224.0.0.0/4`) or IPv6 (`ff00::/8`).
///
/// The article gives the IPv4 range as 224.0.0.0 to 230.255.255.255. IANA reserves the
/// whole `224.0.0.0/4` block, up to 239.255.255.255, and so does the kernel, so this type
/// accepts all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group(IpAddr);

impl Group {
    /// Checks that `address` is a multicast address.
    pub fn new(address: IpAddr) -> Result<Self, ParseError> {
        if address.is_multicast() {
            Ok(Group(address))
        } else {
            Err(ParseError::NotMulticast(address))
        }
    }

    /// The address itself.
    pub fn ip(&self) -> IpAddr {
        self.0
    }

    /// Whether this is an IPv6 group (the article only shows IPv4).
    pub fn is_ipv6(&self) -> bool {
        self.0.is_ipv6()
    }
}

impl Default for Group {
    /// The article's group, [`DEFAULT_GROUP`].
    fn default() -> Self {
        Group(IpAddr::V4(DEFAULT_GROUP))
    }
}

impl FromStr for Group {
    type Err = ParseError;

    /// Parses `224.3.29.71` or `ff05::329:71` (brackets around IPv6 are allowed).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        let address: IpAddr = bare
            .parse()
            .map_err(|_| ParseError::NotAnAddress(text.to_string()))?;
        Group::new(address)
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default is the article's group, so our programs meet the originals on the wire.
    #[test]
    fn default_group_is_the_articles() {
        assert_eq!(Group::default().to_string(), "224.3.29.71");
    }

    /// The article stops the range at 230.255.255.255; the kernel and IANA go up to 239.
    #[test]
    fn group_accepts_addresses_the_article_left_out() {
        assert!("239.255.255.250".parse::<Group>().is_ok());
        assert!("231.1.2.3".parse::<Group>().is_ok());
    }

    /// A unicast address is refused with a message naming it and the expected ranges.
    #[test]
    fn unicast_address_is_refused_by_name() {
        let error = "10.0.0.1".parse::<Group>().unwrap_err().to_string();
        assert!(error.contains("10.0.0.1"), "{error}");
        assert!(error.contains("224.0.0.0/4"), "{error}");
        assert!(error.contains("ff00::/8"), "{error}");
    }

    /// Text that is no address at all is refused, quoting the text.
    #[test]
    fn text_that_is_no_address_is_refused() {
        let error = "224.3.29".parse::<Group>().unwrap_err().to_string();
        assert!(error.contains("\"224.3.29\""), "{error}");
    }

    /// IPv6 groups parse with or without brackets.
    #[test]
    fn ipv6_groups_parse_with_or_without_brackets() {
        let plain: Group = "ff05::329:71".parse().unwrap();
        let bracketed: Group = "[ff05::329:71]".parse().unwrap();
        assert_eq!(plain, bracketed);
        assert!(plain.is_ipv6());
        assert!("fd00::1".parse::<Group>().is_err());
    }
}
