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
//! ## Build a network
//! - [`Sandbox::new`]: one host, IPv4 multicast over `lo` (from its address 10.0.0.1) and
//!   IPv6 over an `eth0` of its own.
//! - [`Lan::new`]: named hosts on one switch, host k at `10.0.0.k` and `fd00::k` on `eth0`
//!   (up to [`MAX_LAN_HOSTS`]); [`Lan::with_snooping`] for a switch that snoops IGMP/MLD
//!   ([`Snooping`]), [`Lan::with_snooping_timers`] with its timers set short
//!   ([`SnoopingTimers`]).
//! - [`Routed::new`] and [`Routed::with_segments`]: two to [`MAX_SEGMENTS`] segments and a
//!   router; [`Routed::forward`] lets a (source, group) pair cross it, so TTL and hop limit
//!   matter. A name on several segments is one host with an interface on each
//!   ([`Host::interfaces`]).
//!
//! Each returns once every link carries traffic, and fails with [`Error::Unavailable`] where
//! the machine lacks what it needs: [`or_skip!`] turns that into a visible skip.
//!
//! ## Run code in a host
//! [`Host::run`] runs a closure on a thread inside the host's namespace (sockets made there
//! stay there), [`Host::spawn`] and [`Host::output`] start programs in it, and [`Running`]
//! reads a program's lines as they come, every wait with a deadline ([`NotSeen`] shows what
//! it printed). For async code, [`Host::udp_socket`] and [`Host::socket`] make sockets in the
//! host for any runtime, and `Host::block_on` (feature `tokio`) runs a whole future there.
//! A binary that should work for an ordinary user says so once:
//! [`userns_before_main!`] (see [`init_userns_before_main`]).
//!
//! ## Listen and expect
//! [`Host::listen`] returns a [`Listener`]: joined and bound when it returns, recording each
//! [`Datagram`] with its bytes, source, destination group, TTL or hop limit, arrival
//! interface and the kernel's receive time. [`Listener::expect`] waits, with a deadline, for
//! what should arrive; an [`Unmet`] expectation lists what did arrive, where, and the host's
//! memberships and routes.
//!
//! ## Capture
//! [`Host::capture`] records every frame crossing one interface ([`Capture`], [`Frame`],
//! [`UdpFrame`]), for what a listener cannot see (a frame that left but was not delivered,
//! IGMP reports); [`Capture::write_pcap`] writes it for tcpdump, tshark or Wireshark.
//!
//! ## Impair
//! [`Lan::impair`], [`Lan::impair_sending`] and their [`Routed`] counterparts put an
//! [`Impairment`] (loss, delay, duplication, reordering, a rate) on one host's link.
//!
//! ## When a test fails
//! `HARNESS_PAUSE=1` keeps the failing network and prints how to step into each host
//! (`cargo lab shell --pid PID HOST`); `HARNESS_PCAP_DIR=DIR` keeps a pcap file per host
//! interface. A network that people enter by other means (a lab) opts out with
//! `keep_nothing_on_failure`.
//!
//! ## What the machine can do
//! [`Capability`] is the list (network namespaces, veth, bridges, snooping, multicast
//! routing, netem, the optional programs...), each probed once per process;
//! [`Capability::check`] says what is missing and what provides it, and [`skip`] and
//! [`or_skip!`] report a skip visibly (`HARNESS_REQUIRE_SANDBOX`, `HARNESS_REQUIRE`).
//!
//! ## Inside
//! The modules point down: `procfs.rs` and `privilege.rs` at the bottom; `namespace.rs` and
//! `netlink.rs` (namespaces held by file descriptor, configured over rtnetlink); then
//! `listener.rs`, `capture.rs`, `host.rs`; `topology.rs` (which builds [`Lan`] and
//! [`Routed`]) and the networks; failure handling (`pause.rs`, `recording.rs`) as one guard
//! each network owns. `.ci/module-cycles` keeps it so. [`registry`] lists the running labs
//! and paused tests; [`flood`] is hostile input for listeners and the checks after it.

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
mod snooping;
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
pub use snooping::SnoopingTimers;
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
