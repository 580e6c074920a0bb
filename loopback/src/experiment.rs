//! The whole experiment as one call: listener, capture, the sends, and a verdict for each.
//!
//! [`Experiment::run`] does the article's steps 3 to 6 in the calling thread's network
//! namespace and returns a typed [`Outcome`]; the `demo` binary prints it, tests assert on
//! it, and the workshop tour calls it. Steps 1, 2 and 7 (pick a port, add the group's /32
//! route via `lo`, remove it) belong to whoever prepares the namespace: the demo builds a
//! throwaway one with the harness, so the route vanishes with it.
//!
//! Preconditions: the thread runs in a namespace where `lo` is up, the group's host route
//! points at `lo`, and the default route leaves through [`Experiment::default_interface`].
//! Never run this in a host's real namespace: it sends multicast.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::capture::{Capture, Direction, Sighting};
use crate::group::Group;
use crate::interface::{Interface, out_no_routes};
use crate::listener::{Arrival, GroupListener};
use crate::send::{Fix, SendMethod, send_once};

/// What to try: a group, the interfaces involved, and which fixes to apply.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The group (and random port) to send to.
    pub group: Group,
    /// The interface the group's route points at, where the listener joins: `lo`.
    pub loopback: String,
    /// The interface of the default route, where the capture watches: `eth0`.
    pub default_interface: String,
    /// One round of both sends per fix, in this order.
    pub fixes: Vec<Fix>,
    /// How long to wait for a datagram to show up anywhere before calling it unseen.
    pub patience: Duration,
}

impl Experiment {
    /// The article as written: `lo`, `eth0`, no fix, one second of patience.
    pub fn article(group: Group) -> Experiment {
        Experiment {
            group,
            loopback: "lo".into(),
            default_interface: "eth0".into(),
            fixes: vec![Fix::None],
            patience: Duration::from_secs(1),
        }
    }

    /// The same experiment with these fixes instead.
    pub fn with_fixes(mut self, fixes: impl IntoIterator<Item = Fix>) -> Experiment {
        self.fixes = fixes.into_iter().collect();
        self
    }

    /// Runs the experiment in the calling thread's network namespace.
    pub fn run(&self) -> io::Result<Outcome> {
        let loopback = Interface::by_name(&self.loopback)?;
        let default_interface = Interface::by_name(&self.default_interface)?;
        // Both are ready when these calls return: nothing sent later can be missed.
        let listener = GroupListener::join(self.group, &loopback)?;
        let capture = Capture::on(&default_interface)?;
        let ipv6 = self.group.is_ipv6();
        let mut record = Record {
            heard: Vec::new(),
            captured: Vec::new(),
            port: self.group.port(),
        };
        let mut sends = Vec::new();
        for &fix in &self.fixes {
            for method in SendMethod::BOTH {
                let payload = payload_for(method, fix, ipv6);
                let no_routes_before = out_no_routes(ipv6)?;
                let local = send_once(self.group, method, fix, &loopback, payload.as_bytes())?;
                let dropped_for_no_route = out_no_routes(ipv6)? > no_routes_before;
                if !dropped_for_no_route {
                    let deadline = Instant::now() + self.patience;
                    record.wait_for(&payload, &listener, &capture, deadline)?;
                }
                sends.push((method, fix, payload, local, dropped_for_no_route));
            }
        }
        // Collect whatever else is already queued, without waiting.
        record.wait_for("", &listener, &capture, Instant::now())?;
        let sends = sends
            .into_iter()
            .map(|(method, fix, payload, local, dropped)| {
                let verdict = record.verdict(&payload, dropped);
                SendReport {
                    method,
                    fix,
                    payload,
                    local,
                    verdict,
                }
            })
            .collect();
        Ok(Outcome {
            group: self.group,
            loopback,
            default_interface,
            heard: record.heard,
            captured: record.captured,
            sends,
        })
    }
}

/// The payload of one send: the article's `sendto()` / `send()`, plus the fix when there is one.
fn payload_for(method: SendMethod, fix: Fix, ipv6: bool) -> String {
    match fix {
        Fix::None => method.payload().to_string(),
        _ => format!("{} +{}", method.payload(), fix.option(ipv6)),
    }
}

struct Record {
    heard: Vec<Arrival>,
    captured: Vec<Sighting>,
    port: u16,
}

impl Record {
    /// Reads the listener and the capture until `payload` shows up in either (or `deadline`).
    fn wait_for(
        &mut self,
        payload: &str,
        listener: &GroupListener,
        capture: &Capture,
        deadline: Instant,
    ) -> io::Result<()> {
        loop {
            while let Some(arrival) = listener.try_next()? {
                self.heard.push(arrival);
            }
            while let Some(sighting) = capture.next_udp_before(Instant::now())? {
                if sighting.destination.port() == self.port {
                    self.captured.push(sighting);
                }
            }
            if self.seen(payload) || Instant::now() >= deadline {
                return Ok(());
            }
            crate::wait_either_readable(listener, capture, deadline)?;
        }
    }

    fn seen(&self, payload: &str) -> bool {
        self.heard.iter().any(|a| a.payload == payload.as_bytes())
            || self
                .captured
                .iter()
                .any(|s| s.payload == payload.as_bytes())
    }

