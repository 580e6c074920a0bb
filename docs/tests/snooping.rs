//! What a snooping Linux bridge (the kind `docker0` is) does with a group, with and without
//! a querier (troubleshooting's "IGMP snooping on bridges and in Docker").
//!
//! The harness's own LAN has snooping off, so each test here builds a small switched segment
//! of its own out of harness sandboxes: one sandbox holds the bridge `br0`, three others are
//! the hosts `s` (sender), `m` (member) and `n` (non-member), each with a veth `lan0`
//! (10.1.0.1-3) whose far end `p-s`, `p-m`, `p-n` is a port of `br0`. The bridge's timers
//! are shortened (they are in hundredths of a second) so that what takes minutes on a real
//! switch takes a second or two. Nothing is created outside the sandboxes.
//!
//! Whether a port got a datagram is read from a capture on the host's `lan0`. The sender
//! follows each probe with a marker to 224.0.0.99, a group the bridge always floods: once a
//! port's capture holds the marker, it would already hold the probe had the bridge sent it
//! there, so no test waits for silence.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::sh;
use harness::{Capture, Group, Listen, Listener, Sandbox};

const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
const PORT: u16 = 5000;
/// In 224.0.0.0/24, which a snooping bridge floods to every port whatever it has learnt.
const MARKER: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 99);
const SECOND: Duration = Duration::from_secs(2);
/// Bounds every wait for the bridge's state to change; only a failure takes this long.
const DEADLINE: Duration = Duration::from_secs(20);

/// Which ports a probe reached.
#[derive(Debug, PartialEq, Eq)]
struct Reached {
    member: bool,
    non_member: bool,
}

/// The bridge, the three hosts on it, and captures on the member's and non-member's `lan0`.
struct Segment {
    bridge: Sandbox,
    /// A process in the bridge's namespace, so that `ip link ... netns PID` can name it.
    holder: Child,
    sender: Sandbox,
    member: Sandbox,
    on_member: Capture,
    on_non_member: Capture,
    _non_member: Sandbox,
    probes: u32,
}

impl Segment {
    /// Builds the segment; `bridge_options` go to `ip link add br0 type bridge`.
    fn new(bridge_options: &str) -> Option<Segment> {
        let bridge = harness::skip_unless_available(Sandbox::new())?;
        let holder = bridge
            .spawn(Command::new("sleep").arg("600"))
            .expect("sleep runs");
        sh(
            &bridge,
            &format!(
                "ip link add br0 type bridge mcast_snooping 1 {bridge_options}\nip link set br0 up"
            ),
        );
        let mut hosts = Vec::new();
        for (k, name) in ["s", "m", "n"].into_iter().enumerate() {
            let host = Sandbox::new().expect("a second sandbox");
            sh(
                &host,
                &format!(
                    "ip link add lan0 type veth peer name p-{name} netns {pid}\n\
                     ip addr add 10.1.0.{}/24 dev lan0\nip link set lan0 up",
                    k + 1,
                    pid = holder.id()
                ),
            );
            sh(&bridge, &format!("ip link set p-{name} master br0 up"));
            hosts.push(host);
        }
        let non_member = hosts.pop().unwrap();
        let member = hosts.pop().unwrap();
        let sender = hosts.pop().unwrap();
        Some(Segment {
            on_member: member.capture("lan0").unwrap(),
            on_non_member: non_member.capture("lan0").unwrap(),
            bridge,
            holder,
            sender,
            member,
            _non_member: non_member,
            probes: 0,
        })
    }

    /// Joins GROUP on the member's `lan0`; returns the listener once the bridge has learnt
    /// the membership on port `p-m`.
    fn join(&self) -> Listener {
        let group = Group::parse(&format!("{GROUP}:{PORT}")).unwrap();
        let listener = self
            .member
            .listen_with(group, Listen::default().interface("lan0"))
            .unwrap();
        self.until("the bridge learns the membership", |s| s.knows_member());
        listener
    }

    /// True while the bridge's mdb lists GROUP on the member's port.
    /// Makes the bridge the querier, joins the member, and returns once the bridge filters:
    /// probes reach the member's port and no longer the other one.
    fn join_under_a_querier(&mut self) -> Listener {
        sh(&self.bridge, "ip link set br0 type bridge mcast_querier 1");
        let listener = self.join();
        let start = Instant::now();
        let mut reached = self.probe();
        while reached.non_member {
            assert!(start.elapsed() < DEADLINE, "the bridge never filtered");
            assert!(reached.member, "{reached:?}");
            reached = self.probe();
        }
        assert!(
            reached.member,
            "filtering, and the member is known: {reached:?}"
        );
        listener
    }

    fn knows_member(&self) -> bool {
        sh(&self.bridge, "bridge mdb show dev br0").contains(&format!("port p-m grp {GROUP}"))
    }

