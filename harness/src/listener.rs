//! Listeners: a thread in a host that joins a group and records every datagram it receives.
//!
//! `Host::listen` returns only once the socket is bound and every join has succeeded, so a
//! test can send right after it: no sleep, no retry. (The Rust diary in this workspace uses a
//! `Barrier` for the same purpose; here the thread reports "ready or failed" over a channel.)
//!
//! The socket asks the kernel for evidence with each datagram (`mcast_vocab` sets the options
//! and decodes the control messages, for every listener in the workspace alike):
//! - `IP_PKTINFO` / `IPV6_RECVPKTINFO`: the interface it arrived on and its destination address;
//! - `IP_RECVTTL` / `IPV6_RECVHOPLIMIT`: the TTL or hop limit it arrived with;
//! - `MSG_TRUNC` in the flags: the datagram was longer than the buffer.
//!
//! It sets `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL` off, so it sees only the groups *it*
//! joined, even though it binds the wildcard address (see the diary chapter for why that
//! matters), and `SO_REUSEADDR` so that the program under test may bind the same port if it
//! asks for reuse too.
//!
//! Dropping the listener shuts the socket down, which wakes the blocked `recvmsg`, and joins
//! the thread; that also happens while a failed test unwinds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mcast_vocab::{Interface, recv_with_arrival, request_arrival_info, request_receive_timestamps};
use nix::sys::socket::MsgFlags;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use crate::datagram::Datagram;
use crate::error::{Context, Error};
use crate::namespace::Namespace;
use crate::unmet::Unmet;
use crate::{Group, diagnostics};

/// Options for [`crate::Host::listen_with`]. The default joins on every interface that can
/// carry the group's family and binds the wildcard address.
#[derive(Clone, Debug, Default)]
pub struct Listen {
    interface: Option<String>,
    source: Option<IpAddr>,
    bind_to_group: bool,
    receive_buffer: Option<usize>,
}

impl Listen {
    /// Joins on this interface only (by name, resolved inside the host).
    pub fn interface(mut self, name: &str) -> Listen {
        self.interface = Some(name.to_owned());
        self
    }

    /// A source-specific join (`MCAST_JOIN_SOURCE_GROUP`, RFC 3678, for either family): only
    /// datagrams from `source` are accepted by the kernel.
    pub fn source(mut self, source: IpAddr) -> Listen {
        self.source = Some(source);
        self
    }

    /// Binds `group:port` instead of the wildcard, so the kernel filters by destination.
    pub fn bind_to_group(mut self) -> Listen {
        self.bind_to_group = true;
        self
    }

    /// Sets `SO_RCVBUF` (the kernel doubles it and caps it at `net.core.rmem_max`).
    pub fn receive_buffer(mut self, bytes: usize) -> Listen {
        self.receive_buffer = Some(bytes);
        self
    }
}

/// Largest payload a listener keeps; anything longer is recorded as truncated.
const BUFFER: usize = 65_536;

struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
}

#[derive(Default)]
struct State {
    datagrams: Vec<Datagram>,
    /// How many datagrams `expect` has handed out already.
    taken: usize,
    failure: Option<String>,
}

/// A running listener; see the module docs.
pub struct Listener {
    shared: Arc<Shared>,
    socket: Arc<Socket>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    namespace: Arc<Namespace>,
    host: String,
    group: Group,
    joined: Vec<String>,
}

impl Listener {
    pub(crate) fn start(
        namespace: Arc<Namespace>,
        host: &str,
        group: Group,
        options: Listen,
    ) -> crate::Result<Listener> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = {
            let (namespace, shared, stopping) =
                (namespace.clone(), shared.clone(), stopping.clone());
            std::thread::Builder::new()
                .name(format!("listen {group} in {host}"))
                .spawn(move || {
                    let opened = namespace.enter().and_then(|()| open(group, &options));
                    match opened {
                        Ok((socket, joined)) => {
                            let socket = Arc::new(socket);
                            let _ = ready_tx.send(Ok((socket.clone(), joined)));
                            receive_loop(&socket, &shared, &stopping);
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                })
                .doing(|| "spawning a listener thread".into())?
        };
        let (socket, joined) = ready_rx
            .recv()
            .expect("listener thread reports readiness")?;
        Ok(Listener {
            shared,
            socket,
            stopping,
            thread: Some(thread),
            namespace,
            host: host.to_owned(),
            group,
            joined,
        })
    }

    /// Waits for the next `count` datagrams: `listener.expect(2).within(Duration::from_secs(2))`.
    pub fn expect(&self, count: usize) -> Expect<'_> {
        Expect {
            listener: self,
            count,
        }
    }

