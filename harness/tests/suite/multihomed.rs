//! Hosts with more than one interface: a name given on two segments of a `Routed` network is
//! one host with `eth0` on the first and `eth1` on the second, as a market-data receiver has
//! an A feed and a B feed on two network cards. Every datagram says which interface it came
//! in on, so a test can show which network each feed took.
//!
//! In these tests `a` sends on segment 1, `b` on segment 2, and `r` is on both: `eth0`
//! (10.0.1.2) toward `a`, `eth1` (10.0.2.2) toward `b`. No forwarding entry is installed
//! unless a test says so, so the router carries no multicast between the segments.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use harness::{Capability, Group, HostInterface, Listen, Routed};
use socket2::{Domain, Socket, Type};

use crate::common;
use crate::pcap;
use common::send;

const DEADLINE: Duration = Duration::from_secs(5);
/// How long a test waits to show that something did not arrive.
const QUIET: Duration = Duration::from_millis(200);

/// Segment 1: `a` and `r`; segment 2: `b` and `r`.
fn feeds() -> Option<Routed> {
    Some(harness::or_skip!(
        Routed::with_segments([["a", "r"], ["b", "r"]]),
        None
    ))
}

/// `r` has one interface per segment it is named on, with the address of its position on
/// each, and the kernel inside `r` agrees: the same names, indices and addresses.
#[test]
fn a_host_named_on_two_segments_has_an_interface_on_each() {
    let Some(net) = feeds() else { return };
    let names: Vec<&str> = net.hosts().iter().map(|h| h.name()).collect();
    assert_eq!(
        names,
        ["a", "r", "b"],
        "r is one host, listed where first named"
    );
    let r = net.host("r");
    let eth = |n: u32, s: u16| {
        (
            format!("eth{n}"),
            2 + n,
            Ipv4Addr::new(10, 0, s as u8, 2),
            24,
            Ipv6Addr::new(0xfd00, 0, 0, s, 0, 0, 0, 2),
        )
    };
    let fields = |i: &HostInterface| (i.name.clone(), i.index, i.ipv4, i.prefix, i.ipv6);
    let interfaces: Vec<_> = r.interfaces().iter().map(fields).collect();
    assert_eq!(interfaces, [eth(0, 1), eth(1, 2)]);
    assert_eq!((r.ipv4(), r.ipv6()), (eth(0, 1).2, eth(0, 1).4));
    assert_eq!(r.ipv4_on("eth1"), Ipv4Addr::new(10, 0, 2, 2));
    assert_eq!(r.interface_index("eth1").unwrap(), 3);
    assert_eq!(net.host("b").interfaces().len(), 1);

    // What the kernel in r says: each interface's global addresses.
    let seen: Vec<(String, IpAddr)> = r.run(|| {
        nix::ifaddrs::getifaddrs()
            .unwrap()
            .filter(|i| i.interface_name.starts_with("eth"))
            .filter_map(|i| {
                let address = i.address?;
                let ip = match (address.as_sockaddr_in(), address.as_sockaddr_in6()) {
                    (Some(v4), _) => IpAddr::V4(v4.ip()),
                    (_, Some(v6)) if !v6.ip().is_unicast_link_local() => IpAddr::V6(v6.ip()),
                    _ => return None,
                };
                Some((i.interface_name, ip))
            })
            .collect()
    });
    for interface in r.interfaces() {
        for ip in [IpAddr::V4(interface.ipv4), IpAddr::V6(interface.ipv6)] {
            assert!(
                seen.contains(&(interface.name.clone(), ip)),
                "{ip} on {}: {seen:?}",
                interface.name
            );
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}

/// A join on `eth1` only hears the group from segment 2: `b`'s datagram arrives, saying
/// `eth1`, the group and `b`'s address; `a`'s, sent to the same group and port on segment 1,
/// does not. IPv4 and IPv6 alike.
#[rstest::rstest]
#[case::ipv4("239.9.1.1:9100")]
#[case::ipv6("[ff0e::9:1]:9100")]
fn a_join_on_eth1_hears_only_the_second_segment_and_says_eth1(#[case] group: &str) {
    let Some(net) = feeds() else { return };
    let group = Group::parse(group).unwrap();
    let on_eth1 = net
        .host("r")
        .listen_with(group, Listen::default().interface("eth1"))
        .unwrap();
    net.host("a").run(|| send(group, b"from a", 1));
    net.host("b").run(|| send(group, b"from b", 1));
    let got = on_eth1.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "from b");
    assert_eq!(got[0].interface.name, "eth1");
    assert_eq!(got[0].interface.index, 3);
    assert_eq!(got[0].destination, group.ip());
    let b = net.host("b");
    let from_b = if group.is_ipv6() {
        IpAddr::V6(b.ipv6())
    } else {
        IpAddr::V4(b.ipv4())
    };
    assert_eq!(got[0].source.ip(), from_b);
    on_eth1.expect_none(QUIET).unwrap();
}

/// The other way round: a join on `eth0` gets `a`'s datagram on `eth0` and nothing of the
/// stream `b` sends on segment 2.
#[test]
fn a_join_on_eth0_does_not_get_the_second_segments_stream() {
    let Some(net) = feeds() else { return };
    let group = Group::parse("239.9.1.2:9101").unwrap();
    let on_eth0 = net
        .host("r")
        .listen_with(group, Listen::default().interface("eth0"))
        .unwrap();
    net.host("b").run(|| {
        for n in 0..10 {
            send(group, format!("b {n}").as_bytes(), 1);
        }
    });
    net.host("a").run(|| send(group, b"from a", 1));
    let got = on_eth0.expect(1).within(DEADLINE).unwrap();
    assert_eq!(
        (got[0].text(), got[0].interface.name.as_str()),
        ("from a".into(), "eth0")
    );
    assert_eq!(got[0].source.ip(), IpAddr::V4(net.host("a").ipv4()));
    on_eth0.expect_none(QUIET).unwrap();
}

/// `r` sends from a socket whose `IP_MULTICAST_IF` names `eth1` (by index): `b`, on
/// segment 2, gets it from `r`'s `eth1` address, and `a` gets nothing. Without the option
/// the same send follows `r`'s default route out of `eth0`, to `a` only.
#[test]
fn a_sender_choosing_eth1_reaches_only_the_second_segment() {
    let Some(net) = feeds() else { return };
    let group = Group::parse("239.9.1.3:9102").unwrap();
    let (on_a, on_b) = (
        net.host("a").listen(group).unwrap(),
        net.host("b").listen(group).unwrap(),
    );
    let r = net.host("r");
    let eth1 = r.interface_index("eth1").unwrap();
    r.run(|| {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        mcast_vocab::sockopt::set_multicast_if_v4_index(&socket, eth1).unwrap();
        socket
            .send_to(b"out of eth1", &group.socket_addr().into())
            .unwrap();
    });
    let got = on_b.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "out of eth1");
    assert_eq!(got[0].source.ip(), IpAddr::V4(r.ipv4_on("eth1")));
    on_a.expect_none(QUIET).unwrap();

    r.run(|| send(group, b"by default", 1));
    let got = on_a.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "by default");
    assert_eq!(got[0].source.ip(), IpAddr::V4(r.ipv4_on("eth0")));
    on_b.expect_none(QUIET).unwrap();
}

