//! Repeated runs and the sweep: every setting several times, summarised by medians.
//!
//! Figures on a shared machine are noisy, so nothing is reported from one run: each setting
//! runs `runs` times and its medians are kept (with every run alongside, for the JSON).

use std::fmt::Display;

use serde::Serialize;

use crate::mode::Mode;
use crate::peers::{self, PeerFigures, PeerSettings};
use crate::pingpong::{PingPongConfig, run_pingpong};
use crate::run::{FanoutConfig, run_fanout};
use crate::summary::{Latency, Point};

/// Runs `config` `runs` times (at least once) in `host`, showing each run, and returns the
/// medians.
pub fn repeat_fanout(
    host: &harness::Host,
    config: &FanoutConfig,
    runs: usize,
    show: &mut dyn FnMut(&dyn Display),
) -> crate::Result<Point> {
    let reports = repeat(runs, show, || run_fanout(host, config))?;
    Ok(Point::from_runs(reports).expect("at least one run"))
}

/// Runs `config` `runs` times (at least once) in `host`, showing each run, and returns the
/// medians.
pub fn repeat_pingpong(
    host: &harness::Host,
    config: &PingPongConfig,
    runs: usize,
    show: &mut dyn FnMut(&dyn Display),
) -> crate::Result<Latency> {
    let reports = repeat(runs, show, || run_pingpong(host, config))?;
    Ok(Latency::from_runs(reports).expect("at least one run"))
}

fn repeat<R: Display>(
    runs: usize,
    show: &mut dyn FnMut(&dyn Display),
    mut measure: impl FnMut() -> crate::Result<R>,
) -> crate::Result<Vec<R>> {
    (0..runs.max(1))
        .map(|_| {
            let report = measure()?;
            show(&report);
            Ok(report)
        })
        .collect()
}

/// What a sweep does.
#[derive(Clone, Debug)]
pub struct SweepSettings {
    /// Receiver counts, each measured in both modes.
    pub receivers: Vec<usize>,
    /// Runs per setting.
    pub runs: usize,
    /// Everything but mode and receiver count, which the sweep sets.
    pub fanout: FanoutConfig,
    /// Ping-pong in both modes after the throughput grid (the mode is set by the sweep).
    pub pingpong: Option<PingPongConfig>,
    /// sockperf and iperf2 in the same sandbox, last.
    pub peers: Option<PeerSettings>,
}

/// Everything a sweep measured, as `fanout sweep --json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct SweepReport {
    /// Throughput medians, per receiver count and mode.
    pub points: Vec<Point>,
    /// Ping-pong medians, per mode.
    pub latency: Vec<Latency>,
    /// The peers' figures, if measured.
    pub peers: Option<PeerFigures>,
}

/// Runs the sweep in `host`, showing each median (and the peers' figures) as it comes.
pub fn sweep(
    host: &harness::Host,
    settings: &SweepSettings,
    show: &mut dyn FnMut(&dyn Display),
) -> crate::Result<SweepReport> {
    let mut points = Vec::new();
    for &receivers in &settings.receivers {
        for mode in Mode::BOTH {
            let mut config = settings.fanout.clone();
            config.mode = mode;
            config.receivers = receivers;
            let point = repeat_fanout(host, &config, settings.runs, &mut |_| {})?;
            show(&point);
            points.push(point);
        }
    }
    let mut latency = Vec::new();
    if let Some(pingpong) = &settings.pingpong {
        for mode in Mode::BOTH {
            let mut config = pingpong.clone();
            config.mode = mode;
            let summary = repeat_pingpong(host, &config, settings.runs, &mut |_| {})?;
            show(&summary);
            latency.push(summary);
        }
    }
    let peers = match &settings.peers {
        Some(peer_settings) => {
            let figures = peers::measure(host, peer_settings)?;
            show(&figures);
            Some(figures)
        }
        None => None,
    };
    Ok(SweepReport {
        points,
        latency,
        peers,
    })
}
