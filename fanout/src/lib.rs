//! # fanout: one-to-many over loopback, measured
//!
//! One sender, N receiver processes, multicast or N×unicast. The C article ("Multicast Over
//! Loopback", ported by the `loopback` crate) says multicast is a convenient, low-impact way
//! to stream many small messages from one process to several others on the same host. This
//! crate turns that into numbers:
//! how many messages per second reach every receiver, how many are lost (exactly, from
//! sequence numbers), what each message costs the sender in CPU time, and how long a round
//! trip takes. Sending each message separately to every receiver (N×unicast) is measured the
//! same way, so the two can be compared.
//!
//! One thing to know before reading the numbers: on loopback there is no wire. The sending
//! system call itself runs the receive path for every copy (in the sender's softirq), so the
//! sender's CPU time includes the delivery work for all N receivers, in both modes.
//!
//! ## What the numbers showed here (Linux 6.18, 2 shared vCPUs, noisy)
//! Medians of 3-5 short runs, 64-byte messages, 8 MiB receive buffers, while five other
//! people compiled on the same two cores; run-to-run spread was often ±30 %, and medians
//! moved that much between sessions too.
//! - The sender pays for the copies: N×unicast cost the sender 1.3-3× the CPU per delivered
//!   copy of a multicast send at N = 4, and 1.1-2× at N = 16 (0.9-2.0 µs per copy for
//!   multicast, 1.9-2.8 µs for unicast). The spread is likely the kernel deferring loopback
//!   receive work to `ksoftirqd` when busy, where it is no longer charged to the sender.
//! - At N = 1 multicast is *not* cheaper: the kernel clones each looped multicast datagram
//!   and also transmits the original on `lo` (where it is not delivered a second time), so
//!   one multicast send cost 8-20 % more than one unicast send.
//! - Loss on loopback is receive-queue overflow and nothing else: with the default 208 KiB
//!   buffer, 4 receivers paced at 80k msg/s lost most messages; with 8 MiB, none.
//! - With receivers that block in `recvmmsg` (ours and the peers alike), 4 receivers went
//!   loss-free at 75-100k msg/s for all three tools. Most of that work is wake-ups: each
//!   receiver asleep on its socket costs the *sender* a wake-up inside `sendmmsg`.
//!   `--drain-every-us 200` has receivers empty their queue on a timer instead, so nobody
//!   waits on the socket: on a quiet machine 4 receivers then took 244k msg/s without loss,
//!   and the sender's CPU per delivered copy fell to 0.9 µs (multicast) against 2.2 µs
//!   (unicast). That is our draining receivers against our blocking ones (about 2.5× in a
//!   later like-for-like sweep, 212k against 79k): the peers have no draining mode, and
//!   against their blocking receivers (65-81k in that sweep) ours are in the same range.
//! - `sendmmsg` batches of 32 raised the one-receiver rate by about 1.7×; with 4 receivers
//!   the delivery work dominates and batching changed nothing measurable.
//! - Pinning (`--placement`, applied to the peers too) did not help throughput; for round
//!   trips it decides everything, so `pingpong` pins client and echo and prints where
//!   (`same CPU (client 0, echo 0)`, `other CPU (client 0, echo 1)`), and times both modes
//!   and sockperf (`--peers`) in every round, the order rotated from round to round. One
//!   `pingpong --runs 5 --peers` (20,000 round trips a run; sockperf 2 s a run) at load
//!   average 4-10, median \[range of the rounds\]: on the same CPU p50 3.8 [3.8–3.9] µs for
//!   us and 3.8 [3.7–4.0] µs for sockperf, p99.9 43 [26–45] µs against 38 [33–172] µs;
//!   on the other CPU p50 46 [45–49] µs against 45 [44–47] µs, p99.9 338 [117–1893] µs
//!   against 1337 [320–2274] µs. Paired by round, ours/sockperf p50 was 1.01 [0.94–1.02]×
//!   on one CPU and 1.03 [0.95–1.04]× across two; p99.9 was 0.77 [0.26–1.32]× and 0.49
//!   [0.09–0.83]×. So p50 compares tools; p99.9 moves several-fold between rounds of the
//!   *same* tool and ranks nothing on a busy
//!   machine. Busy-polling (`pingpong --spin`) gives about 8 µs. sockperf prints *half* the
//!   round trip unless given `--full-rtt`.
//! - Against the peers, a sweep with `--peers` compares *delivered* rates (copies that
//!   arrived per receiver per second), paired by round, and what the receivers cost: our
//!   receivers' CPU time per copy against the peers' servers' (all their threads, from
//!   `wait4`). iperf2's server reads one datagram per `recvmsg` (with a kernel timestamp)
//!   and hands each to a reporter thread; ours read up to 32 per `recvmmsg` and count in
//!   place. `sweep --receivers 1,4 --runs 5 --round-trips 0 --peers --messages 200000`
//!   (unpaced, blocking receivers, load average 4-11), ours over theirs paired by round,
//!   median \[range\]: with 4 receivers our multicast delivered 1.08 [0.74–1.73]× iperf2's
//!   rate and 0.99 [0.79–1.15]× sockperf's, its receivers costing 0.75 [0.45–1.27]× and
//!   0.95 [0.51–1.41]× theirs per copy (about 1.1 µs each); with 1 receiver 1.27
//!   [0.58–1.43]× and 1.39 [0.63–1.82]×, receivers at 0.84× and 1.00×. Paced at 50k msg/s
//!   (3 rounds) all three lost nothing and our receivers cost 0.70-0.78× the peers' per
//!   copy.
//!
//! ## Why this crate depends on `harness`
//! The ports use the workspace's `harness` only in their tests. This crate is not a port but
//! a measuring tool, and it must never send multicast in the host's own network namespace:
//! every measurement builds its own throwaway sandbox with the harness (IPv4 multicast
//! routed over `lo`) and starts its receivers inside it with [`harness::Host::spawn`], which
//! kills them if the tool dies. So `harness` is a normal dependency here, and with it comes
//! the harness's move into a user namespace before `main` when not run as root.
//!
//! ## Layout
//! - [`wire`]: the message (sequence number, count word, padding) and the end marker.
//! - [`tracker`]: loss, duplicate and reorder accounting over sequence numbers.
//! - [`sockets`]: the sockets and their options; [`batch`]: `sendmmsg`/`recvmmsg`.
//! - [`mode`], [`placement`]: multicast or N×unicast; which CPUs run what.
//! - [`roles`]: the receiver and echo processes; `children.rs`: starting and waiting for them.
//! - [`run`]: one throughput run (spawn, send, collect); [`clock`]: CPU time.
//! - [`pingpong`]: round-trip latency with an HDR histogram.
//! - [`peers`]: the same measurements with sockperf and iperf2, for comparison.
//! - [`summary`]: medians over several runs; [`sweep`]: the grid of them all.
//! - [`report`]: the lines the `fanout` binary prints; [`plot`]: an SVG of a sweep.
//!
//! A receiver is a listener like any other: `tests/suite/flood.rs` floods one with 100,000 hostile
//! datagrams (bounded memory, still counting), proptest checks [`wire`]'s decoders on any
//! bytes, and `examples/fanout_flood_figures.rs` prints a receiver's resident memory idle and after
//! such a flood.

pub mod batch;
mod children;
pub mod clock;
pub mod error;
pub mod mode;
pub mod peers;
pub mod pingpong;
pub mod placement;
pub mod plot;
mod progress;
pub mod report;
pub mod roles;
pub mod run;
pub mod sockets;
pub mod summary;
pub mod sweep;
pub mod tracker;
pub mod wire;

pub use error::{Error, Result};
pub use mode::Mode;
pub use pingpong::{PingPongConfig, PingPongReport, run_pingpong};
pub use placement::Placement;
pub use run::{FanoutConfig, FanoutReport, run_fanout};
