//! The Ruby article's `ping 224.0.0.251`: one echo request to a group, answered by every
//! member host with the request's sequence number. The article shows it on macOS, where
//! answering is the default; this test shows what Linux does.

use std::net::Ipv4Addr;
use std::time::Duration;

use harness::Lan;

/// Where Linux keeps the setting that decides whether a host answers a ping to a group.
const IGNORE_GROUP_PINGS: &str = "/proc/sys/net/ipv4/icmp_echo_ignore_broadcasts";
/// Bounds every wait for a reply; only a failure takes this long.
const DEADLINE: Duration = Duration::from_secs(5);

/// (source, sequence) of every echo reply to one request to 224.0.0.1, from host `a`, known
/// to be all of them once every host of `lan` has answered a unicast request sent after it.
fn ping_all_hosts(lan: &Lan) -> Vec<(Ipv4Addr, u16)> {
    let hosts: Vec<Ipv4Addr> = lan.hosts().iter().map(|h| h.ipv4()).collect();
    lan.host("a")
        .run(|| ruby_port::ping_group_among(Ipv4Addr::new(224, 0, 0, 1), 7, &hosts, DEADLINE))
        .unwrap()
        .into_iter()
        .map(|reply| (reply.from, reply.sequence))
        .collect()
}

/// Allows group pings on every host of `lan`.
fn answer_group_pings(lan: &Lan) {
    for host in lan.hosts() {
        host.run(|| std::fs::write(IGNORE_GROUP_PINGS, "0"))
            .unwrap();
    }
}

/// Linux ignores echo requests sent to a group unless `net.ipv4.icmp_echo_ignore_broadcasts`
/// is 0; with that set, every member host answers one request, all with its sequence number
/// (the Ruby article's `ping 224.0.0.251` shows this on macOS, where answering is the default).
#[test]
fn ping_to_a_group_is_answered_by_every_host_only_when_linux_allows_it() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    for host in lan.hosts() {
        let setting = host
            .run(|| std::fs::read_to_string(IGNORE_GROUP_PINGS))
            .unwrap();
        assert_eq!(
            setting.trim(),
            "1",
            "the Linux default ignores group echo requests"
        );
    }
    let silent = ping_all_hosts(&lan);
    assert_eq!(
        silent,
        [],
        "nobody answers while icmp_echo_ignore_broadcasts is 1"
    );

    answer_group_pings(&lan);
    let mut replies = ping_all_hosts(&lan);
    replies.sort();
    let expected: Vec<(Ipv4Addr, u16)> = lan.hosts().iter().map(|h| (h.ipv4(), 7)).collect();
    assert_eq!(
        replies, expected,
        "one reply per host (the sender included), all with seq 7"
    );
}

/// The article's way, not knowing the members: `ping_group` collects the replies that come
/// within its window (here 200 ms, for replies that come within a millisecond).
#[test]
fn ping_group_collects_the_replies_within_its_window() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    answer_group_pings(&lan);
    let mut replies = lan
        .host("a")
        .run(|| ruby_port::ping_group(Ipv4Addr::new(224, 0, 0, 1), 9, Duration::from_millis(200)))
        .unwrap();
    replies.sort();
    let from: Vec<(Ipv4Addr, u16)> = replies.iter().map(|r| (r.from, r.sequence)).collect();
    let expected: Vec<(Ipv4Addr, u16)> = lan.hosts().iter().map(|h| (h.ipv4(), 9)).collect();
    assert_eq!(from, expected);
}
