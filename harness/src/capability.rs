//! What this machine can do: one place that knows, so every test, topology, tour claim and
//! lab shape asks here instead of meeting a kernel error halfway through.
//!
//! Kernels differ: a distribution kernel has multicast routing and `netem` as modules, a
//! micro-VM or OrbStack kernel may have neither, AppArmor may refuse user namespaces. Each
//! [`Capability`] is tried once per process, for real, in a throwaway network namespace (a
//! multicast routing socket opened, a `netem` qdisc put on `lo`, a bridge asked for its
//! multicast database), and the answer is remembered. A missing one is an
//! [`Error::Unavailable`] carrying a [`Missing`]: which capability, the kernel option, module
//! or package that provides it, and what the kernel said. [`crate::or_skip!`] turns that into
//! one visible `skipped:` line.
//!
//! `cargo lab check` prints [`Capability::ALL`] as a table; the book's requirements table is
//! generated from the same list ([`requirements_table`]), so the two cannot drift.

use std::fmt;
use std::sync::OnceLock;

use socket2::{Domain, Protocol, Socket, Type};

use crate::Error;
use crate::namespace::Namespace;
use crate::netlink::Rtnl;

/// Declares [`Capability`] and [`Capability::ALL`] from one list, so that the two cannot
/// disagree.
macro_rules! capabilities {
    ($($(#[doc = $doc:literal])* $name:ident,)+) => {
        /// One thing a test, a topology or a chapter may need from the machine.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Capability {
            $($(#[doc = $doc])* $name,)+
        }

        impl Capability {
            /// Every capability, in the order `cargo lab check` and the book list them.
            pub const ALL: [Capability; [$(Capability::$name),+].len()] =
                [$(Capability::$name),+];
        }
    };
}

capabilities! {
    /// A network namespace of our own: root, or an unprivileged user namespace.
    Sandbox,
    /// `veth` pairs: the cables of every LAN.
    Veth,
    /// Linux bridges: the switch of every LAN.
    Bridge,
    /// IGMP/MLD snooping in the bridge.
    Snooping,
    /// `ifb` devices: a sandbox's `eth0`.
    Ifb,
    /// IPv6 at all.
    Ipv6,
    /// The kernel's IPv4 multicast router (`MRT_INIT`).
    Ipv4Routing,
    /// The kernel's IPv6 multicast router (`MRT6_INIT`).
    Ipv6Routing,
    /// The `netem` queueing discipline: loss, delay, duplication, reordering.
    Netem,
    /// The `tbf` queueing discipline: a rate limit.
    Tbf,
    /// `AF_PACKET` sockets: capturing frames on an interface.
    PacketCapture,
    /// The `tmux` program.
    Tmux,
    /// The `tshark` program (Wireshark's command line).
    Tshark,
    /// The `python3` program.
    Python3,
    /// The `sockperf` program.
    Sockperf,
    /// The `iperf` program (iperf2).
    Iperf,
    /// The `chromium` browser, run headless.
    Chromium,
}

use Capability::*;

impl Capability {
    /// The short name used in `HARNESS_REQUIRE` and in skip lines: `ipv4-routing`.
    pub fn id(self) -> &'static str {
        self.facts().0
    }

    /// What it is, for a person: `IPv4 multicast routing`.
    pub fn title(self) -> &'static str {
        self.facts().1
    }

    /// What provides it: a kernel option or module, a sysctl, a package.
    pub fn provided_by(self) -> &'static str {
        self.facts().2
    }

    /// What a machine without it loses.
    pub fn enables(self) -> &'static str {
        self.facts().3
    }

    /// Whether it is a program on `PATH` (else a kernel or privilege feature).
    pub fn is_program(self) -> bool {
        matches!(self, Tmux | Tshark | Python3 | Sockperf | Iperf | Chromium)
    }

    /// The capability whose [`Capability::id`] is `id`.
    pub fn from_id(id: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.id() == id)
    }

    /// (id, title, provided by, what it enables).
    fn facts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Sandbox => (
                "sandbox",
                "network namespaces",
                "root, or user namespaces: sysctl user.max_user_namespaces > 0, and on \
                 Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0",
                "everything that sends or joins: the tour, the lab, most tests",
            ),
            Veth => (
                "veth",
                "virtual Ethernet cables",
                "CONFIG_VETH, module veth",
                "every LAN: Lan, Routed, cargo lab",
            ),
            Bridge => (
                "bridge",
                "Linux bridges",
                "CONFIG_BRIDGE, module bridge",
                "every LAN's switch: Lan, Routed, cargo lab",
            ),
            Snooping => (
                "snooping",
                "IGMP/MLD snooping in bridges",
                "CONFIG_BRIDGE_IGMP_SNOOPING",
                "Snooping switches (Lan::with_snooping), the snooping chapter and tests",
            ),
            Ifb => (
                "ifb",
                "intermediate functional block devices",
                "CONFIG_IFB, module ifb",
                "Sandbox (its eth0), cargo lab --sandbox, the loopback and diary chapters",
            ),
            Ipv6 => (
                "ipv6",
                "IPv6",
                "CONFIG_IPV6, not disabled (no ipv6.disable=1 on the kernel command line)",
                "every IPv6 group: the diary article, IPv6 claims and tests",
            ),
            Ipv4Routing => (
                "ipv4-routing",
                "IPv4 multicast routing",
                "CONFIG_IP_MROUTE",
                "forwarding across a Routed network (Routed::forward), cargo lab --routed, the \
                 TTL-across-a-router claims and tests",
            ),
            Ipv6Routing => (
                "ipv6-routing",
                "IPv6 multicast routing",
                "CONFIG_IPV6_MROUTE",
                "IPv6 forwarding in Routed (hop limit across a router)",
            ),
            Netem => (
                "netem",
                "the netem queueing discipline",
                "CONFIG_NET_SCH_NETEM, module sch_netem",
                "loss, delay, duplication and reordering (Impairment); those impair tests",
            ),
            Tbf => (
                "tbf",
                "the tbf queueing discipline",
                "CONFIG_NET_SCH_TBF, module sch_tbf",
                "rate limits (Impairment::rate); the rate tests and example",
            ),
            PacketCapture => (
                "packet-capture",
                "packet sockets",
                "CONFIG_PACKET, module af_packet",
                "Capture, cargo lab capture, pcap recordings, the leak and loopback checks",
            ),
            Tmux => (
                "tmux",
                "tmux",
                "package tmux",
                "cargo lab's windows, the chat's and the lab's real-terminal tests",
            ),
            Tshark => (
                "tshark",
                "tshark",
                "package tshark",
                "reading pcap files back in the pcap tests",
            ),
            Python3 => (
                "python3",
                "python3",
                "package python3",
                "wire compatibility with the Python originals",
            ),
            Sockperf => (
                "sockperf",
                "sockperf",
                "package sockperf",
                "fanout's round-trip peer",
            ),
            Iperf => (
                "iperf",
                "iperf2",
                "package iperf",
                "fanout's throughput peer",
            ),
            Chromium => (
                "chromium",
                "Chromium, headless",
                "package chromium",
                "the lab web view's browser test (cargo lab --web)",
            ),
        }
    }

    /// `Ok` when this machine has it; else [`Error::Unavailable`] saying what is missing and
    /// what provides it. Tried once per process, then remembered.
    pub fn check(self) -> crate::Result<()> {
        static VERDICTS: [OnceLock<Result<(), Missing>>; Capability::ALL.len()] =
            [const { OnceLock::new() }; Capability::ALL.len()];
        let slot = Capability::ALL
            .iter()
            .position(|c| *c == self)
            .expect("listed");
        VERDICTS[slot]
            .get_or_init(|| self.probe())
            .clone()
            .map_err(Error::Unavailable)
    }

    /// Whether this machine has it ([`Capability::check`] without the reason).
    pub fn present(self) -> bool {
        self.check().is_ok()
    }

    /// The error for a missing capability, with what the kernel said.
    pub(crate) fn missing(self, detail: impl Into<String>) -> Error {
        Error::Unavailable(Missing {
            capability: self,
            detail: detail.into(),
        })
    }

    /// Tries it for real: what is missing, if anything. A kernel feature cannot be tried
    /// without a sandbox, which is then what is missing.
    fn probe(self) -> Result<(), Missing> {
        let missing = |capability: Capability| move |detail: String| Missing { capability, detail };
        if self.is_program() {
            return crate::tools::find(self.program())
                .map(drop)
                .map_err(missing(self));
        }
        crate::privilege::check().map_err(missing(Sandbox))?;
        if self == Sandbox {
            return Ok(());
        }
        let probe = move |rtnl: &mut Rtnl| -> Result<(), String> {
            match self {
                Veth => rtnl.add_veth(crate::netlink::Veth::pair("probe0", "probe1")),
                Bridge => rtnl.add_flooding_bridge("probe0", 0),
                Ifb => rtnl.add_ifb("probe0", 0),
                Snooping => rtnl.add_snooping_bridge("probe0", 10, 10).and_then(|()| {
                    // Without CONFIG_BRIDGE_IGMP_SNOOPING the bridge takes the option silently
                    // but has no multicast database to show.
                    rtnl.mdb().map(drop)
                }),
                Netem => rtnl.replace_root_qdisc(1, "netem", netem_defaults()),
                Tbf => {
                    rtnl.replace_root_qdisc(1, "tbf", crate::impair::tbf_options(1_000_000, None))
                }
                Ipv6 => Socket::new(Domain::IPV6, Type::DGRAM, None).map(drop),
                Ipv4Routing => raw_routing_socket(Domain::IPV4, libc::IPPROTO_IGMP),
                Ipv6Routing => raw_routing_socket(Domain::IPV6, libc::IPPROTO_ICMPV6),
                PacketCapture => Socket::new(
                    Domain::PACKET,
                    Type::RAW,
                    Some(Protocol::from(i32::from((libc::ETH_P_ALL as u16).to_be()))),
                )
                .map(drop),
                _ => unreachable!("programs and the sandbox are handled above"),
            }
            .map_err(|e| format!("the kernel said: {e}"))
        };
        let verdict = std::sync::Mutex::new(Ok(()));
        Namespace::create_many(1, |_, _, rtnl| {
            *verdict.lock().expect("one probe") = probe(rtnl);
            Ok(())
        })
        .map_err(|e| missing(Sandbox)(format!("the probe's namespace failed: {e}")))?;
        verdict
            .into_inner()
            .expect("one probe")
            .map_err(missing(self))
    }

    pub(crate) fn program(self) -> &'static str {
        match self {
            Iperf => "iperf",
            other => other.id(),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// `MRT_INIT` / `MRT6_INIT` on a raw socket: the kernel's multicast router, started and (the
/// socket closed) stopped again. `ENOPROTOOPT` is a kernel without it.
fn raw_routing_socket(domain: Domain, protocol: libc::c_int) -> std::io::Result<()> {
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(protocol)))?;
    let level = if domain == Domain::IPV4 {
        libc::IPPROTO_IP
    } else {
        libc::IPPROTO_IPV6
    };
    // MRT_INIT and MRT6_INIT are both 200 (<linux/mroute.h>, <linux/mroute6.h>).
    mcast_vocab::sockopt::set_option(&socket, level, 200, &1i32)
}

