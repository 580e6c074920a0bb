//! Several hosts on one virtual Ethernet segment, named and numbered the Mininet way.
//!
//! ```text
//!   host a (10.0.0.1)      host b (10.0.0.2)      host c (10.0.0.3)
//!        eth0                   eth0                   eth0
//!          \                     |                     /
//!          port1               port2               port3
//!           +------------- br0 (switch) --------------+
//! ```
//! Each host is a namespace with `lo` up and one interface, `eth0`, holding `10.0.0.k/24`,
//! `fd00::k/64` and a link-local address, where k is the host's position (from 1) in the list
//! given to [`Lan::new`]. A LAN of more than 254 hosts (up to [`crate::MAX_LAN_HOSTS`], 1022)
//! does not fit a /24: it is `10.0.0.0/22`, and its k-th host is `10.0.0.0 + k`, so host 255
//! is `10.0.0.255/22`, host 256 `10.0.1.0/22`, ... host 1022 `10.0.3.254/22`; its IPv6
//! addresses go on as `fd00::ff`, `fd00::100`, ... (k in hexadecimal), still in `fd00::/64`.
//! A host's switch port is its position, whatever its address. Default routes (IPv4 and
//! IPv6) point out of `eth0`, so multicast without an explicit interface leaves there, and a
//! sender with `IP_MULTICAST_LOOP` on (the default) hears its own datagram come back on
//! `eth0`.
//!
//! The switch is a Linux bridge in a namespace of its own with IGMP/MLD snooping **off**, so it
//! floods every multicast frame to every port at once. [`Lan::with_snooping`] builds one that
//! snoops instead, with or without being the querier; with, it sends each group only to the
//! ports it has learnt a member on, and [`Lan::wait_for_membership`] waits on its membership
//! table (the mdb, read over rtnetlink) until it has learnt one. Its querier answers in 100 ms
//! rather than 10 s, so it filters 100 ms after it starts (`Lan::with_snooping` waits for
//! that) and drops a port about 200 ms after its last member leaves. Its other timers are the
//! kernel's unless a test sets them ([`Lan::with_snooping_timers`], [`crate::SnoopingTimers`]).
//!
//! [`Lan::impair`] degrades what one host receives (loss, delay, duplication...) by the
//! kernel's `netem` (a rate alone: `tbf`) on that host's switch port, and
//! [`Lan::impair_sending`] what it sends, on its `eth0`; see `impair.rs`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::Instant;

use crate::Group;
use crate::capture::Capture;
use crate::error::{Context, Error};
use crate::host::Host;
use crate::impair::Impairment;
use crate::ready::READY_DEADLINE;
use crate::snooping::SnoopingTimers;
use crate::topology::{self, SWITCH_PORTS, Segment, Snooping, Switches, find};

/// A group nobody joins, for the snooping probe.
const PROBE: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 77, 77), 9);
/// A link-local group (224.0.0.0/24), which a snooping bridge floods to every port.
const MARKER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 99), 9);

/// Hosts on one bridged segment. See the module docs for names and addresses.
pub struct Lan {
    hosts: Vec<Host>,
    /// What a failed test keeps of it (`HARNESS_PAUSE`, `HARNESS_PCAP_DIR`).
    on_failure: crate::pause::OnFailure,
    /// The switch and every host's cable. Dropped last: it holds the far ends of every `eth0`.
    switches: Switches,
}

impl Lan {
    /// Keeps nothing of this network when its test fails: no pause (`HARNESS_PAUSE`), no
    /// recordings (`HARNESS_PCAP_DIR`). For a network people enter by other means, as a lab.
    pub fn keep_nothing_on_failure(&mut self) {
        self.on_failure.disarm();
    }

