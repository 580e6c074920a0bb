//! What the `fanout` binary prints: one line per run, per median, per peer, as `Display`.
//!
//! The figures vary from run to run; the shape of the lines does not, and the book matches
//! them with `[..]` where numbers go.

use std::fmt;

use crate::peers::PeerFigures;
use crate::pingpong::PingPongReport;
use crate::run::FanoutReport;
use crate::summary::{Latency, Point};

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

/// `multicast N=4   median of 3 runs: ...`: the medians of one setting.
impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<9} N={:<3} median of {} runs: {:.0} msg/s, lost {} (worst {}), sender CPU {:.0} ns/msg, {:.0} ns/delivery",
            self.mode,
            self.receivers,
            self.runs.len(),
            self.rate,
            self.lost,
            self.worst_lost,
            self.cpu_per_message_ns,
            self.cpu_per_delivery_ns
        )
    }
}

/// `ping-pong multicast 20000 round trips: p50 ...`: one ping-pong run.
impl fmt::Display for PingPongReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ping-pong {:<9} {} round trips: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  max {:.1} µs  lost {}",
            self.mode,
            self.round_trips,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            self.lost
        )
    }
}

/// `ping-pong multicast median of 3 runs: p50 ...`: the medians of ping-pong runs.
impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ping-pong {:<9} median of {} runs: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  lost {}",
            self.mode,
            self.runs.len(),
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.lost
        )
    }
}

/// One line per peer and receiver count, then sockperf's round trips if measured.
impl fmt::Display for PeerFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<String> = self
            .rates
            .iter()
            .map(|rate| {
                format!(
                    "peer {:<8} N={:<3} median of {} runs: {:.0} msg/s, lost {} (worst {})",
                    rate.tool,
                    rate.receivers,
                    rate.runs.len(),
                    rate.rate,
                    rate.lost,
                    rate.worst_lost
                )
            })
            .collect();
        let rtt = &self.sockperf_rtt;
        if rtt.p50_us != 0.0 {
            lines.push(format!(
                "peer sockperf ping-pong (full RTT) median: p50 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs",
                rtt.p50_us, rtt.p99_us, rtt.p999_us
            ));
        }
        f.write_str(&lines.join("\n"))
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
