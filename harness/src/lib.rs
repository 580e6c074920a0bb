//! # harness: throwaway networks for testing multicast code
//!
//! Multicast code is hard to test on a real machine: joining a group sends IGMP reports out of
//! the real network card, two tests on the same group and port hear each other, and whether a
//! datagram arrives depends on routes nobody wrote down. This crate gives each test networks of
//! its own, made of Linux network namespaces, that vanish when the test ends, even when it
//! panics or the process is killed.
//!
//! ```no_run
//! use std::time::Duration;
//! use harness::{Group, Lan};
//!
//! let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
//! let group = Group::parse("239.1.2.3:5000").unwrap();
//! let on_b = lan.host("b").listen(group).unwrap();          // joined and bound: ready
//! lan.host("a").run(|| {
//!     let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
//!     socket.send_to(b"hello", group.socket_addr()).unwrap();
//! });
//! let got = on_b.expect(1).within(Duration::from_secs(2)).unwrap();
//! assert_eq!(got[0].interface.name, "eth0");
//! assert_eq!(got[0].source.ip(), lan.host("a").ipv4());
//! ```
//!
//! ## Layout
//! - [`Sandbox`] (`sandbox.rs`): one isolated host; IPv4 multicast over `lo`, IPv6 over `eth0`.
//! - [`Lan`] (`lan.rs`): named hosts on one flooding bridge, host k at `10.0.0.k` (up to 254
//!   hosts in a /24; up to [`MAX_LAN_HOSTS`] in a /22, numbered on past `.254`); or on a
//!   snooping one ([`Snooping`]), and with impaired links ([`Lan::impair`],
//!   [`Routed::impair`]).
//! - [`Impairment`] (`impair.rs`): loss, delay, duplication, reordering, rate on one link.
//! - [`Routed`] (`routed.rs`): two or more segments and a multicast router (IPv4 and IPv6),
//!   where TTL and hop limit matter; a host named on several segments has an interface on
//!   each ([`Host::interfaces`]).
//!   Both are built by `topology.rs`; `ready.rs` waits until new links really carry traffic.
//! - [`Host`] (`host.rs`): run a closure, spawn a process, listen, capture, add routes; make
//!   sockets inside it for async runtimes ([`Host::udp_socket`], `Host::block_on` with the
//!   `tokio` feature; see `README.md`, which is also the outside user's guide).
//! - [`Listener`] (`listener.rs`): a joined socket on a thread, recording [`Datagram`]s with
//!   their arrival interface, destination, source and TTL; expectations with deadlines.
//! - [`Capture`] (`capture.rs`): frames crossing one interface, with their direction.
//! - [`PcapWriter`] (`pcap.rs`): frames as a classic pcap file ([`Capture::write_pcap`]).
//! - [`registry`] (`registry.rs`): where running labs (the `lab` crate) and paused tests are
//!   listed, so `cargo lab shell` finds them; [`procfs`] (`procfs.rs`): what `/proc` says
//!   about processes, to end what a lab or a test started.
//! - [`flood`] (`flood.rs`): hostile input for listeners (a mixed flood of datagrams) and the
//!   checks after it: resident memory, control characters in what a program printed; the
//!   figures examples' table.
//! - `recording.rs`: `HARNESS_PCAP_DIR` records every host interface and keeps a failed
//!   test's recordings as pcap files.
//! - [`Running`] (`reading.rs`): a program started in a host, its output read line by line
//!   as it comes; every wait has a deadline, and a failed one ([`NotSeen`]) shows what it
//!   printed. [`wait_within`] (`child.rs`): wait for a program to end, with a deadline.
//! - `pause.rs`: `HARNESS_PAUSE=1` keeps a failed test's network and prints how to enter it.
//! - `namespace.rs`, `netlink.rs`: namespaces held by file descriptor, configured over rtnetlink.
//! - [`Capability`] (`capability.rs`): what this machine can do, probed once per process.
//! - `skip.rs`: [`or_skip!`], visible skips, `HARNESS_REQUIRE_SANDBOX` and `HARNESS_REQUIRE`.
//! - `privilege.rs`: root and unprivileged user namespaces.
//!
//! ## Rules it keeps
//! - **Hermetic**: nothing is created in the host's own namespace; interfaces are born inside
//!   the namespaces that own them. No named namespaces (`ip netns`), no mounts: only file
//!   descriptors, which the kernel closes when the process dies.
//! - **Ready means ready**: `Sandbox::new`, `Lan::new` and `Routed::new` return when every link
//!   carries traffic; `listen` and `capture` return when the kernel will deliver to them.
//! - **Parallel-safe**: each test has its own namespaces, so any number may use one group and port.
//!
//! ## Stepping inside
//! `cargo lab` (from the workspace root) builds the same LAN for a person, with a shell in
//! every host: `cargo lab shell b` and `cargo lab exec b -- COMMAND` from any terminal,
//! `cargo lab capture b eth0 -w b.pcap` for Wireshark. The `lab` crate (`lab::Lab`) is the same
//! thing for code: `Lab::exec` runs a command line in a host as a lab shell would. It is a
//! crate of its own, on top of this one, so a harness user compiles no front end. A test run
//! with `HARNESS_PAUSE=1` that fails prints, for each host, the `cargo lab shell --pid PID
//! HOST` line that enters it, and waits for Enter before its network goes.
//!
//! ## Deliberately left out
//! Multicast routing protocols (the router forwards only the (source, group) pairs a test
//! names, IPv4 or IPv6), and anything but Linux.

mod capability;
mod capture;
mod child;
mod datagram;
mod diagnostics;
mod error;
pub mod flood;
mod host;
mod impair;
mod interfaces;
mod lan;
mod listener;
mod namespace;
mod netlink;
mod pause;
mod pcap;
mod privilege;
pub mod procfs;
mod reading;
mod ready;
mod recording;
pub mod registry;
mod routed;
mod sandbox;
mod skip;
mod tools;
mod topology;
mod unmet;

pub use capability::{Capability, Missing, requirements_table};
pub use capture::{Capture, Direction, Frame, UdpFrame};
pub use child::wait_within;
pub use datagram::Datagram;
pub use error::{Context, Error, Result};
pub use host::{Host, HostInterface};
pub use impair::Impairment;
pub use lan::Lan;
pub use listener::{Expect, Listen, Listener};
pub use mcast_vocab::{Group, GroupError, Interface, Scope, Ttl};
pub use pcap::PcapWriter;
pub use privilege::{init_userns_before_main, real_root};
pub use reading::{NotSeen, Running};
pub use routed::{MAX_SEGMENTS, Routed};
pub use sandbox::{SANDBOX_IPV4, Sandbox};
pub use skip::{required, sandbox_required, skip, skip_because, skip_unless_available};
pub use tools::tool;
pub use topology::MAX_LAN_HOSTS;
pub use topology::Snooping;
pub use unmet::Unmet;

/// The README's code, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The unit tests build sandboxes too (see `flood.rs`).
#[cfg(test)]
userns_before_main!();