    /// Polls `condition` until it holds; panics with the bridge's state after DEADLINE.
    fn until(&self, what: &str, condition: impl Fn(&Segment) -> bool) {
        let start = Instant::now();
        while !condition(self) {
            assert!(
                start.elapsed() < DEADLINE,
                "{what}: not within {DEADLINE:?}\n{}",
                sh(
                    &self.bridge,
                    "bridge -s mdb show dev br0; ip -d link show br0"
                )
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `probe N` to GROUP and `marker N` to MARKER from the sender; returns which
    /// ports the probe reached, read once each port's capture holds the marker.
    fn probe(&mut self) -> Reached {
        self.probes += 1;
        let (probe, marker) = (
            format!("probe {}", self.probes),
            format!("marker {}", self.probes),
        );
        self.sender.run(|| {
            let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
            socket2::SockRef::from(&socket)
                .set_multicast_if_v4(&Ipv4Addr::new(10, 1, 0, 1))
                .unwrap();
            socket.send_to(probe.as_bytes(), (GROUP, PORT)).unwrap();
            socket.send_to(marker.as_bytes(), (MARKER, PORT)).unwrap();
        });
        let reached = |capture: &Capture| {
            capture
                .wait_for_udp(|u| u.payload == marker.as_bytes(), SECOND)
                .unwrap_or_else(|unmet| panic!("the marker is always flooded: {unmet}"));
            capture.udp().iter().any(|u| {
                u.payload == probe.as_bytes() && u.destination == SocketAddr::from((GROUP, PORT))
            })
        };
        Reached {
            member: reached(&self.on_member),
            non_member: reached(&self.on_non_member),
        }
    }

    /// True if the member host still holds GROUP (`/proc/net/igmp` writes it `010101EF`).
    fn member_still_joined(&self) -> bool {
        sh(&self.member, "cat /proc/net/igmp").contains("010101EF")
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// The text of the next datagram the member's program receives (the capture saw the frame
/// reach the host; the listener's thread may take a moment longer to record it).
fn next_received(listener: &Listener) -> String {
    let got = listener
        .expect(1)
        .within(SECOND)
        .unwrap_or_else(|unmet| panic!("{unmet}"));
    got[0].text()
}

/// A snooping bridge with no querier learns the member's report, yet floods the group to
/// every port, the non-member's included; and when the membership times out (here after
/// one second, 260 s by default) it goes on flooding: the stream does not stop. Linux
/// filters by membership only while it knows of a querier.
#[test]
fn without_a_querier_a_snooping_bridge_floods_the_group_even_after_the_membership_expires() {
    let Some(mut segment) = Segment::new("mcast_querier 0 mcast_membership_interval 100") else {
        return;
    };
    let listener = segment.join();
    let reached = segment.probe();
    assert_eq!(
        reached,
        Reached {
            member: true,
            non_member: true
        },
        "learnt, but flooded"
    );
    assert_eq!(next_received(&listener), "probe 1");

    segment.until("the membership expires", |s| !s.knows_member());
    assert!(segment.member_still_joined());
    let reached = segment.probe();
    assert_eq!(
        reached,
        Reached {
            member: true,
            non_member: true
        },
        "expired, still flooded"
    );
    assert_eq!(next_received(&listener), "probe 2");
}

/// With the bridge as querier, the group goes to the member's port only, once the bridge has
/// waited one query response interval after becoming querier (10 s by default, half a second
/// here). The member answers every query, so the membership outlives its interval (2 s here)
/// and the stream goes on.
#[test]
fn with_a_querier_only_the_member_port_gets_the_group_for_as_long_as_it_answers_queries() {
    // The querier is switched on after the intervals are set: the bridge's wait before it
    // filters is the response interval in force at that moment.
    let Some(mut segment) = Segment::new(
        "mcast_membership_interval 200 mcast_query_interval 100 \
         mcast_query_response_interval 50 mcast_startup_query_interval 100",
    ) else {
        return;
    };
    let listener = segment.join_under_a_querier();

    // Twice the membership interval: without the answers to queries it would have expired.
    let filtering = Instant::now();
    while filtering.elapsed() < Duration::from_secs(4) {
        let reached = segment.probe();
        assert_eq!(
            reached,
            Reached {
                member: true,
                non_member: false
            },
            "after {:?}",
            filtering.elapsed()
        );
        assert!(segment.knows_member());
        // A stream of five probes a second, not a wait for readiness.
        std::thread::sleep(Duration::from_millis(200));
    }
    let texts: Vec<String> = (0..segment.probes)
        .map(|_| next_received(&listener))
        .collect();
    let sent: Vec<String> = (1..=segment.probes).map(|k| format!("probe {k}")).collect();
    assert_eq!(
        texts, sent,
        "the member's program got every probe, in order"
    );
}

/// With a querier whose queries come less often than the membership interval (60 s against
/// 2 s here; on a real segment, queries lost or reports filtered), the bridge forgets the
/// member and the stream stops: the member host is still joined, but neither its port nor
/// any other gets the group. This, not the lack of a querier, is when a Linux bridge stops
/// a stream.
#[test]
fn with_a_querier_a_membership_that_times_out_stops_the_stream_to_a_host_still_joined() {
    let Some(mut segment) = Segment::new(
        "mcast_membership_interval 200 mcast_query_interval 6000 \
         mcast_query_response_interval 50 mcast_startup_query_interval 100",
    ) else {
        return;
    };
    // Joined for the whole test: the member host never leaves the group.
    let _member_program = segment.join_under_a_querier();

    segment.until("the membership expires", |s| !s.knows_member());
    let reached = segment.probe();
    assert_eq!(
        reached,
        Reached {
            member: false,
            non_member: false
        },
        "forgotten: nobody gets the group"
    );
    assert!(segment.member_still_joined(), "although the host is joined");
}
