//! What the `fanout` binary prints: one line per run, per median, per peer, as `Display`.
//!
//! The figures vary from run to run; the shape of the lines does not, and the book matches
//! them with `[..]` where numbers go.

use std::fmt;

use crate::pingpong::PingPongReport;
use crate::run::FanoutReport;
use crate::summary::{Latency, Point};
use crate::sweep::{LatencyRatio, PeerRate, RateRatio};

/// `multicast N=4   sent 20000 in 0.093 s: ...`: one throughput run.
impl fmt::Display for FanoutReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<9} N={:<3} sent {} in {:.3} s: {:.0} msg/s, lost {} (kernel drops {}), dup {}, reordered {}, sender CPU {:.0} ns/msg, {:.0} ns/delivery",
            self.mode,
            self.receivers,
            self.sent,
            self.seconds,
            self.rate,
            self.lost,
            self.kernel_drops,
            self.duplicates,
            self.reordered,
            self.cpu_per_message_ns,
            self.cpu_per_delivery_ns
        )
    }
}

/// `multicast N=4   median [range] of 3 runs: ...`: the medians of one setting.
impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<9} N={:<3} median [range] of {} runs: {:.0} msg/s, lost {} (worst {}), sender CPU {:.0} ns/msg, {:.0} ns/delivery, receivers' CPU {:.0} ns/copy",
            self.mode,
            self.receivers,
            self.runs.len(),
            self.rate_spread,
            self.lost,
            self.worst_lost,
            self.cpu_per_message_ns,
            self.cpu_per_delivery_ns,
            self.receiver_cpu_per_copy_ns
        )
    }
}

/// `ping-pong multicast same CPU (client 0, echo 0) 20000 round trips: p50 ...`: one
/// ping-pong run.
impl fmt::Display for PingPongReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ping-pong {:<9} {} {} round trips: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  max {:.1} µs  lost {}",
            self.mode,
            self.placement.round_trip_label(),
            self.round_trips,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            self.lost
        )
    }
}

/// `ping-pong multicast same CPU (client 0, echo 0), median [range] of 5 rounds: p50 9.5
/// [9.1–10.2] µs ...`: one tool at one placement over the rounds.
impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ping-pong {:<9} {}, median [range] of {} rounds: p50 {} µs  p99 {} µs  p99.9 {} µs",
            self.who,
            self.placement.round_trip_label(),
            self.rounds.len(),
            self.p50_us,
            self.p99_us,
            self.p999_us,
        )?;
        if self.who != "sockperf" {
            write!(f, "  lost {}", self.lost)?;
        }
        Ok(())
    }
}

/// `ping-pong multicast/sockperf same CPU (...), paired by round: p50 1.05× [..] ...`.
impl fmt::Display for LatencyRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p50, p99, p999] = &self.ratios;
        write!(
            f,
            "ping-pong ours/sockperf {}, paired by round: p50 {p50:.2}×  p99 {p99:.2}×  p99.9 {p999:.2}×",
            self.placement.round_trip_label(),
        )
    }
}

/// `peer iperf2   N=4   median [range] of 5 rounds: 81000 [70000–90000] msg/s, lost 0 (worst 0)`.
impl fmt::Display for PeerRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "peer {:<8} N={:<3} median [range] of {} rounds: {:.0} msg/s, lost {} (worst {}), receivers' CPU {:.0} ns/copy",
            self.peer.name(),
            self.receivers,
            self.runs.len(),
            self.rate,
            self.lost,
            self.worst_lost,
            self.receiver_cpu_per_copy_ns
        )
    }
}

/// `multicast/iperf2   N=4   paired by round: delivered rate 0.95× [0.80–1.10], receivers'
/// CPU per copy 0.90× [..]`.
impl fmt::Display for RateRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "multicast/{:<8} N={:<3} paired by round: delivered rate {:.2}×, receivers' CPU per copy {:.2}×",
            self.peer.name(),
            self.receivers,
            self.ratio,
            self.receiver_cpu
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::Mode;

    /// The mode is padded to one column, so that multicast and unicast lines align as the
    /// book shows them.
    #[test]
    fn run_lines_align_on_the_mode_column() {
        let report = FanoutReport {
            mode: Mode::Unicast,
            receivers: 4,
            sent: 20_000,
            seconds: 0.5,
            rate: 40_000.0,
            sender_cpu_ns: 1,
            cpu_per_message_ns: 7_300.4,
            cpu_per_delivery_ns: 1_825.1,
            lost: 0,
            kernel_drops: 0,
            duplicates: 0,
            reordered: 0,
            per_receiver: Vec::new(),
        };
        assert_eq!(
            report.to_string(),
            "unicast   N=4   sent 20000 in 0.500 s: 40000 msg/s, lost 0 (kernel drops 0), dup 0, \
             reordered 0, sender CPU 7300 ns/msg, 1825 ns/delivery"
        );
    }
}
