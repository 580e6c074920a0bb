//! Several runs per setting, summarised by their medians: the numbers a report quotes.

use serde::{Deserialize, Serialize};

use crate::mode::Mode;
use crate::placement::Placement;
use crate::run::FanoutReport;

/// The median of `values` (mean of the middle two for an even count); 0 for none.
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// One mode at one receiver count, over several runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    /// Multicast or N×unicast.
    pub mode: Mode,
    /// Receivers.
    pub receivers: usize,
    /// Median messages per second.
    pub rate: f64,
    /// Median sender CPU per message, ns.
    pub cpu_per_message_ns: f64,
    /// Median sender CPU per delivered copy, ns.
    pub cpu_per_delivery_ns: f64,
    /// Median lost copies (over all receivers) per run.
    pub lost: f64,
    /// The largest loss of any run (loss is the number that must be exact, so show the worst).
    pub worst_lost: u64,
    /// Messages per second: median and range of the runs.
    pub rate_spread: Spread,
    /// Median CPU time of the receivers per datagram they got, ns.
    pub receiver_cpu_per_copy_ns: f64,
    /// Every run, for whoever wants more than medians.
    pub runs: Vec<FanoutReport>,
}

impl Point {
    /// Summarises runs of one setting (all with the same mode and receiver count).
    pub fn from_runs(runs: Vec<FanoutReport>) -> Option<Point> {
        let first = runs.first()?;
        Some(Point {
            mode: first.mode,
            receivers: first.receivers,
            rate: median(runs.iter().map(|r| r.rate)),
            cpu_per_message_ns: median(runs.iter().map(|r| r.cpu_per_message_ns)),
            cpu_per_delivery_ns: median(runs.iter().map(|r| r.cpu_per_delivery_ns)),
            lost: median(runs.iter().map(|r| r.lost as f64)),
            worst_lost: runs.iter().map(|r| r.lost).max().unwrap_or(0),
            rate_spread: Spread::of(runs.iter().map(|r| r.rate)),
            receiver_cpu_per_copy_ns: median(runs.iter().map(|r| r.receiver_cpu_per_copy_ns())),
            runs,
        })
    }
}

/// A figure over several rounds: its median and the least and most any round gave, so that
/// a quoted figure says how far it can be trusted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The median of the rounds.
    pub median: f64,
    /// The least of any round.
    pub min: f64,
    /// The most of any round.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (all zero for none).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            return Spread::default();
        }
        Spread {
            median: median(values.iter().copied()),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// `9.5 [9.1–10.2]`: the median, then the range of the rounds; the precision given to the
/// formatter (default 1) applies to all three.
impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = f.precision().unwrap_or(1);
        write!(
            f,
            "{:.digits$} [{:.digits$}–{:.digits$}]",
            self.median, self.min, self.max
        )
    }
}

/// One round's round-trip percentiles, whoever measured them, µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundTrip {
    /// Median round trip.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
}

/// Ping-pong rounds of one tool (ours in a mode, or sockperf) at one placement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Latency {
    /// `multicast`, `unicast` (ours, by the mode out) or `sockperf`.
    pub who: String,
    /// Where the client and the echo ran.
    pub placement: Placement,
    /// p50 over the rounds, µs.
    pub p50_us: Spread,
    /// p99 over the rounds, µs.
    pub p99_us: Spread,
    /// p99.9 over the rounds, µs.
    pub p999_us: Spread,
    /// Round trips without an answer, summed over rounds (ours only: sockperf does not say).
    pub lost: u64,
    /// Every round, in the order they ran.
    pub rounds: Vec<RoundTrip>,
}

impl Latency {
    /// Summarises `rounds` of `who` at `placement`.
    pub fn from_rounds(
        who: &str,
        placement: Placement,
        rounds: Vec<RoundTrip>,
        lost: u64,
    ) -> Latency {
        Latency {
            who: who.to_owned(),
            placement,
            p50_us: Spread::of(rounds.iter().map(|r| r.p50_us)),
            p99_us: Spread::of(rounds.iter().map(|r| r.p99_us)),
            p999_us: Spread::of(rounds.iter().map(|r| r.p999_us)),
            lost,
            rounds,
        }
    }

    /// Ours over `peer`'s, round by round (rounds ran side by side), for each percentile.
    pub fn paired_ratios(&self, peer: &Latency) -> [Spread; 3] {
        let pairs = || self.rounds.iter().zip(&peer.rounds);
        [
            Spread::of(pairs().map(|(a, b)| a.p50_us / b.p50_us)),
            Spread::of(pairs().map(|(a, b)| a.p99_us / b.p99_us)),
            Spread::of(pairs().map(|(a, b)| a.p999_us / b.p999_us)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Odd counts take the middle value, even counts the mean of the middle two.
    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median([]), 0.0);
    }

    /// Ratios pair round with round: a round slow for both tools gives an ordinary ratio,
    /// not an extreme one.
    #[test]
    fn latency_ratios_pair_rounds() {
        let trip = |p50_us| RoundTrip {
            p50_us,
            p99_us: 2.0 * p50_us,
            p999_us: 4.0 * p50_us,
        };
        let ours =
            Latency::from_rounds("multicast", Placement::Same, vec![trip(4.0), trip(40.0)], 0);
        let theirs =
            Latency::from_rounds("sockperf", Placement::Same, vec![trip(5.0), trip(50.0)], 0);
        let [p50, p99, p999] = ours.paired_ratios(&theirs);
        assert_eq!((p50.min, p50.max), (0.8, 0.8));
        assert_eq!((p99.median, p999.median), (0.8, 0.8));
        assert_eq!((ours.p50_us.min, ours.p50_us.max), (4.0, 40.0));
    }

    /// A spread keeps the median and the extremes, and prints the range after the median.
    #[test]
    fn spread_prints_median_then_range() {
        let spread = Spread::of([10.0, 3.0, 4.0]);
        assert_eq!((spread.median, spread.min, spread.max), (4.0, 3.0, 10.0));
        assert_eq!(spread.to_string(), "4.0 [3.0–10.0]");
        assert_eq!(format!("{spread:.2}"), "4.00 [3.00–10.00]");
    }
}
