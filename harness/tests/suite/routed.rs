//! Two segments and a multicast router: TTL decides how far a datagram goes.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::Duration;

use harness::{Group, Routed};

use crate::common;
use common::{receive, send};

const DEADLINE: Duration = Duration::from_secs(5);

/// Hosts are numbered per segment; the router is .254 on both.
#[test]
fn segments_are_numbered_and_the_router_is_254() {
    let net = harness::or_skip!(Routed::new(["a1", "a2"], ["b1"]));
    let addresses: Vec<(&str, Ipv4Addr)> =
        net.hosts().iter().map(|h| (h.name(), h.ipv4())).collect();
    assert_eq!(
        addresses,
        [
            ("a1", Ipv4Addr::new(10, 0, 1, 1)),
            ("a2", Ipv4Addr::new(10, 0, 1, 2)),
            ("b1", Ipv4Addr::new(10, 0, 2, 1))
        ]
    );
    assert_eq!(net.router().ipv4(), Ipv4Addr::new(10, 0, 1, 254));
    assert_eq!(net.router().interface_index("eth1").unwrap(), 3);
}

/// TTL 1 stays on the sender's segment; TTL 2 crosses the router and arrives with TTL 1;
/// the sender's neighbour hears both with the TTL they were sent with.
#[test]
fn ttl_1_stays_on_the_segment_and_ttl_2_crosses_the_router() {
    one_stays_two_crosses("239.7.7.7:7000", "ttl");
}

/// On `Routed::new(["a1", "a2"], ["b1"])` with a forwarding entry for (a1, `group`), a1 sends
/// with a TTL (hop limit) of 1, then of 2: a2, its neighbour, hears both with the limit they
/// were sent with; b1, beyond the router, only the second, with 1 left, on `eth0`, from a1.
fn one_stays_two_crosses(group: &str, word: &str) {
    let net = harness::or_skip!(Routed::new(["a1", "a2"], ["b1"]));
    let group = Group::parse(group).unwrap();
    let neighbour = net.host("a2").listen(group).unwrap();
    let beyond = net.host("b1").listen(group).unwrap();
    let a1 = net.host("a1");
    let source = match group.ip() {
        IpAddr::V4(_) => IpAddr::V4(a1.ipv4()),
        IpAddr::V6(_) => IpAddr::V6(a1.ipv6()),
    };
    harness::or_skip!(net.forward(source, group.ip()));
    let (first, second) = (format!("{word} 1"), format!("{word} 2"));
    a1.run(|| {
        send(group, first.as_bytes(), 1);
        send(group, second.as_bytes(), 2);
    });
    let near: Vec<(String, Option<u8>)> = neighbour
        .expect(2)
        .within(DEADLINE)
        .unwrap()
        .iter()
        .map(|d| (d.text(), d.ttl))
        .collect();
    assert_eq!(near, [(first, Some(1)), (second.clone(), Some(2))]);
    let far = beyond.expect(1).within(DEADLINE).unwrap();
    assert_eq!((far[0].text(), far[0].ttl), (second, Some(1)));
    assert_eq!(far[0].source.ip(), source);
    assert_eq!(far[0].interface.name, "eth0");
    beyond.expect_none(Duration::from_millis(100)).unwrap();
}

/// Without a forwarding entry the router forwards no multicast at all, whatever the TTL,
/// while unicast crosses at once.
#[test]
fn without_a_forwarding_entry_nothing_crosses_but_unicast_does() {
    let net = harness::or_skip!(Routed::new(["a1"], ["b1"]));
    let group = Group::parse("239.7.7.8:7001").unwrap();
    let beyond = net.host("b1").listen(group).unwrap();
    let unicast = net
        .host("b1")
        .run(|| UdpSocket::bind("0.0.0.0:7002").unwrap());
    net.host("a1").run(|| {
        send(group, b"ttl 32", 32);
        UdpSocket::bind("0.0.0.0:0")
            .unwrap()
            .send_to(b"direct", "10.0.2.1:7002")
            .unwrap();
    });
    assert_eq!(
        receive(&unicast, DEADLINE),
        (b"direct".to_vec(), IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)))
    );
    beyond.expect_none(Duration::from_millis(200)).unwrap();
}