/// An A feed and a B feed at once, on the same group and port from two networks: one
/// listener in `r`, joined on both interfaces, gets all of each, every A datagram on `eth0`
/// from `a` and every B datagram on `eth1` from `b`.
#[test]
fn a_and_b_feeds_arrive_each_on_its_own_interface() {
    let Some(net) = feeds() else { return };
    let group = Group::parse("239.9.1.4:9103").unwrap();
    let both = net.host("r").listen(group).unwrap();
    let count = 50;
    let (a, b) = (net.host("a"), net.host("b"));
    let sender =
        |host: &harness::Host| host.run(|| std::net::UdpSocket::bind("0.0.0.0:0").unwrap());
    let (to_a, to_b) = (sender(a), sender(b));
    let to: SocketAddr = group.socket_addr();
    for n in 0..count {
        to_a.send_to(format!("A {n}").as_bytes(), to).unwrap();
        to_b.send_to(format!("B {n}").as_bytes(), to).unwrap();
    }
    let got = both.expect(2 * count).within(DEADLINE).unwrap();
    for (feed, interface, source) in [("A", "eth0", a.ipv4()), ("B", "eth1", b.ipv4())] {
        let arrivals: Vec<_> = got.iter().filter(|d| d.text().starts_with(feed)).collect();
        assert_eq!(arrivals.len(), count, "feed {feed}");
        for d in &arrivals {
            assert_eq!(
                (d.interface.name.as_str(), d.source.ip(), d.destination),
                (interface, IpAddr::V4(source), group.ip()),
                "{}",
                d.text()
            );
        }
    }
    both.expect_none(QUIET).unwrap();
}

/// Across the router: with a forwarding entry for `s` on segment 1, a TTL 2 datagram is
/// forwarded onto both other segments, and `r`, on both, gets one copy on each interface,
/// both with TTL 1 and from `s`. (The copy on `eth1` comes in on an interface `r` would not
/// route `s`'s address through: it arrives because reverse-path filtering is off in `r`.)
#[test]
fn a_forwarded_datagram_reaches_a_host_on_two_segments_once_on_each() {
    let net = harness::or_skip!(Routed::with_segments([
        vec!["s"],
        vec!["r"],
        vec!["r", "c"]
    ]));
    let r = net.host("r");
    assert_eq!(
        (r.ipv4_on("eth0"), r.ipv4_on("eth1")),
        (Ipv4Addr::new(10, 0, 2, 1), Ipv4Addr::new(10, 0, 3, 1))
    );
    assert_eq!(net.host("c").ipv4(), Ipv4Addr::new(10, 0, 3, 2));
    let group = Group::parse("239.9.1.5:9104").unwrap();
    let both = r.listen(group).unwrap();
    harness::or_skip!(net.forward(net.host("s").ipv4(), Ipv4Addr::new(239, 9, 1, 5)));
    net.host("s").run(|| send(group, b"across", 2));
    let mut got: Vec<(String, Option<u8>, IpAddr)> = both
        .expect(2)
        .within(DEADLINE)
        .unwrap()
        .iter()
        .map(|d| (d.interface.name.clone(), d.ttl, d.source.ip()))
        .collect();
    got.sort();
    let s = IpAddr::V4(net.host("s").ipv4());
    assert_eq!(
        got,
        [("eth0".into(), Some(1), s), ("eth1".into(), Some(1), s)]
    );
    both.expect_none(QUIET).unwrap();
}

