//! # mcast-vocab: the words every crate in this workspace shares
//!
//! The four ports teach an article each; the harness builds networks to test them in. All of
//! them need the same handful of small, dull, easy-to-get-wrong things: a group that really
//! is multicast, an interface resolved to the index the kernel wants, a TTL, the evidence the
//! kernel attaches to a received datagram, and a parser for a captured frame. They live here,
//! once, so that a fix reaches every crate and the copies cannot drift apart. (They did: five
//! hand-written group types came to disagree on IPv6 scope ids and on scope 0.)
//!
//! What is *not* here is any article's lesson. The calls an article teaches (its `socket`,
//! `setsockopt`, `bind`, join and `sendto`, in its order) stay in that article's port, where a
//! reader of its chapter looks for them. This crate is plumbing.
//!
//! ## Layout
//! - [`Group`] (`group.rs`): a multicast address and a UDP port, checked once; IPv6 [`Scope`].
//! - [`Interface`] (`interface.rs`): a network interface by name and index.
//! - [`Ttl`] (`ttl.rs`): an IPv4 TTL or IPv6 hop limit.
//! - [`Arrival`] (`arrival.rs`): one `recvmsg` with its `IP_PKTINFO` / `IPV6_PKTINFO` and TTL
//!   control messages decoded: source, destination group, arrival interface, TTL, truncation,
//!   and the kernel's `SO_TIMESTAMPNS` arrival time.
//! - [`sockopt`] (`sockopt.rs`): socket options socket2 lacks (`IP_MULTICAST_IF` by index,
//!   `MCAST_JOIN_SOURCE_GROUP`).
//! - [`packet`] (`packet.rs`): an `AF_PACKET` socket bound to one interface, the one capture
//!   socket the harness and the loopback port share.
//! - [`sanitize`] (`sanitize.rs`): peer text made inert for a terminal or a page.
//! - [`frame`] (`frame.rs`): Ethernet + IPv4/IPv6 + UDP frames as `AF_PACKET` captures them.
//!
//! ## The error policy, for every crate in the workspace
//! - **A typed error per concern, here and in libraries.** A value that can be wrong in a way
//!   a caller may want to tell apart gets an enum deriving `thiserror::Error`, with one name
//!   per concern: [`GroupError`], [`InterfaceError`], [`TtlError`], [`FrameError`]. Each
//!   message names the bad value and says what was expected ("`10.0.0.1` is not a multicast
//!   address (expected 224.0.0.0/4 or ff00::/8)"), so a command line can print it as it is.
//! - **I/O keeps its cause, and prints it once.** A failed system call stays a
//!   `std::io::Error`; a library that wraps it adds what it was doing ("joining 224.6.8.11 on
//!   eth0") and keeps the `io::Error` in a field named `cause` (its kind and `errno` are
//!   never flattened into a string). The wrapper's `Display` shows the cause; so it is not
//!   also the `source()`, or a chain printer (`anyhow`'s `{:#}`) would print it twice.
//! - **`anyhow` only at the top.** Binaries, the tour and tests may use `anyhow` to add
//!   context on the way out; a library's public function never returns `anyhow::Error`.
//! - **One line to the user.** A binary prints the error and its causes on one line
//!   (`error: what we did: why`), exits non-zero, and never panics on input it was given.

mod arrival;
pub mod frame;
mod group;
mod interface;
pub mod packet;
pub mod sanitize;
pub mod sockopt;
mod ttl;

pub use arrival::{
    Arrival, recv_with_arrival, request_arrival_info, request_receive_timestamps, socket_addr_of,
};
pub use frame::FrameError;
pub use group::{Group, GroupError, Scope};
pub use interface::{Interface, InterfaceError};
pub use ttl::{Ttl, TtlError};
