//! What a snooping Linux bridge (the kind `docker0` is) does with a group, with and without
//! a querier (troubleshooting's "IGMP snooping on bridges and in Docker").
//!
//! Each test builds a LAN whose switch snoops (`harness::Lan::with_snooping_timers`): hosts
//! `s` (sender), `m` (member) and `n` (non-member) on one bridge. The bridge's timers are set
//! short over netlink (`harness::SnoopingTimers`, the `mcast_*_interval` options of `ip link
//! ... type bridge`), so that what takes minutes on a real switch (a membership lasts 260 s
//! by default) takes a second or two here; each test names its timers in its doc and prints
//! them. The member's kernel repeats its report of a join at most 10 ms after the first
//! rather than up to 1 s after (10 s once it has heard an IGMPv2 query, which is what the
//! bridge sends): `igmpv3_unsolicited_report_interval` and `igmpv2_...`, set in host `m`
//! only. So a membership nobody renews runs out a known time after the join, and no late
//! repeat brings it back.
//!
//! Whether a port got a datagram is read from a capture on the host's `eth0`. The sender
//! follows each probe with a marker to 224.0.0.99, a group the bridge always floods: once a
//! port's capture holds the marker, it would already hold the probe had the bridge sent it
//! there, so no test waits for silence.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use harness::{Capture, Group, Lan, Listener, Snooping, SnoopingTimers};

const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
const PORT: u16 = 5000;
/// In 224.0.0.0/24, which a snooping bridge floods to every port whatever it has learnt.
const MARKER: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 99);
/// Bounds each wait for a probe; only a failure takes this long.
const SECOND: Duration = Duration::from_secs(2);

fn group() -> Group {
    Group::parse(&format!("{GROUP}:{PORT}")).unwrap()
}

/// Which ports a probe reached.
#[derive(Debug, PartialEq, Eq)]
struct Reached {
    member: bool,
    non_member: bool,
}

/// The LAN, captures on the member's and non-member's `eth0`, and the probes sent so far.
struct Segment {
    lan: Lan,
    timers: SnoopingTimers,
    on_member: Capture,
    on_non_member: Capture,
    probes: u32,
}

impl Segment {
    /// Builds the LAN with a switch that snoops as `snooping` says, with `timers`; `None`
    /// (having said why) where the machine cannot.
    fn new(snooping: Snooping, timers: SnoopingTimers) -> Option<Segment> {
        println!("the bridge's timers, shortened: {timers}");
        let lan = harness::skip_unless_available(Lan::with_snooping_timers(
            ["s", "m", "n"],
            snooping,
            timers,
        ))?;
        lan.host("m")
            .run(|| {
                ["igmpv2", "igmpv3"].iter().try_for_each(|version| {
                    let key = format!("{version}_unsolicited_report_interval");
                    std::fs::write(format!("/proc/sys/net/ipv4/conf/eth0/{key}"), "10")
                })
            })
            .expect("the member's report repeat interval");
        Some(Segment {
            on_member: lan.host("m").capture("eth0").unwrap(),
            on_non_member: lan.host("n").capture("eth0").unwrap(),
            lan,
            timers,
            probes: 0,
        })
    }

    /// Joins GROUP on the member; returns the listener once the bridge has learnt the
    /// membership on the member's port.
    fn join(&self) -> Listener {
        let listener = self.lan.host("m").listen(group()).unwrap();
        self.lan.wait_for_membership("m", group()).unwrap();
        listener
    }

    /// Joins the member under the querier the switch is, and returns once the bridge
    /// filters (the LAN was built once it did): probes reach the member's port and not the
    /// other one.
    fn join_under_a_querier(&mut self) -> Listener {
        let listener = self.join();
        let reached = self.probe();
        assert_eq!(
            reached,
            Reached {
                member: true,
                non_member: false
            },
            "filtering, and the member is known"
        );
        listener
    }

    /// True while the bridge's mdb lists GROUP on the member's port.
    fn knows_member(&self) -> bool {
        self.lan
            .memberships()
            .unwrap()
            .contains(&("m".to_owned(), GROUP.into()))
    }

    /// Returns once the bridge no longer lists the member (its membership ran out).
    fn until_the_membership_expires(&self) {
        self.lan
            .wait_for_no_membership("m", group())
            .unwrap_or_else(|e| panic!("with {}: {e}", self.timers));
    }

    /// Sends `probe N` to GROUP and `marker N` to MARKER from the sender; returns which
    /// ports the probe reached, read once each port's capture holds the marker.
    fn probe(&mut self) -> Reached {
        self.probes += 1;
        let (probe, marker) = (
            format!("probe {}", self.probes),
            format!("marker {}", self.probes),
        );
        self.lan.host("s").run(|| {
            let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
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
        self.lan
            .host("m")
            .run(|| std::fs::read_to_string("/proc/thread-self/net/igmp"))
            .expect("the member's /proc/net/igmp")
            .contains("010101EF")
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
/// 300 ms, 260 s by default) it goes on flooding: the stream does not stop. Linux filters by
/// membership only while it knows of a querier.
#[test]
fn without_a_querier_a_snooping_bridge_floods_the_group_even_after_the_membership_expires() {
    let timers = SnoopingTimers::new().membership_interval(Duration::from_millis(300));
    let Some(mut segment) = Segment::new(Snooping::WithoutQuerier, timers) else {
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

    segment.until_the_membership_expires();
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
/// waited one query response interval after becoming querier (10 s by default, 100 ms
/// here). The member answers every query (one a second here, the shortest Linux allows), so
/// its membership outlives its interval (1.5 s here) and the stream goes on.
#[test]
fn with_a_querier_only_the_member_port_gets_the_group_for_as_long_as_it_answers_queries() {
    let membership = Duration::from_millis(1500);
    let timers = SnoopingTimers::new()
        .membership_interval(membership)
        .query_interval(Duration::from_secs(1))
        .startup_queries(2, Duration::from_secs(1));
    let Some(mut segment) = Segment::new(Snooping::WithQuerier, timers) else {
        return;
    };
    let listener = segment.join_under_a_querier();

    // The member's last report of its own (the repeat of its join report) left at most 10 ms
    // after the bridge learnt it: a stream that still reaches it one membership interval
    // and a probe later was renewed by its answers to queries.
    let learnt = Instant::now();
    while learnt.elapsed() < membership + Duration::from_millis(100) {
        // A stream of ten probes a second, not a wait for readiness.
        std::thread::sleep(Duration::from_millis(100));
        let reached = segment.probe();
        assert_eq!(
            reached,
            Reached {
                member: true,
                non_member: false
            },
            "after {:?}, with {timers}",
            learnt.elapsed()
        );
        assert!(
            segment.knows_member(),
            "the member is forgotten after {:?}, with {timers}",
            learnt.elapsed()
        );
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
/// 300 ms here, after a single startup query that came before the join; on a real segment,
/// queries lost or reports filtered), the bridge forgets the member and the stream stops:
/// the member host is still joined, but neither its port nor any other gets the group.
/// This, not the lack of a querier, is when a Linux bridge stops a stream.
#[test]
fn with_a_querier_a_membership_that_times_out_stops_the_stream_to_a_host_still_joined() {
    let timers = SnoopingTimers::new()
        .membership_interval(Duration::from_millis(300))
        .query_interval(Duration::from_secs(60))
        .startup_queries(1, Duration::from_secs(1));
    let Some(mut segment) = Segment::new(Snooping::WithQuerier, timers) else {
        return;
    };
    // Joined for the whole test: the member host never leaves the group.
    let _member_program = segment.join_under_a_querier();

    segment.until_the_membership_expires();
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