    fn verdict(&self, payload: &str, dropped_for_no_route: bool) -> Verdict {
        if let Some(arrival) = self.heard.iter().find(|a| a.payload == payload.as_bytes()) {
            return Verdict::FollowedRoute {
                interface: arrival.interface.clone(),
            };
        }
        if let Some(sighting) = self
            .captured
            .iter()
            .find(|s| s.payload == payload.as_bytes() && s.direction == Direction::Outgoing)
        {
            return Verdict::LeftThrough {
                interface: sighting.interface.clone(),
            };
        }
        if dropped_for_no_route {
            Verdict::DroppedNoRoute
        } else {
            Verdict::Unseen
        }
    }
}

/// Where one datagram ended up.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    /// The listener joined on the loopback interface received it there: the send
    /// followed the group's route.
    FollowedRoute {
        /// Where it arrived, from `IP_PKTINFO`: `lo`.
        interface: Interface,
    },
    /// The listener never got it; the capture saw it leave through another interface.
    LeftThrough {
        /// The interface it left through: the default route's, `eth0`.
        interface: Interface,
    },
    /// The kernel dropped it for want of a route: its `OutNoRoutes` counter rose by the send.
    DroppedNoRoute,
    /// Neither the listener nor the capture saw it before the deadline.
    Unseen,
}

impl Verdict {
    /// The interface the evidence points at, if any.
    pub fn interface(&self) -> Option<&Interface> {
        match self {
            Verdict::FollowedRoute { interface } | Verdict::LeftThrough { interface } => {
                Some(interface)
            }
            Verdict::DroppedNoRoute | Verdict::Unseen => None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::FollowedRoute { interface } => {
                write!(f, "followed the route: arrived on {interface}")
            }
            Verdict::LeftThrough { interface } => {
                write!(f, "ignored the route: left through {interface}")
            }
            Verdict::DroppedNoRoute => {
                f.write_str("dropped by the kernel: no route (OutNoRoutes +1)")
            }
            Verdict::Unseen => f.write_str("not seen anywhere"),
        }
    }
}

/// One send and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SendReport {
    /// sendto(2), or connect(2) then send(2).
    pub method: SendMethod,
    /// The option set on the socket first.
    pub fix: Fix,
    /// What was sent (unique within one run).
    pub payload: String,
    /// The sending socket's local address after the send (its source address).
    pub local: SocketAddr,
    /// Where the datagram ended up.
    pub verdict: Verdict,
}

/// Everything one run saw.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The group and port used.
    pub group: Group,
    /// The interface the listener joined on.
    pub loopback: Interface,
    /// The interface the capture watched.
    pub default_interface: Interface,
    /// What the listener received, in order (the article's output lines).
    pub heard: Vec<Arrival>,
    /// UDP datagrams to the group's port seen on the default interface, in order.
    pub captured: Vec<Sighting>,
    /// One entry per send, in the order sent.
    pub sends: Vec<SendReport>,
}

impl Outcome {
    /// The report for one method and fix, if it was tried.
    pub fn send(&self, method: SendMethod, fix: Fix) -> Option<&SendReport> {
        self.sends
            .iter()
            .find(|s| s.method == method && s.fix == fix)
    }
}

/// The demo's text: the listener's lines as the article prints them (`interface: contents`),
/// what the capture saw, then one verdict line per send.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ipv6 = self.group.is_ipv6();
        writeln!(f, "listener joined on {} heard:", self.loopback)?;
        if self.heard.is_empty() {
            writeln!(f, "  (nothing)")?;
        }
        for arrival in &self.heard {
            writeln!(f, "  {}: {}", arrival.interface, arrival.text())?;
        }
        writeln!(f, "capture on {} saw:", self.default_interface)?;
        if self.captured.is_empty() {
            writeln!(f, "  (nothing)")?;
        }
        for sighting in &self.captured {
            let direction = match sighting.direction {
                Direction::Outgoing => "outgoing",
                Direction::Incoming => "incoming",
            };
            writeln!(
                f,
                "  {}: {} from {} ttl {}: {}",
                sighting.interface,
                direction,
                sighting.source,
                sighting.ttl,
                sighting.text()
            )?;
        }
        writeln!(f, "verdicts:")?;
        for send in &self.sends {
            writeln!(
                f,
                "  {:<17} {:<26} {}",
                send.method.calls(),
                send.fix.option(ipv6),
                send.verdict
            )?;
        }
        Ok(())
    }
}

/// Runs `experiment` in a throwaway sandbox of its own, as the `demo` does: a one-host LAN
/// (default route `eth0`) with the group's host route via `lo`. For callers such as the
/// workshop tour that want the article's result without building the network themselves.
/// Errors with [`harness::Error::Unavailable`] inside when no sandbox can be built.
pub fn in_sandbox(experiment: &Experiment) -> Result<Outcome, SandboxedError> {
    let lan = harness::Lan::new(["host"]).map_err(SandboxedError::Sandbox)?;
    let host = lan.host("host");
    host.add_route(&experiment.group.host_route(), &experiment.loopback)
        .map_err(SandboxedError::Sandbox)?;
    host.run(|| experiment.run())
        .map_err(SandboxedError::Experiment)
}

/// Why [`in_sandbox`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxedError {
    /// The sandbox could not be built (no privileges) or configured.
    #[error("sandbox: {0}")]
    Sandbox(harness::Error),
    /// The experiment itself failed (a socket or capture could not be opened).
    #[error("experiment: {0}")]
    Experiment(io::Error),
}
