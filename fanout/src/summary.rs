//! Several runs per setting, summarised by their medians: the numbers a report quotes.

use serde::{Deserialize, Serialize};

use crate::mode::Mode;
use crate::pingpong::PingPongReport;
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
            runs,
        })
    }
}

/// Medians of several ping-pong runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Latency {
    /// Multicast or unicast out.
    pub mode: Mode,
    /// Median of the runs' p50, µs.
    pub p50_us: f64,
    /// Median of the runs' p99, µs.
    pub p99_us: f64,
    /// Median of the runs' p99.9, µs.
    pub p999_us: f64,
    /// Round trips without an answer, summed over runs.
    pub lost: u64,
    /// Every run.
    pub runs: Vec<PingPongReport>,
}

impl Latency {
    /// Summarises ping-pong runs of one mode.
    pub fn from_runs(runs: Vec<PingPongReport>) -> Option<Latency> {
        Some(Latency {
            mode: runs.first()?.mode,
            p50_us: median(runs.iter().map(|r| r.p50_us)),
            p99_us: median(runs.iter().map(|r| r.p99_us)),
            p999_us: median(runs.iter().map(|r| r.p999_us)),
            lost: runs.iter().map(|r| r.lost).sum(),
            runs,
        })
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
}
