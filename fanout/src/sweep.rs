//! Rounds: every setting several times, interleaved, summarised by medians and spreads.
//!
//! Figures on a shared machine are noisy, and the machine's load drifts: a sweep that ran
//! every multicast run before every unicast run would read a change of load as a
//! difference between the modes. So a sweep runs in *rounds*: each round measures every
//! contender once (ours in each mode, and the peers), in an order rotated from one round to
//! the next, and every figure is reported as the median of the rounds with the least and
//! most any round gave. A comparison with a peer is made round by round (ours over theirs
//! in the same round, a *paired* ratio), so a slow moment of the machine falls on both.

use std::fmt::Display;

use serde::Serialize;

use crate::mode::Mode;
use crate::peers::{self, Peer, PeerRun, PeerSettings};
use crate::pingpong::{PingPongConfig, run_pingpong};
use crate::placement::Placement;
use crate::run::{FanoutConfig, FanoutReport, run_fanout};
use crate::summary::{Latency, Point, RoundTrip, Spread, median};

/// Runs `config` `runs` times (at least once) in `host`, showing each run, and returns the
/// medians.
pub fn repeat_fanout(
    host: &harness::Host,
    config: &FanoutConfig,
    runs: usize,
    show: &mut dyn FnMut(&dyn Display),
) -> crate::Result<Point> {
    let reports = (0..runs.max(1))
        .map(|_| {
            let report = run_fanout(host, config)?;
            show(&report);
            Ok(report)
        })
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(Point::from_runs(reports).expect("at least one run"))
}

/// `items` in the order round `round` runs them: rotated by one more each round, so that no
/// contender always runs first (on a warm cache) or last (after the others' clean-up).
fn rotated<T: Copy>(items: &[T], round: usize) -> Vec<T> {
    let mut order = items.to_vec();
    if !order.is_empty() {
        let by = round % order.len();
        order.rotate_left(by);
    }
    order
}

/// Who runs a ping-pong round: ours with a mode out, or sockperf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pinger {
    Ours(Mode),
    Sockperf,
}

impl Pinger {
    fn name(self) -> &'static str {
        match self {
            Pinger::Ours(Mode::Multicast) => "multicast",
            Pinger::Ours(Mode::Unicast) => "unicast",
            Pinger::Sockperf => "sockperf",
        }
    }
}

/// What a round-trip comparison does.
#[derive(Clone, Debug)]
pub struct RoundTripSettings {
    /// Our ping-pong (the mode and placement are set by each round).
    pub pingpong: PingPongConfig,
    /// Where client and echo run; every placement is measured in every round.
    pub placements: Vec<Placement>,
    /// Rounds.
    pub rounds: usize,
    /// sockperf ping-pong in every round too (the placement is set by each round).
    pub sockperf: Option<PeerSettings>,
}

/// Round trips per tool and placement, and ours over sockperf's, round by round.
#[derive(Clone, Debug, Serialize)]
pub struct RoundTripReport {
    /// One summary per tool (ours in each mode, sockperf) and placement.
    pub latency: Vec<Latency>,
    /// Ours (multicast out) over sockperf's, per placement: p50, p99, p99.9.
    pub against_sockperf: Vec<LatencyRatio>,
}

/// Our multicast round trips over sockperf's, paired round by round, at one placement.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyRatio {
    /// Where client and echo ran.
    pub placement: Placement,
    /// Ours over sockperf's p50, p99 and p99.9.
    pub ratios: [Spread; 3],
}

