//! What a LAN gives a test: hosts by name at known addresses, one segment that carries
//! multicast to every member, per-host routes, and captures that show where frames went.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::time::Duration;

use crate::common;
use common::{receive, send};
use harness::{Direction, Group, Lan, Listen};

const DEADLINE: Duration = Duration::from_secs(5);

/// Host k is 10.0.0.k and fd00::k, in the order the names were given.
#[test]
fn hosts_are_numbered_in_the_order_named() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let addresses: Vec<(&str, Ipv4Addr, Ipv6Addr)> = lan
        .hosts()
        .iter()
        .map(|h| (h.name(), h.ipv4(), h.ipv6()))
        .collect();
    assert_eq!(
        addresses,
        [
            ("a", Ipv4Addr::new(10, 0, 0, 1), "fd00::1".parse().unwrap()),
            ("b", Ipv4Addr::new(10, 0, 0, 2), "fd00::2".parse().unwrap()),
            ("c", Ipv4Addr::new(10, 0, 0, 3), "fd00::3".parse().unwrap()),
        ]
    );
    assert_eq!(lan.host("c").ipv4(), Ipv4Addr::new(10, 0, 0, 3));
}

/// TTL 1 is enough on one segment: a datagram from `a` reaches the members on `b` and `c`
/// through their `eth0`, and `a` itself hears it back (multicast loop is on by default).
#[rstest::rstest]
#[case::ipv4("239.1.2.3:5000")]
#[case::ipv6("[ff02::1:3]:5000")]
fn ttl_1_reaches_every_member_on_the_segment(#[case] group: &str) {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let g = Group::parse(group).unwrap();
    let listeners: Vec<_> = lan.hosts().iter().map(|h| h.listen(g).unwrap()).collect();
    lan.host("a").run(|| send(g, b"to all", 1));
    for (host, rx) in lan.hosts().iter().zip(&listeners) {
        let got = rx
            .expect(1)
            .within(DEADLINE)
            .unwrap_or_else(|e| panic!("{}: {e}", host.name()));
        assert_eq!(got[0].text(), "to all");
        assert_eq!(got[0].interface.name, "eth0", "on {}", host.name());
        assert_eq!(got[0].destination, g.ip());
        assert_eq!(got[0].ttl, Some(1));
        if g.is_ipv6() {
            assert!(matches!(got[0].source.ip(), IpAddr::V6(s) if s.is_unicast_link_local()));
        } else {
            assert_eq!(got[0].source.ip(), lan.host("a").ipv4());
        }
    }
}

/// Unicast works between hosts too, so a receiver can answer a sender on another host.
#[test]
fn unicast_replies_cross_the_segment() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let socket_on_b = lan
        .host("b")
        .run(|| UdpSocket::bind("0.0.0.0:9000").unwrap());
    lan.host("a").run(|| {
        UdpSocket::bind("0.0.0.0:0")
            .unwrap()
            .send_to(b"hi b", "10.0.0.2:9000")
            .unwrap()
    });
    assert_eq!(
        receive(&socket_on_b, DEADLINE),
        (b"hi b".to_vec(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
    );
}

/// A source-specific join accepts the chosen sender and drops the others.
#[test]
fn a_source_specific_join_hears_only_its_source() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let g = Group::parse("232.1.1.1:5001").unwrap();
    let rx = lan
        .host("c")
        .listen_with(
            g,
            Listen::default().source(IpAddr::V4(lan.host("a").ipv4())),
        )
        .unwrap();
    lan.host("b").run(|| send(g, b"from b", 1));
    lan.host("a").run(|| send(g, b"from a", 1));
    let got = rx.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "from a");
    rx.expect_none(Duration::from_millis(100)).unwrap();
}

/// A per-host route steers a group: with `224.16.17.8/32 dev lo`, a send follows `lo` and
/// never crosses `eth0`, which the capture on `eth0` shows.
#[test]
fn a_group_route_via_lo_keeps_the_datagram_off_eth0() {
    let lan = harness::or_skip!(Lan::new(["host"]));
    let host = lan.host("host");
    host.add_route("224.16.17.8/32", "lo").unwrap();
    let g = Group::parse("224.16.17.8:2001").unwrap();
    let rx = host.listen(g).unwrap();
    let on_eth0 = host.capture("eth0").unwrap();
    let on_lo = host.capture("lo").unwrap();
    host.run(|| send(g, b"stay home", 1));
    let got = rx.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].interface.name, "lo");
    let out = on_lo.wait_for_udp(
        |u| u.payload == b"stay home" && u.direction == Direction::Outgoing,
        DEADLINE,
    );
    assert!(out.is_ok(), "{}", out.unwrap_err());
    assert!(
        on_eth0.udp().iter().all(|u| u.payload != b"stay home"),
        "{:?}",
        on_eth0.udp()
    );
}

/// Without the route, the same send leaves through `eth0` (the default route), which the
/// capture records as outgoing with the TTL it was given.
#[test]
fn without_a_route_multicast_leaves_through_the_default_interface() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let g = Group::parse("224.16.17.8:2002").unwrap();
    let on_eth0 = lan.host("a").capture("eth0").unwrap();
    let on_b = lan.host("b").capture("eth0").unwrap();
    lan.host("a").run(|| send(g, b"out", 2));
    let left = on_eth0
        .wait_for_udp(|u| u.payload == b"out", DEADLINE)
        .unwrap();
    assert_eq!(
        (left.direction, left.ttl, left.destination),
        (Direction::Outgoing, 2, g.socket_addr())
    );
    let arrived = on_b
        .wait_for_udp(|u| u.payload == b"out", DEADLINE)
        .unwrap();
    assert_eq!(arrived.direction, Direction::Incoming);
}

/// Names must be unique and there must be at least one.
#[test]
fn bad_host_lists_are_refused_with_the_reason() {
    let duplicate = Lan::new(["a", "a"])
        .err()
        .expect("duplicate refused")
        .to_string();
    assert!(duplicate.contains("\"a\" at position 2"), "{duplicate}");
    let empty = Lan::new(Vec::<String>::new())
        .err()
        .expect("empty refused")
        .to_string();
    assert!(empty.contains("1 to 1022 hosts"), "{empty}");
}
