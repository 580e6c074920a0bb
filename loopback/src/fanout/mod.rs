//! Fan-out over loopback, measured: one sender, N receiver processes, multicast or N×unicast.
//!
//! The article says multicast is a convenient, low-impact way to stream many small messages
//! from one process to several others on the same host. This module turns that into numbers:
//! how many messages per second reach every receiver, how many are lost (exactly, from
//! sequence numbers), what each message costs the sender in CPU time, and how long a round
//! trip takes. Sending each message separately to every receiver (N×unicast) is measured the
//! same way, so the two can be compared.
//!
//! One thing to know before reading the numbers: on loopback there is no wire. The sending
//! system call itself runs the receive path for every copy (in the sender's softirq), so the
//! sender's CPU time includes the delivery work for all N receivers, in both modes.
//!
//! ## Layout
//! - [`wire`]: the message (sequence number, timestamp, padding) and clocks.
//! - [`tracker`]: loss, duplicate and reorder accounting over sequence numbers.
//! - [`sockets`]: socket options, CPU pinning, and batched `sendmmsg`/`recvmmsg`.
//! - [`roles`]: the receiver and echo processes.
//! - [`run`]: one throughput run (spawn, send, collect).
//! - [`pingpong`]: round-trip latency with an HDR histogram.
//! - [`peers`]: the same measurements with sockperf and iperf2, for comparison.
//! - [`summary`]: medians over several runs.
//! - [`plot`]: an SVG of rate and sender CPU against N for both modes.

pub mod peers;
pub mod pingpong;
pub mod plot;
pub mod roles;
pub mod run;
pub mod sockets;
pub mod summary;
pub mod tracker;
pub mod wire;

pub use pingpong::{PingPongConfig, PingPongReport, run_pingpong};
pub use run::{FanoutConfig, FanoutReport, Mode, Placement, run_fanout};
pub use tracker::{SequenceTracker, Tally};