/// `struct tc_netem_qopt` with no impairment at all: a latency of 0, a limit of 1000 frames.
fn netem_defaults() -> Vec<u8> {
    let mut options = vec![0u8; 24];
    options[4..8].copy_from_slice(&1000u32.to_ne_bytes());
    options
}

/// A capability this machine lacks, and how to get it. The `Display` is one line:
/// `this kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Missing {
    /// What is missing.
    pub capability: Capability,
    /// What the probe or the kernel said.
    pub detail: String,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.capability;
        match c {
            Sandbox => f.write_str(&self.detail),
            _ if c.is_program() => {
                write!(f, "{} is not installed ({})", c.program(), c.provided_by())
            }
            _ => write!(
                f,
                "this kernel has no {} ({}): {}",
                c.title().trim_start_matches("the "),
                c.provided_by(),
                self.detail
            ),
        }
    }
}

/// The book's requirements table (Markdown): each capability, what provides it, what it
/// enables. Generated so the book and the probe cannot drift (`docs/tests` checks it).
pub fn requirements_table() -> String {
    let mut table = String::from("| capability | provided by | what it enables |\n|---|---|---|\n");
    for c in Capability::ALL {
        table += &format!(
            "| `{}`: {} | {} | {} |\n",
            c.id(),
            c.title(),
            c.provided_by(),
            c.enables()
        );
    }
    table
}