/// Runs `settings.rounds` rounds of ping-pong in `host`: in each, every placement, and in
/// each placement ours in both modes and sockperf (if asked), in rotated order. Each run is
/// shown as it ends; then each summary and ratio.
pub fn round_trips(
    host: &harness::Host,
    settings: &RoundTripSettings,
    show: &mut dyn FnMut(&dyn Display),
) -> crate::Result<RoundTripReport> {
    let mut pingers = vec![Pinger::Ours(Mode::Multicast), Pinger::Ours(Mode::Unicast)];
    if settings.sockperf.is_some() {
        pingers.push(Pinger::Sockperf);
    }
    // (pinger, placement) -> rounds and lost round trips.
    let mut measured: Vec<(Pinger, Placement, Vec<RoundTrip>, u64)> = Vec::new();
    for round in 0..settings.rounds.max(1) {
        for placement in rotated(&settings.placements, round) {
            for pinger in rotated(&pingers, round) {
                let (trip, lost) = match pinger {
                    Pinger::Ours(mode) => {
                        let mut config = settings.pingpong.clone();
                        config.mode = mode;
                        config.placement = placement;
                        let report = run_pingpong(host, &config)?;
                        (report.round_trip(), report.lost)
                    }
                    Pinger::Sockperf => {
                        let mut peer = settings.sockperf.clone().expect("asked for sockperf");
                        peer.placement = placement;
                        (peers::sockperf_round_trip(host, &peer)?, 0)
                    }
                };
                show(&format_args!(
                    "round {} ping-pong {:<9} {}: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs",
                    round + 1,
                    pinger.name(),
                    placement.round_trip_label(),
                    trip.p50_us,
                    trip.p99_us,
                    trip.p999_us
                ));
                match measured
                    .iter_mut()
                    .find(|(p, at, ..)| *p == pinger && *at == placement)
                {
                    Some((.., trips, sum)) => {
                        trips.push(trip);
                        *sum += lost;
                    }
                    None => measured.push((pinger, placement, vec![trip], lost)),
                }
            }
        }
    }
    let mut latency = Vec::new();
    for &placement in &settings.placements {
        for &pinger in &pingers {
            if let Some((_, _, trips, lost)) = measured
                .iter()
                .find(|(p, at, ..)| *p == pinger && *at == placement)
            {
                let summary = Latency::from_rounds(pinger.name(), placement, trips.clone(), *lost);
                show(&summary);
                latency.push(summary);
            }
        }
    }
    let mut against_sockperf = Vec::new();
    for &placement in &settings.placements {
        let find = |who: &str| {
            latency
                .iter()
                .find(|l| l.who == who && l.placement == placement)
        };
        if let (Some(ours), Some(theirs)) = (find("multicast"), find("sockperf")) {
            let ratio = LatencyRatio {
                placement,
                ratios: ours.paired_ratios(theirs),
            };
            show(&ratio);
            against_sockperf.push(ratio);
        }
    }
    Ok(RoundTripReport {
        latency,
        against_sockperf,
    })
}

/// One peer's throughput at one receiver count, over the rounds.
#[derive(Clone, Debug, Serialize)]
pub struct PeerRate {
    /// The peer.
    pub peer: Peer,
    /// Receivers (servers).
    pub receivers: usize,
    /// Messages per second sent: median and range of the rounds.
    pub rate: Spread,
    /// Median lost copies per run, over all receivers.
    pub lost: f64,
    /// The largest loss of any run.
    pub worst_lost: u64,
    /// Median CPU time of the servers per copy that arrived, ns.
    pub receiver_cpu_per_copy_ns: f64,
    /// Each round's run.
    pub runs: Vec<PeerRun>,
}

/// Our multicast rate over a peer's, paired round by round, at one receiver count. The
/// rates compared are *delivered* rates (copies that arrived per receiver per second), so a
/// tool that sends fast and loses much does not win by it.
#[derive(Clone, Debug, Serialize)]
pub struct RateRatio {
    /// The peer.
    pub peer: Peer,
    /// Receivers.
    pub receivers: usize,
    /// Ours over the peer's delivered rate, per round: median and range.
    pub ratio: Spread,
    /// Ours over the peer's receivers' CPU time per copy, per round: median and range.
    pub receiver_cpu: Spread,
}

/// What a sweep does.
#[derive(Clone, Debug)]
pub struct SweepSettings {
    /// Receiver counts, each measured in both modes.
    pub receivers: Vec<usize>,
    /// Rounds: each measures every contender once.
    pub runs: usize,
    /// Everything but mode and receiver count, which the sweep sets.
    pub fanout: FanoutConfig,
    /// Ping-pong after the throughput rounds (in rounds of its own).
    pub round_trips: Option<RoundTripSettings>,
    /// sockperf and iperf2 in the same rounds, at these receiver counts.
    pub peers: Option<(PeerSettings, Vec<usize>)>,
}

/// Everything a sweep measured, as `fanout sweep --json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct SweepReport {
    /// Throughput medians, per receiver count and mode.
    pub points: Vec<Point>,
    /// The peers' throughput, per peer and receiver count.
    pub peer_rates: Vec<PeerRate>,
    /// Our multicast rate over each peer's, paired by round.
    pub against_peers: Vec<RateRatio>,
    /// Round trips, if measured.
    pub round_trips: Option<RoundTripReport>,
}

/// Who runs a throughput round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sender {
    Ours(Mode),
    Peer(Peer),
}

