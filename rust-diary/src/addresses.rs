//! The diary's three constants: one port and one group per address family, and the same
//! groups as checked [`Group`]s for the fixed code.
//!
//! The diary builds the two group addresses with the `lazy_static!` macro, because in 2019
//! `Ipv4Addr::new` and `Ipv6Addr::new` were not yet `const fn` and a `static` needed a
//! value the compiler could compute. That is no longer true, so this module keeps the
//! macro (it is what the article shows) and explains what you would write today.
//!
//! # What you would write today
//!
//! Both constructors have been `const fn` since Rust 1.32, and `IpAddr::V4(..)` is a plain
//! enum constructor, so the groups can simply be constants, computed at compile time, with
//! no hidden `Once` behind a `Deref`:
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
//!
//! const IPV4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 123));
//! const IPV6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x0123));
//! // Same values as the lazy_static versions, and no `*` to dereference them.
//! assert_eq!(IPV4, *rust_diary::IPV4);
//! assert_eq!(IPV6, *rust_diary::IPV6);
//! ```
//!
//! For a value that really does need code at run time (reading a file, resolving an
//! interface), the standard library has had `std::sync::LazyLock` since Rust 1.80: it is
//! what `lazy_static!` expands to in spirit, without a macro or a dependency:
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::sync::LazyLock;
//!
//! static GROUP: LazyLock<IpAddr> = LazyLock::new(|| {
//!     std::env::var("DIARY_GROUP")
//!         .ok()
//!         .and_then(|text| text.parse().ok())
//!         .unwrap_or(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 123)))
//! });
//! assert!(GROUP.is_multicast());
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lazy_static::lazy_static;
use mcast_vocab::Group;

/// The UDP port every socket in the diary uses: 7645.
pub const PORT: u16 = 7645;

lazy_static! {
    /// The IPv4 group, `224.0.0.123`: inside `224.0.0.0/24`, the link-local block that
    /// routers never forward, so a test cannot leak past the first hop.
    pub static ref IPV4: IpAddr = Ipv4Addr::new(224, 0, 0, 123).into();

    /// The IPv6 group, `ff02::123`: the `2` in `ff02` is the link-local scope, the IPv6 way
    /// of saying the same thing. Link-local scope has a cost the diary ran into: the
    /// address means nothing without an interface to scope it to (see [`crate::diary`]).
    pub static ref IPV6: IpAddr = Ipv6Addr::new(0xFF02, 0, 0, 0, 0, 0, 0, 0x0123).into();
}

/// The diary's IPv4 group and port as the fixed code takes them: `224.0.0.123:7645`,
/// checked to be multicast when this crate compiles.
pub const GROUP_V4: Group = Group::ipv4(Ipv4Addr::new(224, 0, 0, 123), PORT);

/// The diary's IPv6 group and port as the fixed code takes them: `[ff02::123]:7645`.
///
/// A function, not a `const` like [`GROUP_V4`]: `mcast_vocab` can check an IPv4 group at
/// compile time, but has no `const` constructor for IPv6 groups.
pub fn group_v6() -> Group {
    Group::new(*IPV6, PORT).expect("ff02::123 is a link-local multicast group")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diary's first tests: both groups really are multicast addresses.
    #[test]
    fn test_ipv4_multicast() {
        assert!(IPV4.is_multicast());
    }

    /// The IPv6 twin of the check above.
    #[test]
    fn test_ipv6_multicast() {
        assert!(IPV6.is_multicast());
    }

    /// Both groups are link-local: IPv4 by being inside 224.0.0.0/24, IPv6 by scope 2.
    #[test]
    fn both_groups_are_link_local() {
        let IpAddr::V4(v4) = *IPV4 else {
            panic!("IPV4 is {}", *IPV4)
        };
        assert_eq!(&v4.octets()[..3], &[224, 0, 0]);
        let IpAddr::V6(v6) = *IPV6 else {
            panic!("IPV6 is {}", *IPV6)
        };
        assert_eq!(v6.segments()[0] & 0x000f, 2, "scope nibble of {v6}");
    }

    /// The checked groups are the diary's addresses and port.
    #[test]
    fn checked_groups_are_the_diarys() {
        assert_eq!(GROUP_V4.to_string(), "224.0.0.123:7645");
        assert_eq!(group_v6().to_string(), "[ff02::123]:7645");
        assert_eq!((GROUP_V4.ip(), group_v6().ip()), (*IPV4, *IPV6));
    }
}