/// A name twice on one segment would be two interfaces on one cable: refused, naming the
/// segment and the position, before anything is built. So is "router", the router's name.
#[test]
fn a_name_twice_on_one_segment_is_refused_with_the_reason() {
    let twice = Routed::with_segments([["a", "r", "r"], ["b", "c", "d"]])
        .err()
        .expect("refused")
        .to_string();
    assert!(twice.contains("unique on a segment"), "{twice}");
    assert!(
        twice.contains("\"r\" at position 3 of segment 1"),
        "{twice}"
    );
    let router = Routed::new(["a"], ["router"])
        .err()
        .expect("refused")
        .to_string();
    assert!(
        router.contains("\"router\" at position 1 of segment 2"),
        "{router}"
    );
}

/// An expectation that fails: `r` listens on `eth1` for a port nobody sends to, while `a`
/// and `b` each send one datagram on their segment. Run as the child of the test below, with
/// `HARNESS_PCAP_DIR` and `HARNESS_RECORDING_CHILD` set, it fails on purpose so that its
/// recordings are kept; run by itself it checks only that the expectation fails.
#[test]
fn multihomed_recorded_failure_child() {
    let Some(net) = feeds() else { return };
    let on_eth1 = net
        .host("r")
        .listen_with(
            Group::parse("239.9.1.6:9105").unwrap(),
            Listen::default().interface("eth1"),
        )
        .unwrap();
    let elsewhere = Group::parse("239.9.1.6:9106").unwrap();
    // Each datagram has crossed its interface of r (and that interface's recording) once
    // the listener there has it; then the expectation above fails at once rather than after
    // waiting out a quiet spell.
    let on = |interface: &str| {
        let listen = Listen::default().interface(interface);
        net.host("r").listen_with(elsewhere, listen).unwrap()
    };
    let (elsewhere_eth0, elsewhere_eth1) = (on("eth0"), on("eth1"));
    net.host("a").run(|| send(elsewhere, b"a on segment 1", 1));
    net.host("b").run(|| send(elsewhere, b"b on segment 2", 1));
    for listener in [elsewhere_eth0, elsewhere_eth1] {
        listener.expect(1).within(DEADLINE).unwrap();
    }
    let unmet = on_eth1
        .expect(1)
        .within(Duration::ZERO)
        .unwrap_err()
        .to_string();
    if std::env::var_os("HARNESS_RECORDING_CHILD").is_some() {
        panic!("{unmet}");
    }
}

/// With `HARNESS_PCAP_DIR`, a failing test keeps a recording of each of `r`'s interfaces:
/// `r-eth0.pcap` holds what crossed segment 1 (a's datagram, not b's), `r-eth1.pcap` what
/// crossed segment 2 (b's, not a's).
#[test]
fn a_failing_test_keeps_a_recording_of_every_interface_of_a_multihomed_host() {
    // What the child's network needs, probed (once per process) rather than built here too.
    let needs = Capability::Veth.check().and(Capability::Bridge.check());
    if harness::skip_unless_available(needs).is_none() {
        return;
    }
    let (dir, said) = pcap::run_failing_child("multihomed::multihomed_recorded_failure_child");
    let group = Ipv4Addr::new(239, 9, 1, 6);
    let a = (
        Ipv4Addr::new(10, 0, 1, 1),
        group,
        1,
        b"a on segment 1".to_vec(),
    );
    let b = (
        Ipv4Addr::new(10, 0, 2, 1),
        group,
        1,
        b"b on segment 2".to_vec(),
    );
    let path = |interface: &str| {
        let path = dir.join(format!(
            "multihomed-multihomed_recorded_failure_child-r-{interface}.pcap"
        ));
        assert!(said.contains(&format!("kept {}", path.display())), "{said}");
        path
    };
    let read = |interface: &str| pcap::udp_records(&std::fs::read(path(interface)).unwrap());
    let (eth0, eth1) = (read("eth0"), read("eth1"));
    assert!(eth0.contains(&a) && !eth0.contains(&b), "r-eth0: {eth0:?}");
    assert!(eth1.contains(&b) && !eth1.contains(&a), "r-eth1: {eth1:?}");
    if let Some(lines) = pcap::tshark_udp(&path("eth1")) {
        assert_eq!(lines, ["10.0.2.1 239.9.1.6 1"], "tshark on r-eth1");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
