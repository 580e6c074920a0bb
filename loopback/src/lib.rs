//! # Multicast over loopback: `sendto()` versus `connect()` + `send()`
//!
//! This crate ports the C article "Multicast Over Loopback" (seed `004`): two processes on
//! one host talk multicast through `lo`, with a `/32` route sending the group there. The
//! article's claim is that only a datagram sent with sendto(2) follows that route, while one
//! sent on a connect(2)ed socket leaves through the default interface, leaking onto the
//! network. On Linux 6.18 in a network namespace the claim holds, and this crate shows it
//! with interface evidence, shows two socket options that fix it, and tries IPv6.
//!
//! The article also says multicast is a cheap way to stream many small messages to several
//! local processes; the `fanout` crate measures that.
//!
//! ## What you learn
//! - why a connected UDP socket can ignore a multicast route ([`send`] explains the kernel's
//!   source-address rule), and how `IP_MULTICAST_IF` or `SO_BINDTODEVICE` pins it;
//! - how a receiver learns the arrival interface (`IP_PKTINFO`, in [`listener`]) and how to
//!   see frames leave another interface (`AF_PACKET`, in [`capture`]);
//! - that an IPv6 route via `lo` is turned into a reject route: datagrams are dropped and
//!   counted as `Ip6OutNoRoutes` ([`counters::out_no_routes`]).
//!
//! ## Layout, in the article's order
//! - [`group`]: the article's group `224.16.17.8` and random port (step 1).
//! - [`route`]: its `route add` / `route del` of the group's host route via `lo` (steps 2, 7).
//! - [`listener`]: its server, joined on one interface, reporting arrival interfaces (step 3).
//! - [`send`]: its client, the two send methods, and the fixes (step 4).
//! - [`capture`]: the `tcpdump` its warning suggests, as an `AF_PACKET` socket.
//! - [`counters`]: the kernel's no-route counters, the IPv6 trial's only witness.
//! - [`experiment`]: steps 3 to 6 as one call returning typed verdicts; [`why`]: the
//!   kernel's reason for each verdict.
//! - [`namespace`]: the check that refuses to run any of it in the machine's own network.
//! - binary `demo`: the article's `run.sh`, in the network namespace it is started in.
//!
//! The vocabulary (a checked [`mcast_vocab::Group`], an [`mcast_vocab::Interface`], the
//! arrival evidence and the frame parser) comes from `mcast-vocab`. The library does not use
//! the workspace's `harness`: the tests build their sandboxes with it, and a person runs
//! `demo` in a lab shell (a throwaway namespace) or in the sandbox the book's walkthrough
//! gives it.
//!
//! ## Left out on purpose
//! - The article's `sleep 5` before sending: the listener is ready when it returns.
//! - macOS (`lo0`): the article mentions it; this crate is Linux-only, like the harness.

pub mod capture;
pub mod counters;
pub mod experiment;
pub mod group;
pub mod listener;
pub mod namespace;
pub mod route;
pub mod send;
pub mod why;

pub use experiment::{Experiment, ExperimentError, Outcome, SendReport, Verdict};
pub use send::{Fix, SendMethod};

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Waits until one of `fds` is readable or `deadline` passes; true if one is readable.
pub(crate) fn wait_readable(fds: &[BorrowedFd<'_>], deadline: Instant) -> io::Result<bool> {
    let mut polled: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Round up, so that less than a millisecond left is not a busy loop.
        let millis = left.as_micros().div_ceil(1000);
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        match poll(&mut polled, timeout) {
            Ok(ready) => return Ok(ready > 0),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}