/// Runs the sweep in `host`: `runs` rounds, each measuring every receiver count with ours in
/// both modes and the peers (where asked) in rotated order; then the summaries and paired
/// ratios, then the round trips. Each run and summary is shown as it comes.
pub fn sweep(
    host: &harness::Host,
    settings: &SweepSettings,
    show: &mut dyn FnMut(&dyn Display),
) -> crate::Result<SweepReport> {
    let mut ours: Vec<(Mode, usize, Vec<FanoutReport>)> = Vec::new();
    let mut theirs: Vec<(Peer, usize, Vec<PeerRun>)> = Vec::new();
    for round in 0..settings.runs.max(1) {
        for &receivers in &settings.receivers {
            let mut senders = vec![Sender::Ours(Mode::Multicast), Sender::Ours(Mode::Unicast)];
            if let Some((_, counts)) = &settings.peers
                && counts.contains(&receivers)
            {
                senders.extend(Peer::BOTH.map(Sender::Peer));
            }
            for sender in rotated(&senders, round) {
                match sender {
                    Sender::Ours(mode) => {
                        let mut config = settings.fanout.clone();
                        config.mode = mode;
                        config.receivers = receivers;
                        let report = run_fanout(host, &config)?;
                        show(&format_args!(
                            "round {} {report}, receivers' CPU {:.0} ns/copy",
                            round + 1,
                            report.receiver_cpu_per_copy_ns()
                        ));
                        match ours
                            .iter_mut()
                            .find(|(m, n, _)| *m == mode && *n == receivers)
                        {
                            Some((.., runs)) => runs.push(report),
                            None => ours.push((mode, receivers, vec![report])),
                        }
                    }
                    Sender::Peer(peer) => {
                        let (peer_settings, _) = settings.peers.as_ref().expect("peers asked");
                        let run = peers::throughput(host, peer, receivers, peer_settings)?;
                        show(&format_args!(
                            "round {} peer {:<8} N={:<3} sent {}: {:.0} msg/s, lost {}, receivers' CPU {:.0} ns/copy",
                            round + 1,
                            peer.name(),
                            receivers,
                            run.sent,
                            run.rate,
                            run.lost,
                            run.receiver_cpu_per_copy_ns()
                        ));
                        match theirs
                            .iter_mut()
                            .find(|(p, n, _)| *p == peer && *n == receivers)
                        {
                            Some((.., runs)) => runs.push(run),
                            None => theirs.push((peer, receivers, vec![run])),
                        }
                    }
                }
            }
        }
    }
    let points: Vec<Point> = ours
        .into_iter()
        .filter_map(|(_, _, runs)| Point::from_runs(runs))
        .collect();
    for point in &points {
        show(point);
    }
    let peer_rates: Vec<PeerRate> = theirs
        .into_iter()
        .map(|(peer, receivers, runs)| PeerRate {
            peer,
            receivers,
            rate: Spread::of(runs.iter().map(|r| r.rate)),
            lost: median(runs.iter().map(|r| r.lost as f64)),
            worst_lost: runs.iter().map(|r| r.lost).max().unwrap_or(0),
            receiver_cpu_per_copy_ns: median(runs.iter().map(|r| r.receiver_cpu_per_copy_ns())),
            runs,
        })
        .collect();
    let mut against_peers = Vec::new();
    for rate in &peer_rates {
        show(rate);
        let multicast = points
            .iter()
            .find(|p| p.mode == Mode::Multicast && p.receivers == rate.receivers);
        if let Some(multicast) = multicast {
            let pairs = || multicast.runs.iter().zip(&rate.runs);
            let ratio = RateRatio {
                peer: rate.peer,
                receivers: rate.receivers,
                ratio: Spread::of(
                    pairs().map(|(ours, theirs)| ours.delivered_rate() / theirs.delivered_rate()),
                ),
                receiver_cpu: Spread::of(pairs().map(|(ours, theirs)| {
                    ours.receiver_cpu_per_copy_ns() / theirs.receiver_cpu_per_copy_ns()
                })),
            };
            against_peers.push(ratio);
        }
    }
    for ratio in &against_peers {
        show(ratio);
    }
    let round_trips = match &settings.round_trips {
        Some(round_trip_settings) => Some(round_trips(host, round_trip_settings, show)?),
        None => None,
    };
    Ok(SweepReport {
        points,
        peer_rates,
        against_peers,
        round_trips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each round starts one contender later, so every contender runs first once in as
    /// many rounds as there are contenders.
    #[test]
    fn rounds_rotate_the_order() {
        let items = ["multicast", "unicast", "sockperf"];
        assert_eq!(rotated(&items, 0), items);
        assert_eq!(rotated(&items, 1), ["unicast", "sockperf", "multicast"]);
        assert_eq!(rotated(&items, 2), ["sockperf", "multicast", "unicast"]);
        assert_eq!(rotated(&items, 3), items);
        assert!(rotated::<u8>(&[], 5).is_empty());
    }
}