    /// Succeeds if no datagram beyond those already taken by `expect` arrives within `window`.
    /// This is the one place a test waits on purpose: silence can only be shown by waiting.
    pub fn expect_none(&self, window: Duration) -> Result<(), Unmet> {
        let deadline = Instant::now() + window;
        let mut state = self.lock();
        loop {
            if state.datagrams.len() > state.taken {
                let extra: Vec<String> = state.datagrams[state.taken..]
                    .iter()
                    .map(|d| d.to_string())
                    .collect();
                drop(state);
                return Err(self.unmet(
                    format!("expected no more datagrams within {window:?}"),
                    extra,
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            state = self.wait(state, deadline - now);
        }
    }

    /// Every datagram received so far, in arrival order.
    pub fn received(&self) -> Vec<Datagram> {
        self.lock().datagrams.clone()
    }

    /// The interfaces the listener joined on, by name.
    pub fn joined_on(&self) -> &[String] {
        &self.joined
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(
        &self,
        guard: std::sync::MutexGuard<'a, State>,
        timeout: Duration,
    ) -> std::sync::MutexGuard<'a, State> {
        self.shared
            .arrived
            .wait_timeout(guard, timeout)
            .unwrap_or_else(|p| p.into_inner())
            .0
    }

    fn unmet(&self, expected: String, seen: Vec<String>) -> Unmet {
        let failure = self.lock().failure.clone();
        let mut expected = format!(
            "listener for {} in host {} (joined on {}): {expected}",
            self.group,
            self.host,
            self.joined.join(", ")
        );
        if let Some(failure) = failure {
            expected.push_str(&format!("\nthe receive loop stopped: {failure}"));
        }
        let mut diagnostics = diagnostics::describe(&self.namespace, &self.host);
        if let Some(note) = crate::recording::note(&self.host) {
            diagnostics.push_str(&note);
        }
        Unmet::new(expected, seen, diagnostics)
    }
}

/// A pending expectation; finish it with [`Expect::within`].
pub struct Expect<'a> {
    listener: &'a Listener,
    count: usize,
}

impl Expect<'_> {
    /// Waits at most `deadline` for the datagrams and returns them, or an [`Unmet`] that lists
    /// what did arrive. The deadline only bounds failure: success returns as soon as they are in.
    pub fn within(self, deadline: Duration) -> Result<Vec<Datagram>, Unmet> {
        let listener = self.listener;
        let until = Instant::now() + deadline;
        let mut state = listener.lock();
        loop {
            let available = state.datagrams.len() - state.taken;
            if available >= self.count {
                let start = state.taken;
                state.taken += self.count;
                return Ok(state.datagrams[start..start + self.count].to_vec());
            }
            let now = Instant::now();
            if now >= until || state.failure.is_some() {
                let seen: Vec<String> = state.datagrams.iter().map(|d| d.to_string()).collect();
                let taken = state.taken;
                drop(state);
                return Err(listener.unmet(
                    format!(
                        "expected {} more datagram(s) within {deadline:?} (after {taken} already taken), got {available}",
                        self.count
                    ),
                    seen,
                ));
            }
            state = listener.wait(state, until - now);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // On a UDP socket, shutdown(SHUT_RD) answers ENOTCONN but still wakes the reader.
        let _ = self.socket.shutdown(std::net::Shutdown::Read);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Creates, configures, binds and joins the socket; runs inside the host's namespace.
fn open(group: Group, options: &Listen) -> crate::Result<(Socket, Vec<String>)> {
    let doing = |what: &str| format!("listening on {group}: {what}");
    let domain = if group.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).doing(|| doing("socket"))?;
    socket
        .set_reuse_address(true)
        .doing(|| doing("SO_REUSEADDR"))?;
    if let Some(bytes) = options.receive_buffer {
        socket
            .set_recv_buffer_size(bytes)
            .doing(|| doing("SO_RCVBUF"))?;
    }
    if group.is_ipv6() {
        socket.set_only_v6(true).doing(|| doing("IPV6_V6ONLY"))?;
        socket
            .set_multicast_all_v6(false)
            .doing(|| doing("IPV6_MULTICAST_ALL off"))?;
    } else {
        socket
            .set_multicast_all_v4(false)
            .doing(|| doing("IP_MULTICAST_ALL off"))?;
    }
    request_arrival_info(&socket, group.is_ipv6(), true)
        .doing(|| doing("asking for each datagram's interface, destination and TTL"))?;
    request_receive_timestamps(&socket).doing(|| doing("SO_TIMESTAMPNS"))?;
    let interfaces = match &options.interface {
        Some(name) => {
            vec![crate::interfaces::named(name).doing(|| doing(&format!("interface {name:?}")))?]
        }
        None => {
            crate::interfaces::carrying(group.is_ipv6()).doing(|| doing("listing interfaces"))?
        }
    };
    // An IPv6 group of interface- or link-local scope (ff01::, ff02::) is only an address
    // together with an interface: binding it needs a scope id, so it binds on the first
    // (or the named) interface.
    let bind_to = if options.bind_to_group {
        group.socket_addr_on(interfaces.first())
    } else {
        let wildcard = match group.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(wildcard, group.port())
    };
    socket
        .bind(&SockAddr::from(bind_to))
        .doing(|| doing(&format!("binding {bind_to}")))?;

    if interfaces.is_empty() {
        return Err(Error::Invalid(doing("no interface is up to join on")));
    }
    for interface in &interfaces {
        join(&socket, group, options.source, interface).doing(|| {
            doing(&format!(
                "joining on {} (index {})",
                interface.name, interface.index
            ))
        })?;
    }
    Ok((socket, interfaces.into_iter().map(|i| i.name).collect()))
}

/// One join: `IP_ADD_MEMBERSHIP` with an `ip_mreqn` naming the interface by index,
/// `IPV6_JOIN_GROUP`, or their source-specific forms.
fn join(
    socket: &Socket,
    group: Group,
    source: Option<IpAddr>,
    interface: &Interface,
) -> std::io::Result<()> {
    match (group.ip(), source) {
        (IpAddr::V4(g), None) => {
            socket.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(interface.index))
        }
        (IpAddr::V6(g), None) => socket.join_multicast_v6(&g, interface.index),
        (g, Some(s)) => mcast_vocab::sockopt::join_source_specific(socket, g, s, interface.index),
    }
}

/// Receives until the listener is dropped, recording each datagram with its evidence.
fn receive_loop(socket: &Socket, shared: &Shared, stopping: &AtomicBool) {
    let mut buffer = vec![0u8; BUFFER];
    let mut names = crate::interfaces::NameCache::default();
    loop {
        let arrival = match recv_with_arrival(socket, &mut buffer, MsgFlags::empty()) {
            Ok(arrival) => arrival,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if !stopping.load(Ordering::SeqCst) {
                    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                    state.failure = Some(format!("recvmsg failed: {e}"));
                    shared.arrived.notify_all();
                }
                return;
            }
        };
        if stopping.load(Ordering::SeqCst) {
            // The listener is being dropped: this read is the end-of-file its shutdown
            // caused. (Do not tell it by a missing sender: nix 0.31 hands back whatever the
            // address buffer held when the kernel wrote no address, here the last sender.)
            return;
        }
        let Some(source) = arrival.source else {
            continue;
        };
        let datagram = Datagram {
            payload: buffer[..arrival.length.min(BUFFER)].to_vec(),
            source,
            destination: arrival.destination.unwrap_or(source.ip()),
            interface: names.interface(arrival.interface_index.unwrap_or(0)),
            ttl: arrival.ttl,
            truncated: arrival.truncated,
            received_at: arrival
                .received_at
                .unwrap_or_else(std::time::SystemTime::now),
        };
        let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        state.datagrams.push(datagram);
        shared.arrived.notify_all();
    }
}
