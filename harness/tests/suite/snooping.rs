//! A LAN whose switch snoops IGMP/MLD: hosts `s` (sender), `m` (member) and `n`
//! (non-member). Whether a port got the group is read from a capture on that host's `eth0`:
//! the sender follows the stream with a marker to a group the switch always floods
//! (224.0.0.99, or ff02::1 for IPv6), so once a capture holds the marker it would already
//! hold the stream had the switch sent it there. No test waits for silence.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::time::Duration;

use harness::{Capture, Group, Host, Lan, Snooping};

const DEADLINE: Duration = Duration::from_secs(5);

/// Sends `count` datagrams `NAME k` to `group` from `host`, then a marker that every port
/// gets; returns the marker's text.
fn stream(host: &Host, group: Group, name: &str, count: usize) -> String {
    let marker = format!("marker after {name}");
    host.run(|| {
        let socket = if group.is_ipv6() {
            UdpSocket::bind("[::]:0").unwrap()
        } else {
            UdpSocket::bind("0.0.0.0:0").unwrap()
        };
        for k in 0..count {
            socket
                .send_to(format!("{name} {k}").as_bytes(), group.socket_addr())
                .unwrap();
        }
        let everyone: SocketAddr = if group.is_ipv6() {
            // ff02::1 on eth0 (index 2): the one IPv6 group a snooping bridge always floods.
            SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), 9, 0, 2).into()
        } else {
            (Ipv4Addr::new(224, 0, 0, 99), 9).into()
        };
        socket.send_to(marker.as_bytes(), everyone).unwrap();
    });
    marker
}

/// How many datagrams of the stream `name` reached the host whose `eth0` is `capture`,
/// counted once the marker after it has.
fn reached(capture: &Capture, name: &str, marker: &str) -> usize {
    capture
        .wait_for_udp(|u| u.payload == marker.as_bytes(), DEADLINE)
        .unwrap_or_else(|unmet| panic!("the marker is flooded to every port: {unmet}"));
    let prefix = format!("{name} ");
    capture
        .udp()
        .iter()
        .filter(|u| u.payload.starts_with(prefix.as_bytes()))
        .count()
}

/// A snooping switch without a querier learns that `m` joined (and that `n` did not), yet
/// sends the group to `n` as well: a Linux bridge filters only while it knows of a querier.
#[rstest::rstest]
#[case::ipv4("239.1.2.3:5000")]
#[case::ipv6("[ff0e::1:3]:5000")]
fn without_a_querier_the_switch_learns_the_member_but_floods_every_port(#[case] group: &str) {
    let lan = harness::or_skip!(Lan::with_snooping(
        ["s", "m", "n"],
        Snooping::WithoutQuerier
    ));
    let group = Group::parse(group).unwrap();
    let on_n = lan.host("n").capture("eth0").unwrap();
    let member = lan.host("m").listen(group).unwrap();
    lan.wait_for_membership("m", group).unwrap();
    let members: Vec<String> = lan
        .memberships()
        .unwrap()
        .into_iter()
        .filter(|(_, g)| *g == group.ip())
        .map(|(host, _)| host)
        .collect();
    assert_eq!(members, ["m"]);

    let marker = stream(lan.host("s"), group, "stream", 10);
    assert_eq!(member.expect(10).within(DEADLINE).unwrap().len(), 10);
    assert_eq!(reached(&on_n, "stream", &marker), 10, "flooded to n");
}

/// With the switch as querier, once it lists `m` as a member, the stream goes to `m`'s port
/// and not to `n`'s; a host that joins later starts getting it once the switch lists it.
#[rstest::rstest]
#[case::ipv4("239.1.2.3:5000")]
#[case::ipv6("[ff0e::1:3]:5000")]
// ANCHOR: querier
fn with_a_querier_only_member_ports_get_the_stream(#[case] group: &str) {
    let lan = harness::or_skip!(Lan::with_snooping(["s", "m", "n"], Snooping::WithQuerier));
    let group = Group::parse(group).unwrap();
    let (on_m, on_n) = (
        lan.host("m").capture("eth0").unwrap(),
        lan.host("n").capture("eth0").unwrap(),
    );
    let member = lan.host("m").listen(group).unwrap();
    lan.wait_for_membership("m", group).unwrap();

    let marker = stream(lan.host("s"), group, "first", 20);
    assert_eq!(
        reached(&on_m, "first", &marker),
        20,
        "m's port got the stream"
    );
    assert_eq!(
        reached(&on_n, "first", &marker),
        0,
        "n's port got none of it"
    );
    let got = member.expect(20).within(DEADLINE).unwrap();
    assert_eq!(got[19].text(), "first 19");

    let late = lan.host("n").listen(group).unwrap();
    lan.wait_for_membership("n", group).unwrap();
    let marker = stream(lan.host("s"), group, "second", 20);
    assert_eq!(
        reached(&on_n, "second", &marker),
        20,
        "n joined: its port gets it"
    );
    assert_eq!(late.expect(20).within(DEADLINE).unwrap().len(), 20);
}
// ANCHOR_END: querier

/// When the only member leaves, the querier asks its port twice (100 ms apart), then drops
/// it: the stream reaches no port at all.
#[test]
fn with_a_querier_a_member_that_leaves_stops_the_stream_to_its_port() {
    let lan = harness::or_skip!(Lan::with_snooping(["s", "m", "n"], Snooping::WithQuerier));
    let group = Group::parse("239.1.2.3:5000").unwrap();
    let on_m = lan.host("m").capture("eth0").unwrap();
    let member = lan.host("m").listen(group).unwrap();
    lan.wait_for_membership("m", group).unwrap();
    let marker = stream(lan.host("s"), group, "joined", 5);
    assert_eq!(reached(&on_m, "joined", &marker), 5);

    drop(member);
    lan.wait_for_no_membership("m", group).unwrap();
    let marker = stream(lan.host("s"), group, "left", 5);
    assert_eq!(
        reached(&on_m, "left", &marker),
        0,
        "m left: its port gets nothing"
    );
}

/// A switch that does not snoop has an empty membership table, whoever joins.
#[test]
fn a_switch_that_does_not_snoop_lists_no_members() {
    let lan = harness::or_skip!(Lan::new(["s", "m"]));
    let group = Group::parse("239.1.2.3:5000").unwrap();
    let member = lan.host("m").listen(group).unwrap();
    let marker = stream(lan.host("s"), group, "stream", 1);
    member.expect(1).within(DEADLINE).unwrap();
    let _ = marker;
    assert_eq!(lan.memberships().unwrap(), []);
}

/// Timers are for a switch that snoops: on one that floods, or past what the kernel
/// honours, they are refused before anything is built, naming the timer.
#[test]
fn snooping_timers_the_switch_cannot_use_are_refused() {
    use harness::{Error, SnoopingTimers};
    let short = SnoopingTimers::new().membership_interval(Duration::from_millis(300));
    let Err(Error::Invalid(why)) = Lan::with_snooping_timers(["s", "m"], Snooping::Off, short)
    else {
        panic!("timers on a flooding switch were taken");
    };
    assert_eq!(
        why,
        "snooping timers (membership interval 300ms) need a switch that snoops, not Snooping::Off"
    );
    let too_short = SnoopingTimers::new().query_interval(Duration::from_millis(100));
    let Err(Error::Invalid(why)) =
        Lan::with_snooping_timers(["s", "m"], Snooping::WithQuerier, too_short)
    else {
        panic!("a query interval under the kernel's minimum was taken");
    };
    assert_eq!(
        why,
        "snooping timers: the query interval must be at least 1s, got 100ms"
    );
}