    /// Builds a LAN with one host per name, `10.0.0.1` for the first, `10.0.0.2` for the next...
    /// (1 to [`crate::MAX_LAN_HOSTS`]; past 254 see the module docs). Returns when every link
    /// is usable.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> crate::Result<Lan> {
        Lan::with_snooping(names, Snooping::Off)
    }

    /// Builds a LAN whose switch snoops IGMP/MLD as `snooping` says. Returns when every link
    /// is usable and, with [`Snooping::WithQuerier`], once the switch filters: from then on
    /// a group goes only to the ports the switch has learnt a member on (see
    /// [`Lan::wait_for_membership`]), and a group nobody joined to no port at all.
    pub fn with_snooping<S: AsRef<str>>(
        names: impl IntoIterator<Item = S>,
        snooping: Snooping,
    ) -> crate::Result<Lan> {
        Lan::with_snooping_timers(names, snooping, SnoopingTimers::new())
    }

    /// [`Lan::with_snooping`], with the switch's timers set to `timers` before it becomes the
    /// querier: a test that watches a membership run out, or a querier renew it, sets them
    /// short rather than wait out the kernel's defaults (a membership lasts 260 s). Timers on
    /// a switch that does not snoop ([`Snooping::Off`]), or that the kernel would not honour,
    /// are refused with [`Error::Invalid`] naming the timer.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use harness::{Lan, Snooping, SnoopingTimers};
    ///
    /// // Without a report to renew it, the switch forgets a member after 300 ms, not 260 s.
    /// let timers = SnoopingTimers::new().membership_interval(Duration::from_millis(300));
    /// let lan = harness::or_skip!(Lan::with_snooping_timers(
    ///     ["s", "m", "n"],
    ///     Snooping::WithoutQuerier,
    ///     timers
    /// ));
    /// ```
    pub fn with_snooping_timers<S: AsRef<str>>(
        names: impl IntoIterator<Item = S>,
        snooping: Snooping,
        timers: SnoopingTimers,
    ) -> crate::Result<Lan> {
        let names = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let segment = [Segment { number: 0, names }];
        let built = topology::build_with(&segment, false, snooping, &timers)?;
        let lan = Lan {
            hosts: built.hosts,
            on_failure: crate::pause::OnFailure::armed(),
            switches: built.switches,
        };
        if snooping == Snooping::WithQuerier {
            lan.wait_for_filtering()?;
        }
        Ok(lan)
    }

    /// Returns once the switch's membership table (its mdb, `bridge mdb show`) lists `group`
    /// on the port of host `name`: from then on a snooping switch sends the group there.
    /// Waits at most 10 s. Only meaningful on a LAN built [`Lan::with_snooping`].
    pub fn wait_for_membership(&self, name: &str, group: Group) -> crate::Result<()> {
        self.wait_for_mdb(name, group, true)
    }

    /// Returns once the switch's membership table no longer lists `group` on the port of host
    /// `name` (after a leave, or when the membership timed out). Waits at most 10 s.
    pub fn wait_for_no_membership(&self, name: &str, group: Group) -> crate::Result<()> {
        self.wait_for_mdb(name, group, false)
    }

    /// The switch's membership table: (host name, group) for each entry, in the table's order.
    /// Empty unless the switch snoops; with a querier it also lists the groups each host's
    /// IPv6 stack joins by itself (the solicited-node `ff02::1:ffXX:XXXX` ones).
    pub fn memberships(&self) -> crate::Result<Vec<(String, IpAddr)>> {
        let entries = self
            .switches
            .socket(0)
            .mdb()
            .doing(|| "reading the switch's multicast database".into())?;
        Ok(entries
            .into_iter()
            .filter_map(|(port, group)| Some((self.switches.host_on(0, port)?.to_owned(), group)))
            .collect())
    }

    fn wait_for_mdb(&self, name: &str, group: Group, present: bool) -> crate::Result<()> {
        find(&self.hosts, name);
        let until = Instant::now() + READY_DEADLINE;
        loop {
            let table = self.memberships()?;
            if table.contains(&(name.to_owned(), group.ip())) == present {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Error::Io {
                    doing: format!(
                        "waiting for the switch to {} host {name} as a member of {}",
                        if present { "list" } else { "drop" },
                        group.ip()
                    ),
                    cause: io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("not within {READY_DEADLINE:?}; its table: {table:?}"),
                    ),
                });
            }
            std::thread::yield_now();
        }
    }

    /// Waits until the switch, just made querier, filters: a probe to a group nobody joined,
    /// sent by the first host, no longer leaves the second host's port. Each probe is
    /// followed by a marker to 224.0.0.99, which a snooping bridge always floods: once the
    /// port has sent the marker, it would have sent the probe before it. (The probes and
    /// markers reach the hosts, which have not joined them and drop them.)
    fn wait_for_filtering(&self) -> crate::Result<()> {
        if self.hosts.len() < 2 {
            return Ok(());
        }
        let port = SWITCH_PORTS + 2;
        let watch = self
            .switches
            .namespace(0)
            .run(|| Capture::open("port2", port))?;
        let sender = self.hosts[0]
            .run(|| UdpSocket::bind("0.0.0.0:0"))
            .doing(|| "a socket for the snooping probe".into())?;
        let until = Instant::now() + READY_DEADLINE;
        for n in 0u64.. {
            let (probe, marker) = (format!("harness probe {n}"), format!("harness marker {n}"));
            let send = |text: &str, to: SocketAddrV4| {
                sender
                    .send_to(text.as_bytes(), to)
                    .doing(|| format!("sending the snooping probe to {to}"))
            };
            send(&probe, PROBE)?;
            send(&marker, MARKER)?;
            let seen = watch.wait_for_udp(|u| u.payload == marker.as_bytes(), READY_DEADLINE);
            if let Err(unmet) = seen {
                return Err(Error::Io {
                    doing: "waiting for the snooping switch to flood a link-local group".into(),
                    cause: io::Error::new(io::ErrorKind::TimedOut, unmet.to_string()),
                });
            }
            // Taken, so the next round reads only its own frames.
            let frames = watch.take_frames();
            if !frames
                .iter()
                .filter_map(|f| f.udp())
                .any(|u| u.payload == probe.as_bytes())
            {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Error::Io {
                    doing: "waiting for the snooping switch to filter".into(),
                    cause: io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("it still floods after {READY_DEADLINE:?}"),
                    ),
                });
            }
            std::thread::yield_now();
        }
        unreachable!("u64 probes run out")
    }

    /// The host called `name`. Panics, listing the hosts there are, if there is none.
    pub fn host(&self, name: &str) -> &Host {
        find(&self.hosts, name)
    }

    /// All hosts, in the order they were named (host k is `hosts()[k - 1]`).
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Impairs what host `name` receives from the switch (every frame, multicast or not),
    /// replacing any impairment there was: in effect for the next frame the switch sends it.
    /// Other hosts, members of the same groups included, are untouched. Needs the kernel's
    /// `netem` (`CONFIG_NET_SCH_NETEM`), or for a rate alone `tbf`: [`Error::Unavailable`]
    /// says when it is missing.
    pub fn impair(&self, name: &str, impairment: &Impairment) -> crate::Result<()> {
        self.switches.impair(&self.hosts, name, None, impairment)
    }

    /// Impairs what host `name` sends (every frame, to every host), replacing any impairment
    /// of its sending there was. A datagram lost here is lost for every receiver alike, and
    /// the host's own looped-back copy of what it sends to a group is untouched. Needs what
    /// [`Lan::impair`] needs.
    pub fn impair_sending(&self, name: &str, impairment: &Impairment) -> crate::Result<()> {
        self.switches
            .impair_sending(&self.hosts, name, None, impairment)
    }

    /// Takes any impairment off host `name`'s cable, both ways: frames pass at once again.
    pub fn clear(&self, name: &str) -> crate::Result<()> {
        self.switches.clear(&self.hosts, name, None)
    }

    /// Returns once host `name`'s cable holds no frames either way: everything sent to it or
    /// by it so far has been handed on or dropped by an impairment. Waits at most 10 s.
    pub fn wait_until_drained(&self, name: &str) -> crate::Result<()> {
        self.switches.wait_until_drained(&self.hosts, name, None)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        self.on_failure
            .dropping(&self.hosts.iter().collect::<Vec<_>>());
    }
}
