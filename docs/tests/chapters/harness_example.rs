//! The complete example of the "Testing multicast code with the harness" chapter.
//!
//! The book includes this file piece by piece (the `ANCHOR` markers), so what the
//! reader sees is code that compiles and passes in CI.

// ANCHOR: code_under_test
use std::io;
use std::net::{SocketAddr, UdpSocket};

/// The code we want to test: announce a name to a group, with a chosen TTL.
fn announce(group: SocketAddr, name: &str, ttl: u32) -> io::Result<()> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    socket.set_multicast_ttl_v4(ttl)?;
    socket.send_to(name.as_bytes(), group)?;
    Ok(())
}
// ANCHOR_END: code_under_test

// ANCHOR: test
use std::time::Duration;

use harness::{Group, Lan};

/// An announcement reaches the other host on its `eth0`, from the sender's
/// address, with the TTL the sender chose.
#[test]
fn announcement_reaches_the_other_host() {
    // Two hosts on one bridged segment: a is 10.0.0.1, b is 10.0.0.2.
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let group = Group::parse("239.1.2.3:4567").unwrap();

    // b joins and binds before `listen` returns: no sleep needed.
    let on_b = lan.host("b").listen(group).unwrap();

    // The code under test runs inside host a's namespace.
    lan.host("a")
        .run(|| announce(group.socket_addr(), "hello from a", 4))
        .unwrap();

    let got = on_b.expect(1).within(Duration::from_secs(2));
    // An unmet expectation explains itself: what arrived, memberships, routes.
    let got = got.unwrap_or_else(|unmet| panic!("{unmet}"));
    assert_eq!(got[0].text(), "hello from a");
    assert_eq!(got[0].source.ip(), lan.host("a").ipv4());
    assert_eq!(got[0].interface.name, "eth0");
    assert_eq!(got[0].ttl, Some(4));
    // And nothing else arrives: one call, one datagram.
    on_b.expect_none(Duration::from_millis(200))
        .unwrap_or_else(|unmet| panic!("{unmet}"));
}
// ANCHOR_END: test

// ANCHOR: ttl_zero
/// TTL 0 keeps the datagram on a sending host that is a member of the group
/// (a's listener joined it): that listener hears it, the other host does not.
#[test]
fn ttl_zero_stays_on_a_sending_host_that_is_a_member() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let group = Group::parse("239.1.2.3:4567").unwrap();
    let on_a = lan.host("a").listen(group).unwrap();
    let on_b = lan.host("b").listen(group).unwrap();

    lan.host("a")
        .run(|| announce(group.socket_addr(), "only for a", 0))
        .unwrap();

    let on_a = on_a.expect(1).within(Duration::from_secs(2));
    assert_eq!(
        on_a.unwrap_or_else(|unmet| panic!("{unmet}"))[0].text(),
        "only for a"
    );
    on_b.expect_none(Duration::from_millis(300))
        .unwrap_or_else(|unmet| panic!("{unmet}"));
}
// ANCHOR_END: ttl_zero