/// A source outside both segments is refused by name.
#[test]
fn forwarding_needs_a_source_on_a_segment() {
    let net = harness::or_skip!(Routed::new(["a1"], ["b1"]));
    let error = net
        .forward(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(239, 1, 1, 1))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("192.0.2.1 is on none of the segments"),
        "{error}"
    );
}

/// A failed expectation across the router explains itself: the message shows the router's
/// forwarding cache with its counters (here, the forwarded group's entry counted the TTL 1
/// datagram it was not allowed to forward) and the hosts' source filters.
#[test]
fn a_failed_expectation_shows_what_the_router_did() {
    let net = harness::or_skip!(Routed::new(["a1"], ["b1"]));
    let group = Group::parse("239.7.7.9:7003").unwrap();
    let beyond = net.host("b1").listen(group).unwrap();
    harness::or_skip!(net.forward(net.host("a1").ipv4(), Ipv4Addr::new(239, 7, 7, 9)));
    net.host("a1").run(|| send(group, b"ttl 1", 1));
    let unmet = beyond
        .expect(1)
        .within(Duration::from_millis(200))
        .unwrap_err()
        .to_string();
    assert!(unmet.contains("nothing arrived"), "{unmet}");
    assert!(unmet.contains("the router's forwarding cache"), "{unmet}");
    let entry = unmet
        .lines()
        .find(|l| l.trim_start().starts_with("239.7.7.9 from 10.0.1.1:"))
        .unwrap_or_else(|| panic!("no cache entry for the group in:\n{unmet}"));
    // Fields after the addresses: incoming interface, packets, bytes, wrong-interface drops.
    let counters: Vec<&str> = entry
        .split(':')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(counters[1], "1", "one packet counted: {entry}");
    assert!(unmet.contains("source filters of host b1: none"), "{unmet}");
}

/// IPv6 through the router (`MRT6_*`): with a forwarding entry for (a1, ff0e::7:7), hop
/// limit 1 stays on a1's segment and hop limit 2 crosses, arriving with hop limit 1 on b1's
/// `eth0` from a1's address.
#[test]
fn hop_limit_1_stays_on_the_segment_and_2_crosses_the_ipv6_router() {
    one_stays_two_crosses("[ff0e::7:7]:7010", "hops");
}

/// Three segments: the router forwards a1's datagram with TTL 2 onto both other segments,
/// where it arrives with TTL 1 on each host's `eth0`; one or nine segments are refused.
#[test]
fn a_router_with_three_segments_forwards_onto_every_other_one() {
    let net = harness::or_skip!(Routed::with_segments([["a1"], ["b1"], ["c1"]]));
    assert_eq!(net.host("c1").ipv4(), Ipv4Addr::new(10, 0, 3, 1));
    let group = Group::parse("239.7.7.10:7011").unwrap();
    let on_b = net.host("b1").listen(group).unwrap();
    let on_c = net.host("c1").listen(group).unwrap();
    harness::or_skip!(net.forward(net.host("a1").ipv4(), Ipv4Addr::new(239, 7, 7, 10)));
    net.host("a1").run(|| send(group, b"to both", 2));
    for listener in [&on_b, &on_c] {
        let got = listener.expect(1).within(DEADLINE).unwrap();
        assert_eq!((got[0].text(), got[0].ttl), ("to both".into(), Some(1)));
        assert_eq!(got[0].source.ip(), IpAddr::V4(net.host("a1").ipv4()));
        assert_eq!(got[0].interface.name, "eth0");
    }
    for count in [1, 9] {
        let segments: Vec<Vec<String>> = (0..count).map(|n| vec![format!("h{n}")]).collect();
        let error = Routed::with_segments(segments).err().unwrap().to_string();
        assert!(error.contains("2 to 8 segments"), "{error}");
    }
}
