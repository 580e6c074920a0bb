//! # The Rust diary: an IPv4 + IPv6 multicast listener test, ported and fixed
//!
//! This crate ports the diary entry "Multicasting in Rust" (2019), which follows Benjamin
//! Fry's `multicast-example`: a test that starts a listener thread on a multicast group,
//! sends it a message from the same host and checks the reply, once over IPv4
//! (`224.0.0.123`) and once over IPv6 (`ff02::123`), both on port 7645.
//!
//! ## What you learn
//!
//! - How a multicast receiver is put together with `socket2`: make a socket, join the
//!   group (`IP_ADD_MEMBERSHIP` / `IPV6_ADD_MEMBERSHIP`), bind, read with a timeout.
//! - Why IPv6 multicast needs an *interface* where IPv4 gets by with a route, and why the
//!   interface must be looked up by name on the machine that runs the code.
//! - What binding to the group filters that binding to the wildcard does not, and the
//!   Linux default (`IP_MULTICAST_ALL`) that lets a wildcard socket hear groups it never
//!   joined.
//! - How a test thread signals "ready" and "stop", and how a drop guard silently fails
//!   when it is not bound to a name.
//!
//! ## What the diary got right
//!
//! Separate sockets for sending and receiving; a read timeout so the listener can notice
//! a stop flag; a barrier so the client does not speak before the listener has joined;
//! a drop guard so the listener stops even when the test panics; `IPV6_V6ONLY` on the
//! IPv6 socket; link-local groups, so a test cannot leak past the first router.
//!
//! ## What it got wrong (on Linux), and where each fix is shown
//!
//! | diary | what happens here | fix | shown in |
//! |-------|-------------------|-----|----------|
//! | `NotifyServer(..);` written as a statement | the guard drops on that line: the stop flag is set before the listener starts, the client gets no answer | bind it (`let notify = ..`); [`Responder`] is its own guard and `#[must_use]` | `tests/suite/guard.rs` |
//! | IPv6 `bind([ff02::123]:7645)` | `EINVAL`: a link-local address names no interface without a scope id | the resolved interface as scope id, or the wildcard | `tests/suite/diary.rs`, `tests/suite/ipv6_interface.rs` |
//! | join inside the thread, `expect`, then the [`Barrier`](std::sync::Barrier) | the thread dies before the barrier, the caller waits for ever: the IPv6 test hangs | join and bind before spawning, return the error | `tests/suite/diary.rs`, `tests/suite/round_trip.rs` |
//! | `IPV6_MULTICAST_IF` = 5 | `ENODEV`, "No such device" (the sandbox has no interface 5) | [`Interface::named`](mcast_vocab::Interface::named), resolved where the socket lives | `tests/suite/diary.rs`, `tests/suite/ipv6_interface.rs` |
//! | no `SO_REUSEADDR` | a second listener on 7645 makes the bind fail with `EADDRINUSE` | [`join`] sets it | `tests/suite/diary.rs`, `tests/suite/round_trip.rs` |
//! | bind style chosen per OS, never explained | group-bound hears only its group; wildcard hears unicast and every joined group on the port | [`Bind`], both shown | `tests/suite/bind_styles.rs` |
//! | kernel default `IP_MULTICAST_ALL` on | a wildcard socket hears a group it never joined once another socket on the host joins it | off by default in [`ListenOptions`], or bind to the group | `tests/suite/multicast_all.rs` |
//! | the 100 ms read timeout is the client's only deadline | a late reply reads as no reply | [`ask`] takes a deadline that only bounds failure | `tests/suite/round_trip.rs` |
//! | `send_to(..).expect("failed to respond")` in the listener | one datagram it cannot answer (source port 0: `EINVAL`) panics the listener thread | the failure is counted and shown, the [`Responder`] goes on answering | `tests/suite/hostile.rs` |
//!
//! The diary's IPv4 test passes unchanged (`tests/suite/diary.rs`), and the fixed round trip passes for
//! both families and both bind styles (`tests/suite/round_trip.rs`).
//!
//! The fixed listener also treats the network as hostile, which the diary's test (one
//! client, one message) never had to: the [`Responder`] keeps counts plus the latest
//! [`responder::RECENT`] datagrams, not every one; [`Responder::answers`] ends when its
//! thread has ended, and [`Responder::stop`] gives up after 2 s with an error naming the
//! thread, so `diary respond` never waits for ever on a dead one. `diary respond` survives
//! a flood of 100,000 hostile datagrams from another host (`tests/suite/flood.rs`), and
//! `examples/diary_flood_figures.rs` prints its resident memory idle and after one.
//!
//! ## How the tests run
//!
//! Every test that touches the network builds its own harness `Sandbox` (a network namespace):
//! IPv4 multicast is routed over `lo` there, IPv6 multicast lives on `eth0`. So no test
//! shares a port, a membership or a route with another, and none needs `serial_test`: the
//! diary's own tests shared the real host's port 7645, which is the global state that would
//! have called for it. No case skips on its own account: a test skips only when no sandbox
//! can be built at all (and says why), and CI sets `HARNESS_REQUIRE_SANDBOX=1`, which turns
//! that skip into a failure, so every IPv6 case runs there.
//!
//! ## Layout
//!
//! - [`addresses`]: `PORT`, `IPV4`, `IPV6` with `lazy_static`, and today's `const` /
//!   `LazyLock` alternatives; [`GROUP_V4`] and [`group_v6`], the same groups checked.
//! - [`diary`]: the faithful port: `new_socket`, `join_multicast`, `new_sender`,
//!   `multicast_listener`, `NotifyServer`, `test_multicast`.
//! - [`listener`]: [`join`] with [`ListenOptions`] and [`Bind`], the fixed `join_multicast`.
//! - [`sender`](mod@sender): [`sender()`] and [`ask`], the fixed `new_sender` and client.
//! - [`responder`]: [`Responder`], the fixed `multicast_listener`.
//! - [`report`]: the lines the `diary` command prints, as `Display` types.
//! - `error.rs`: a failed step's context, with the kernel's error kept as its source.
//! - `src/bin/diary.rs`: the `diary` command, argument parsing only: `diary original ipv4`
//!   replays the diary's test, `diary respond` and `diary ask` are the fixed listener and
//!   client (`--group`, `--interface`, `--bind group|wildcard`, `--multicast-all`).
//!
//! The group and interface types are the workspace's shared ones, from [`mcast_vocab`]:
//! a [`Group`](mcast_vocab::Group) is checked to be multicast once, when it is made, and an
//! [`Interface`](mcast_vocab::Interface) is a name resolved to its index where the code runs.
//!
//! ## Using the fixed pieces
//!
//! ```no_run
//! use std::time::Duration;
//! use mcast_vocab::Interface;
//! use rust_diary::{ListenOptions, Responder, ask, group_v6};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let group = group_v6();                         // [ff02::123]:7645
//! let eth0 = Interface::named("eth0")?;           // resolved here, not hard-coded
//! let responder = Responder::start("ipv6", &group, &ListenOptions::default().interface(eth0.clone()))?;
//! let reply = ask(&group, Some(&eth0), b"Hello from client!", Duration::from_secs(2))?;
//! assert_eq!(reply.text, "ipv6");
//! drop(responder);                                // stops and joins the thread
//! # Ok(()) }
//! ```
//!
//! Run it only inside a network namespace (the tests use the workspace's `harness`).
//!
//! ## Left out on purpose
//!
//! Windows (the diary's `bind_multicast` variant that binds the wildcard there: [`Bind`]
//! covers the idea), macOS behaviour, source-specific joins, TTLs above 1 (both groups are
//! link-local, so a router would not forward them anyway), and the diary's Windows-only and
//! mDNS asides.

pub mod addresses;
pub mod diary;
mod error;
pub mod listener;
pub mod report;
pub mod responder;
pub mod sender;

pub use addresses::{GROUP_V4, IPV4, IPV6, PORT, group_v6};
pub use listener::{Bind, ListenOptions, join};
pub use responder::{Heard, Responder, Tally};
pub use sender::{Reply, ask, sender};
