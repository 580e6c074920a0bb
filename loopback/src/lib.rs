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
//! local processes. The [`fanout`] module measures that against sending to each one.
//!
//! ## What you learn
//! - why a connected UDP socket can ignore a multicast route ([`send`] explains the kernel's
//!   source-address rule), and how `IP_MULTICAST_IF` or `SO_BINDTODEVICE` pins it;
//! - how a receiver learns the arrival interface (`IP_PKTINFO`, in [`listener`]) and how to
//!   see frames leave another interface (`AF_PACKET`, in [`capture`]);
//! - that an IPv6 route via `lo` is turned into a reject route: datagrams are dropped and
//!   counted as `Ip6OutNoRoutes` ([`interface::out_no_routes`]);
//! - what loss, CPU cost and latency of local fan-out look like when measured ([`fanout`]).
//!
//! ## Layout
//! - [`group`]: a group and port checked to be multicast; the article's random port.
//! - [`interface`]: interfaces by name and index; the kernel's no-route counters.
//! - [`listener`]: the article's server, joined on one interface, reporting arrival interfaces.
//! - [`send`]: the article's client, the two send methods, and the fixes.
//! - [`capture`]: an `AF_PACKET` capture that sees which way a datagram left.
//! - [`experiment`]: the whole experiment as one call returning typed verdicts.
//! - [`fanout`]: the measurement tool behind the `fanout` binary.
//! - binaries: `demo` (the article's `run.sh`, in a sandbox) and `fanout`.
//!
//! ## Why the binaries depend on `harness`
//! Every port uses the workspace's `harness` crate only in its tests. The two binaries here
//! are the exception: they must never send multicast in the host's own network namespace,
//! and the harness is what builds them a throwaway one (a host on a virtual segment whose
//! default route is `eth0`). Cargo cannot give a dependency to binaries only, so `harness`
//! is a normal dependency of the package. The article's modules run in whatever namespace
//! the caller's thread is in ([`Experiment::run`]); only [`experiment::in_sandbox`] (the
//! demo's setup in one call, for the workshop tour) and the fan-out orchestration
//! ([`fanout::run_fanout`], [`fanout::run_pingpong`], [`fanout::peers`]) use the harness,
//! because they build a sandbox or start processes inside one.
//!
//! ## Left out on purpose
//! - The article's `route add`/`route del` on the host: the sandbox holds the route and
//!   vanishes with it. Its `sleep 5` before sending: the listener is ready when it returns.
//! - macOS (`lo0`): the article mentions it; this crate is Linux-only, like the harness.

pub mod capture;
pub mod experiment;
pub mod fanout;
pub mod group;
pub mod interface;
pub mod listener;
pub mod send;

pub use experiment::{Experiment, Outcome, SendReport, Verdict};
pub use group::Group;
pub use interface::Interface;
pub use send::{Fix, SendMethod};

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

/// Waits until `fd` is readable or `deadline` passes; true if readable.
pub(crate) fn wait_readable(fd: impl AsFd, deadline: Instant) -> io::Result<bool> {
    wait_any_readable(&[fd.as_fd().as_raw_fd()], deadline)
}

/// Waits until either descriptor is readable or `deadline` passes.
pub(crate) fn wait_either_readable(
    first: impl AsFd,
    second: impl AsFd,
    deadline: Instant,
) -> io::Result<bool> {
    wait_any_readable(
        &[first.as_fd().as_raw_fd(), second.as_fd().as_raw_fd()],
        deadline,
    )
}

fn wait_any_readable(fds: &[i32], deadline: Instant) -> io::Result<bool> {
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = left.as_millis().min(i32::MAX as u128) as i32;
        let millis = if left.is_zero() { 0 } else { millis.max(1) };
        // SAFETY: `polled` is a valid array of pollfd of the given length.
        let ready =
            unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, millis) };
        if ready >= 0 {
            return Ok(ready > 0);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
