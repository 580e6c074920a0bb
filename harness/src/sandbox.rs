//! One isolated host, for tests that need a network but not a LAN.
//!
//! What a fresh namespace lacks, and what the sandbox adds (each measured on Linux 6.18):
//! - `lo` is down: the sandbox brings it up.
//! - With no route, `IP_ADD_MEMBERSHIP` on `INADDR_ANY` fails with `ENODEV`: the sandbox routes
//!   `224.0.0.0/4` over `lo`, so IPv4 multicast goes out and comes back on `lo`.
//! - With only 127.0.0.1 on `lo`, multicast leaves with source 0.0.0.0, and a reply goes to
//!   0.0.0.0, which Linux takes as this host: it arrives from 127.0.0.1, not from the address
//!   the sender used. The route names `10.0.0.1` as preferred source, an address of the sandbox.
//! - IPv6 multicast over `lo` is never delivered: the sandbox has a second interface, `eth0`
//!   (with 10.0.0.1/24, fd00::1/64 and the link-local fe80::1), so IPv6 multicast leaves
//!   through `eth0` and the kernel loops a copy back to local members. Every IPv6 address on
//!   it is added with `nodad`, so it works at once: even on a NOARP device such as `eth0`,
//!   the link-local address the kernel would make itself stays tentative until a kernel
//!   worker gets round to it (microseconds on an idle machine, milliseconds on a busy one),
//!   so the sandbox turns that off (`addrgenmode none`) and adds its own.
//!
//! All of it is one batch of rtnetlink requests, sent in one system call and acknowledged
//! together: `cargo bench -p harness` measures `Sandbox::new` against the same requests made
//! by hand on a bare thread.
//!
//! `eth0` is an `ifb` device with the MULTICAST flag set: an Ethernet-like interface with no
//! far end, whose transmitted frames are dropped after a capture has seen them. A veth pair
//! does the same job with a useless second interface and costs about 0.4 ms more to create,
//! which is most of a sandbox's budget. (A [`crate::Lan`] host's `eth0` is a real veth.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Deref;
use std::time::Instant;

use crate::host::Host;
use crate::namespace::Namespace;
use crate::netlink::{Request, Route};
use crate::ready::{self, READY_DEADLINE};

/// One host in a network namespace of its own. Derefs to [`Host`].
///
/// ```no_run
/// # use harness::{Sandbox, Group};
/// # use std::time::Duration;
/// let host = Sandbox::new()?;
/// let rx = host.listen(Group::parse("224.6.8.11:6811")?)?;
/// host.run(|| {
///     let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
///     socket.send_to(b"hello", "224.6.8.11:6811").unwrap();
/// });
/// let got = rx.expect(1).within(Duration::from_secs(2))?;
/// assert_eq!(got[0].interface.name, "lo");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sandbox {
    host: Host,
    /// What a failed test keeps of it (`HARNESS_PAUSE`, `HARNESS_PCAP_DIR`).
    on_failure: crate::pause::OnFailure,
}

/// The sandbox's IPv4 address (on `eth0`, and the source of its IPv4 multicast).
pub const SANDBOX_IPV4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The sandbox's unique-local IPv6 address on `eth0`.
pub(crate) const SANDBOX_IPV6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
/// The sandbox's link-local IPv6 address on `eth0`, added by the sandbox instead of the
/// kernel (see the module's docs).
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// Interface indices in a fresh sandbox: `lo` is always 1; we choose `eth0`'s.
const LO: u32 = 1;
use crate::host::ETH0;

impl Sandbox {
    /// Keeps nothing of this network when its test fails: no pause (`HARNESS_PAUSE`), no
    /// recordings (`HARNESS_PCAP_DIR`). For a network people enter by other means, as a lab.
    pub fn keep_nothing_on_failure(&mut self) {
        self.on_failure.disarm();
    }

    /// Builds the sandbox. Fails with [`crate::Error::Unavailable`] where namespaces cannot be
    /// created; tests wrap this in [`crate::or_skip!`]. Returns when every link is usable.
    pub fn new() -> crate::Result<Sandbox> {
        crate::Capability::Ifb.check()?;
        let (namespace, rtnl) = Namespace::create_many(1, |_, _, rtnl| {
            let until = Instant::now() + READY_DEADLINE;
            let multicast = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 0));
            // One send, one round trip: (what each request does, for a failure message).
            let requests = [
                ("lo up", Request::set_up(LO)),
                ("eth0", Request::add_ifb("eth0", ETH0)),
                (
                    "eth0 addrgenmode none",
                    Request::no_automatic_link_local(ETH0),
                ),
                ("eth0 up", Request::set_up(ETH0)),
                (
                    "fe80::1/64",
                    Request::add_address(ETH0, IpAddr::V6(LINK_LOCAL), 64),
                ),
                (
                    "10.0.0.1/24",
                    Request::add_address(ETH0, IpAddr::V4(SANDBOX_IPV4), 24),
                ),
                (
                    "fd00::1/64",
                    Request::add_address(ETH0, IpAddr::V6(SANDBOX_IPV6), 64),
                ),
                (
                    "route 224.0.0.0/4 dev lo src 10.0.0.1",
                    Request::add_route(
                        Route::to(multicast, 4)
                            .via_interface(LO)
                            .source(IpAddr::V4(SANDBOX_IPV4)),
                    ),
                ),
            ];
            let (names, requests): (Vec<_>, Vec<_>) = requests.into_iter().unzip();
            rtnl.batch(requests)
                .map_err(|(at, cause)| crate::Error::Io {
                    doing: format!("building the sandbox: {}", names[at]),
                    cause,
                })?;
            ready::wait_for_link(rtnl, ETH0, until, "eth0")?;
            ready::wait_for_ipv6_multicast(ETH0, until, "the sandbox")
        })?
        .pop()
        .expect("one namespace");
        Ok(Sandbox {
            host: Host::new("sandbox", namespace, rtnl, SANDBOX_IPV4, SANDBOX_IPV6),
            on_failure: crate::pause::OnFailure::armed(),
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.on_failure.dropping(&[&self.host]);
    }
}

impl Deref for Sandbox {
    type Target = Host;
    fn deref(&self) -> &Host {
        &self.host
    }
}
