//! The whole experiment as one call: listener, capture, the sends, and a verdict for each.
//!
//! [`Experiment::run`] does the article's steps 3 to 6 in the calling thread's network
//! namespace and returns a typed [`Outcome`]; the `demo` binary prints it, tests assert on
//! it, and the workshop tour calls it. Steps 1, 2 and 7 (pick a port, add the group's /32
//! route via `lo`, remove it) belong to whoever prepares the namespace: the demo does them
//! with [`crate::group::random_port`] and [`crate::route::HostRoute`], the tests with the
//! harness.
//!
//! Preconditions: the thread runs in a namespace where `lo` is up, the group's host route
//! points at `lo`, and the default route leaves through [`Experiment::default_interface`].
//! Never run this in a host's real namespace: it sends multicast.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use mcast_vocab::frame::Direction;
use mcast_vocab::{Group, Interface, InterfaceError};

use crate::capture::{Capture, Sighting};
use crate::counters::out_no_routes;
use crate::listener::{GroupListener, Heard};
use crate::send::{Fix, SendMethod, send_once};

/// Why an experiment could not be run (not a verdict: those are in the [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// `lo` or the default interface does not exist in this namespace.
    #[error(transparent)]
    Interface(#[from] InterfaceError),
    /// A system call failed; `doing` says which step.
    #[error("{doing}: {cause}")]
    Io {
        /// The step, e.g. `joining 224.16.17.8:6666 on lo`.
        doing: String,
        /// What the kernel said.
        cause: io::Error,
    },
}

/// Adds the step to an `io::Error`.
fn doing<T>(result: io::Result<T>, doing: impl FnOnce() -> String) -> Result<T, ExperimentError> {
    result.map_err(|cause| ExperimentError::Io {
        doing: doing(),
        cause,
    })
}

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
    pub fn run(&self) -> Result<Outcome, ExperimentError> {
        let group = self.group;
        let loopback = Interface::named(&self.loopback)?;
        let default_interface = Interface::named(&self.default_interface)?;
        // Both are ready when these calls return: nothing sent later can be missed.
        let listener = doing(GroupListener::join(group, &loopback), || {
            format!("joining {group} on {loopback}")
        })?;
        let capture = doing(Capture::on(&default_interface), || {
            format!("opening a capture on {default_interface}")
        })?;
        let ipv6 = self.group.is_ipv6();
        let counter = || doing(out_no_routes(ipv6), || "reading OutNoRoutes".into());
        let mut record = Record {
            heard: Vec::new(),
            captured: Vec::new(),
            port: self.group.port(),
        };
        let mut sends = Vec::new();
        for &fix in &self.fixes {
            for method in SendMethod::BOTH {
                let payload = payload_for(method, fix, ipv6);
                let no_routes_before = counter()?;
                let local = doing(
                    send_once(group, method, fix, &loopback, payload.as_bytes()),
                    || format!("sending {payload:?} to {group} with {}", method.calls()),
                )?;
                let dropped_for_no_route = counter()? > no_routes_before;
                if !dropped_for_no_route {
                    let deadline = Instant::now() + self.patience;
                    doing(
                        record.wait_for(&payload, &listener, &capture, deadline),
                        || "reading the listener and the capture".into(),
                    )?;
                }
                sends.push((method, fix, payload, local, dropped_for_no_route));
            }
        }
        // Collect whatever else is already queued, without waiting.
        doing(
            record.wait_for("", &listener, &capture, Instant::now()),
            || "reading the listener and the capture".into(),
        )?;
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
    heard: Vec<Heard>,
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
            while let Some(heard) = listener.try_next()? {
                self.heard.push(heard);
            }
            while let Some(sighting) = capture.next_udp_before(Instant::now())? {
                if sighting.destination.port() == self.port {
                    self.captured.push(sighting);
                }
            }
            if self.seen(payload) || Instant::now() >= deadline {
                return Ok(());
            }
            crate::wait_readable(&[listener.as_fd(), capture.as_fd()], deadline)?;
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The group and port used.
    pub group: Group,
    /// The interface the listener joined on.
    pub loopback: Interface,
    /// The interface the capture watched.
    pub default_interface: Interface,
    /// What the listener received, in order (the article's output lines).
    pub heard: Vec<Heard>,
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
        for heard in &self.heard {
            writeln!(f, "  {}: {}", heard.interface, heard.text())?;
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
