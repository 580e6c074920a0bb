//! The largest LAN the harness builds: 254 hosts on one bridge, the most a `10.0.0.0/24`
//! can number (host k is `10.0.0.k`, and `.255` is the broadcast address). One datagram from
//! the first host reaches a listener in every host, the last one included.
//! (256 hosts cannot be numbered in a /24; more than 254 are refused with the limit.)

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use harness::{Error, Group, Lan};

/// Hosts on one LAN: `10.0.0.1` to `10.0.0.254`.
const MOST: usize = 254;
/// Generous: a loaded 2-core machine delivers to all 254 listeners well within this.
const DEADLINE: Duration = Duration::from_secs(30);

fn names(count: usize) -> Vec<String> {
    (1..=count).map(|k| format!("h{k}")).collect()
}

/// 254 hosts build, are numbered to the end of the /24, and all hear one datagram from h1 on
/// their `eth0`, from h1's address, with TTL 1.
#[test]
fn a_254_host_lan_delivers_to_every_host() {
    delivers_to_every_host(MOST);
}

fn delivers_to_every_host(count: usize) {
    let lan = harness::or_skip!(Lan::new(names(count)));
    assert_eq!(lan.hosts().len(), count);
    let last = &lan.hosts()[count - 1];
    assert_eq!(
        (last.name(), last.ipv4()),
        (
            format!("h{count}").as_str(),
            Ipv4Addr::new(10, 0, 0, count as u8)
        )
    );

    let group = Group::parse("239.1.2.3:5000").unwrap();
    let listeners: Vec<_> = lan
        .hosts()
        .iter()
        .map(|h| h.listen(group).unwrap())
        .collect();
    let h1 = lan.host("h1");
    h1.run(|| {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        socket.set_multicast_ttl_v4(1).unwrap();
        socket.send_to(b"to everyone", group.socket_addr()).unwrap();
    });
    for (host, rx) in lan.hosts().iter().zip(&listeners) {
        let got = rx
            .expect(1)
            .within(DEADLINE)
            .unwrap_or_else(|e| panic!("{}: {e}", host.name()));
        assert_eq!(got[0].text(), "to everyone", "in {}", host.name());
        assert_eq!(got[0].interface.name, "eth0", "in {}", host.name());
        assert_eq!(
            got[0].source.ip(),
            IpAddr::V4(h1.ipv4()),
            "in {}",
            host.name()
        );
        assert_eq!(got[0].ttl, Some(1), "in {}", host.name());
    }
}

/// A 255th host would need `10.0.0.255`, the broadcast address: `Lan::new` refuses it (and
/// 256) up front, saying how many hosts a LAN can have, before creating anything.
#[test]
fn more_than_254_hosts_are_refused_with_the_limit() {
    for count in [MOST + 1, 256] {
        match Lan::new(names(count)) {
            Err(Error::Invalid(why)) => {
                assert!(why.contains("1 to 254 hosts"), "{count}: {why}");
                assert!(why.contains(&count.to_string()), "{count}: {why}");
            }
            Err(other) => panic!("{count} hosts: expected a refusal, got {other}"),
            Ok(_) => panic!("{count} hosts: built a LAN that cannot be numbered"),
        }
    }
}
