//! What the web view shows, read from each host's own kernel: the groups it joined, the
//! multicast datagrams that crossed its interfaces, its interface counters and, on a router,
//! its forwarding entries.
//!
//! One thread per host enters the host's network namespace (through the descriptor the
//! lab's registry entry names, `/proc/PID/fd/FD`, the same door as `cargo lab shell`) and
//! stays there. Every [`PROC_PERIOD`] it reads the host's `/proc/thread-self/net` files
//! (`/proc/net` is the *process's* namespace; `thread-self` is the thread's):
//! - `igmp` and `igmp6`: each interface's IPv4 and IPv6 group memberships (IGMP, MLD);
//! - `mcfilter` and `mcfilter6`: the sources of each source-specific membership, and
//!   whether the filter includes or excludes them;
//! - `dev`: each interface's packet counters (what the picture writes on its cable);
//! - `ip_mr_cache` and `ip_mr_vif`: a multicast router's forwarding entries and their
//!   counters (present only with `CONFIG_IP_MROUTE`, and filled only while a routing daemon
//!   runs in the host).
//!
//! In between it reads an `AF_PACKET` socket per interface (as `cargo lab capture` does),
//! keeping only UDP to a multicast address, into *flows* (source, group:port) and a log of
//! recent datagrams.
//!
//! Bounded under a flood: each socket's kernel queue is small ([`CAPTURE_BUFFER`]) and each
//! frame is read only up to [`SNAP`] bytes, so what the thread cannot keep up with is
//! dropped by the kernel before it costs a copy, and counted ([`HostState::missed`]); the
//! thread reads at most [`BATCH`] frames a socket per round and then pauses, so it leaves
//! the CPUs to the lab's own traffic; flows ([`MAX_FLOWS`]) and the log ([`MAX_LOG`]) have
//! caps. Interface counters come from the kernel, so they stay exact when frames are missed.
//!
//! Peer bytes (payloads) are kept raw and turned into text only in [`Observer::snapshot`],
//! through [`mcast_vocab::sanitize`]: what leaves this module is inert text.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mcast_vocab::frame::{self, Direction};
use mcast_vocab::packet::PacketSocket;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, setns};
use serde::Serialize;

use harness::registry::Entry;

/// How often each host's `/proc` files are read: a join shows within this plus the page's
/// update period.
pub const PROC_PERIOD: Duration = Duration::from_millis(100);
/// Each capture socket's kernel queue; past it the kernel drops (and counts) frames.
pub const CAPTURE_BUFFER: usize = 128 << 10;
/// Bytes of each frame read: the headers and the start of the payload (the preview).
pub const SNAP: usize = 256;
/// Frames read from one socket before the thread pauses for [`PAUSE`].
pub const BATCH: usize = 64;
/// The pause after a full batch: under a flood the observer samples rather than competes.
pub const PAUSE: Duration = Duration::from_millis(25);
/// Flows kept; the least recently seen goes first.
pub const MAX_FLOWS: usize = 64;
/// Datagrams kept in the log.
pub const MAX_LOG: usize = 100;
/// Payload bytes a log line previews.
pub const PREVIEW: usize = 160;

/// One group membership of one interface, as the host's kernel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Membership {
    /// The interface (`eth0`).
    pub interface: String,
    /// The group.
    pub group: IpAddr,
    /// `IGMP` for IPv4, `MLD` for IPv6.
    pub protocol: &'static str,
    /// `include` when the membership names the sources it wants (a source-specific join),
    /// `exclude` otherwise (any source, less those listed).
    pub mode: &'static str,
    /// The sources listed by the filter (`mcfilter`, `mcfilter6`).
    pub sources: Vec<IpAddr>,
    /// Joined by the kernel itself (all-hosts `224.0.0.1`, `ff02::1`, solicited-node
    /// `ff02::1:ffXX:XXXX`), not by a program.
    pub automatic: bool,
}

/// One interface of a host, its addresses and the kernel's counters (`/proc/net/dev`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its addresses with their prefix (`10.0.0.2/24`), from `ip -j addr`.
    pub addresses: Vec<String>,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Multicast packets received.
    pub rx_multicast: u64,
}

/// One multicast forwarding entry of a router (`/proc/net/ip_mr_cache`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// The source it forwards from.
    pub origin: Ipv4Addr,
    /// The group.
    pub group: Ipv4Addr,
    /// The interface datagrams must arrive on.
    pub input: String,
    /// Datagrams forwarded.
    pub packets: u64,
    /// Bytes forwarded.
    pub bytes: u64,
    /// Datagrams that arrived on another interface than `input`.
    pub wrong_interface: u64,
    /// The interfaces it forwards to, each with its TTL threshold (`eth1 ttl>1`).
    pub outputs: Vec<String>,
}

/// One host as the page shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HostState {
    /// The host's name.
    pub name: String,
    /// Its interfaces, `lo` last.
    pub interfaces: Vec<Interface>,
    /// Its memberships, by interface.
    pub memberships: Vec<Membership>,
    /// Its multicast forwarding entries (a router's).
    pub routes: Vec<Route>,
    /// Frames its capture sockets dropped because the observer was behind (a flood):
    /// flows and the log are then samples, the interface counters still exact.
    pub missed: u64,
}

/// Where a flow's datagrams were seen arriving.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reach {
    /// The host.
    pub host: String,
    /// Its interface.
    pub interface: String,
}

/// Datagrams from one source to one group and port.
#[derive(Clone, Debug, Serialize)]
pub struct Flow {
    /// The host that sent them (seen leaving one of its interfaces), if it is in the lab.
    pub source_host: Option<String>,
    /// The sender's address and port.
    pub source: SocketAddr,
    /// The group and port.
    pub group: SocketAddr,
    /// The TTL (IPv4) or hop limit (IPv6) of the last one, as sent (or as first seen).
    pub ttl: u8,
    /// The UDP payload size of the last one, in bytes.
    pub size: usize,
    /// Datagrams seen (leaving the sender; arriving, for a sender outside the lab).
    pub datagrams: u64,
    /// Datagrams a second, over the last second or so (0 once the flow stopped).
    pub rate: f64,
    /// The host interfaces they reached.
    pub reached: Vec<Reach>,
    /// Milliseconds since the observer started, when the last one was seen.
    pub last_seen_ms: u64,
}

/// One datagram in the log.
#[derive(Clone, Debug, Serialize)]
pub struct LogLine {
    /// Milliseconds since the observer started.
    pub at_ms: u64,
    /// The host whose interface it crossed.
    pub host: String,
    /// The interface.
    pub interface: String,
    /// `out` (sent) or `in` (received from outside the lab).
    pub direction: &'static str,
    /// Sender address and port.
    pub source: SocketAddr,
    /// Group and port.
    pub group: SocketAddr,
    /// TTL or hop limit in its IP header.
    pub ttl: u8,
    /// UDP payload size, in bytes.
    pub size: usize,
    /// The first [`PREVIEW`] payload bytes as inert text ([`mcast_vocab::sanitize`]; bytes
    /// that are not UTF-8 become U+FFFD).
    pub preview: String,
}

/// Everything the page shows, at one moment: what `/state` serves.
#[derive(Clone, Debug, Serialize)]
pub struct State {
    /// The lab's registry id.
    pub lab: String,
    /// Increases with every change.
    pub version: u64,
    /// Milliseconds since the observer started.
    pub now_ms: u64,
    /// The hosts, in the lab's order.
    pub hosts: Vec<HostState>,
    /// The flows, most recently seen first.
    pub flows: Vec<Flow>,
    /// Recent datagrams, oldest first (at most [`MAX_LOG`]).
    pub log: Vec<LogLine>,
}

struct RawLine {
    at_ms: u64,
    host: String,
    interface: String,
    direction: &'static str,
    source: SocketAddr,
    group: SocketAddr,
    ttl: u8,
    size: usize,
    payload: Vec<u8>,
}

struct FlowEntry {
    flow: Flow,
    window_start: Instant,
    window_count: u64,
    last: Instant,
    reached: BTreeSet<Reach>,
}

struct Model {
    hosts: Vec<HostState>,
    flows: HashMap<(SocketAddr, SocketAddr), FlowEntry>,
    log: VecDeque<RawLine>,
}

struct Shared {
    lab: String,
    /// Every address of every host of the lab, once read: a datagram from one of them is
    /// counted where it leaves, never where it arrives.
    local: std::sync::OnceLock<std::collections::HashSet<IpAddr>>,
    started: Instant,
    model: Mutex<Model>,
    version: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_millis() as u64
    }
}

/// Watches every host of a lab; see the module docs. Dropping it stops its threads.
pub struct Observer {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    picture: String,
}

impl Observer {
    /// Starts a thread in each host of `entry` (a lab of this process or another's, whose
    /// user namespace this process is in already). Returns once every host was read once
    /// and its captures are open, with the picture of the lab drawn from the same reading.
    pub fn start(entry: &Entry) -> Result<Observer, String> {
        let names: Vec<String> = entry.hosts.iter().map(|h| h.name.clone()).collect();
        let shared = Arc::new(Shared {
            lab: entry.id.clone(),
            local: std::sync::OnceLock::new(),
            started: Instant::now(),
            model: Mutex::new(Model {
                hosts: names
                    .iter()
                    .map(|name| HostState {
                        name: name.clone(),
                        ..HostState::default()
                    })
                    .collect(),
                flows: HashMap::new(),
                log: VecDeque::new(),
            }),
            version: AtomicU64::new(1),
            stop: AtomicBool::new(false),
        });
        let mut threads = Vec::new();
        let mut ready = Vec::new();
        for (index, host) in entry.hosts.iter().enumerate() {
            let path = format!("/proc/{}/fd/{}", entry.pid, host.fd);
            let namespace = File::open(&path)
                .map_err(|e| format!("host {}: opening {path}: {e}", host.name))?;
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let shared = shared.clone();
            let name = host.name.clone();
            let thread = std::thread::Builder::new()
                .name(format!("observe {name}"))
                .spawn(move || watch_host(&shared, index, &name, &namespace, tx))
                .map_err(|e| format!("starting an observer thread: {e}"))?;
            threads.push(thread);
            ready.push(rx);
        }
        let mut described = Vec::new();
        let mut observer = Observer {
            shared,
            threads,
            picture: String::new(),
        };
        for (rx, host) in ready.into_iter().zip(&entry.hosts) {
            let first = rx
                .recv()
                .map_err(|_| format!("host {}: the observer thread died", host.name))??;
            described.push(first);
        }
        let local = described
            .iter()
            .flat_map(|host| host.interfaces.iter().flat_map(|(_, a)| a.iter()))
            .filter_map(|address| address.split('/').next()?.parse().ok())
            .collect();
        let _ = observer.shared.local.set(local);
        let shape = crate::picture::Shape::of(&names);
        // Each host was read with its `lo`, which the picture shows only in a one-host lab.
        let drawn: Vec<crate::picture::HostPicture> = described
            .iter()
            .cloned()
            .map(|mut host| {
                if shape != crate::picture::Shape::Sandbox {
                    host.interfaces.retain(|(name, _)| name != "lo");
                }
                host
            })
            .collect();
        observer.picture = crate::picture::svg(&title(shape, &names), shape, &drawn);
        {
            let mut model = observer.shared.lock();
            for (state, picture) in model.hosts.iter_mut().zip(&described) {
                for interface in &mut state.interfaces {
                    if let Some((_, addresses)) = picture
                        .interfaces
                        .iter()
                        .find(|(n, _)| n.split(' ').next() == Some(interface.name.as_str()))
                    {
                        interface.addresses = addresses.clone();
                    }
                }
            }
        }
        Ok(observer)
    }

    /// The lab's picture (SVG), drawn by [`crate::picture`] as the book's are, with each
    /// cable marked `data-cable="HOST INTERFACE"`.
    pub fn picture(&self) -> &str {
        &self.picture
    }

    /// A number that increases with every change of what [`Observer::snapshot`] returns.
    pub fn version(&self) -> u64 {
        self.shared.version.load(Ordering::Acquire)
    }

    /// Everything observed, now.
    pub fn snapshot(&self) -> State {
        let version = self.version();
        let now = Instant::now();
        let model = self.shared.lock();
        let mut flows: Vec<Flow> = model
            .flows
            .values()
            .map(|entry| {
                let mut flow = entry.flow.clone();
                flow.reached = entry.reached.iter().cloned().collect();
                flow.rate = if now.duration_since(entry.last) > Duration::from_secs(2) {
                    0.0
                } else {
                    let window = now.duration_since(entry.window_start).as_secs_f64();
                    if window >= 0.2 {
                        (entry.window_count as f64 / window).max(entry.flow.rate)
                    } else {
                        entry.flow.rate
                    }
                };
                flow
            })
            .collect();
        flows.sort_by_key(|f| std::cmp::Reverse(f.last_seen_ms));
        let log = model
            .log
            .iter()
            .map(|raw| LogLine {
                at_ms: raw.at_ms,
                host: raw.host.clone(),
                interface: raw.interface.clone(),
                direction: raw.direction,
                source: raw.source,
                group: raw.group,
                ttl: raw.ttl,
                size: raw.size,
                preview: mcast_vocab::sanitize::sanitize(&String::from_utf8_lossy(&raw.payload)),
            })
            .collect();
        State {
            lab: self.shared.lab.clone(),
            version,
            now_ms: self.shared.ms(now),
            hosts: model.hosts.clone(),
            flows,
            log,
        }
    }

    /// Stops every thread (dropping it does the same).
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The picture's title: the command that opens a lab of this shape.
fn title(shape: crate::picture::Shape, names: &[String]) -> String {
    match shape {
        crate::picture::Shape::Sandbox => "cargo lab --sandbox".into(),
        crate::picture::Shape::Routed => "cargo lab --routed".into(),
        crate::picture::Shape::Lan => format!("cargo lab {}", names.join(" ")),
    }
}

type Ready = std::sync::mpsc::SyncSender<Result<crate::picture::HostPicture, String>>;

/// The life of one host's thread.
fn watch_host(shared: &Shared, index: usize, name: &str, namespace: &File, ready: Ready) {
    let opened = (|| {
        setns(namespace, CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("host {name}: entering its network namespace: {e}"))?;
        let described = crate::picture::describe_with(
            &[name.to_owned()],
            crate::picture::Shape::Sandbox,
            |_, command| {
                // A child of this thread starts in the host's namespace.
                std::process::Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .map(|out| out.stdout)
                    .map_err(|e| e.to_string())
            },
        )?
        .remove(0);
        let mut captures = Vec::new();
        for interface in nix::net::if_::if_nameindex()
            .map_err(|e| format!("host {name}: listing its interfaces: {e}"))?
            .iter()
        {
            let interface_name = interface.name().to_string_lossy().into_owned();
            let socket = PacketSocket::bind(interface.index())
                .map_err(|e| format!("host {name}: capturing on {interface_name}: {e}"))?;
            let _ = socket.socket().set_recv_buffer_size(CAPTURE_BUFFER);
            captures.push((interface_name, socket));
        }
        Ok::<_, String>((described, captures))
    })();
    let (described, captures) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut reader = HostReader {
        name: name.to_owned(),
        previous: None,
    };
    reader.read_proc(shared, index, &captures);
    let _ = ready.send(Ok(described));
    let mut next_proc = Instant::now() + PROC_PERIOD;
    let mut buffer = vec![0u8; SNAP];
    while !shared.stop.load(Ordering::Acquire) {
        let wait = next_proc.saturating_duration_since(Instant::now());
        let mut fds: Vec<PollFd> = captures
            .iter()
            .map(|(_, s)| PollFd::new(s.as_fd(), PollFlags::POLLIN))
            .collect();
        let millis = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let _ = poll(&mut fds, PollTimeout::from(millis));
        let mut seen = Vec::new();
        let mut full = false;
        for (interface, socket) in &captures {
            let mut n = 0;
            while n < BATCH {
                let Ok(Some(received)) = socket.recv(&mut buffer) else {
                    break;
                };
                n += 1;
                if let Some(datagram) = multicast_udp(&buffer[..received.length]) {
                    seen.push((interface.as_str(), received.direction, datagram));
                }
            }
            full |= n == BATCH;
        }
        if !seen.is_empty() {
            record(shared, name, seen);
        }
        if Instant::now() >= next_proc {
            reader.read_proc(shared, index, &captures);
            next_proc = Instant::now() + PROC_PERIOD;
        }
        if full {
            std::thread::sleep(PAUSE);
        }
    }
}

/// A UDP datagram to a multicast address, and its payload size as its header announces it.
struct Seen {
    udp: frame::UdpFrame,
    size: usize,
}

fn multicast_udp(bytes: &[u8]) -> Option<Seen> {
    let udp = frame::udp(bytes).ok()?;
    if !udp.destination.ip().is_multicast() {
        return None;
    }
    let size = if udp.truncated {
        announced_payload(bytes).unwrap_or(udp.payload.len())
    } else {
        udp.payload.len()
    };
    Some(Seen { udp, size })
}

/// The UDP payload length the header announces, for a frame read only in part.
fn announced_payload(bytes: &[u8]) -> Option<usize> {
    let ip = bytes.get(14..)?;
    let header = match ip.first()? >> 4 {
        4 => usize::from(ip[0] & 0x0f) * 4,
        6 => 40,
        _ => return None,
    };
    let udp = ip.get(header..header + 8)?;
    Some(usize::from(u16::from_be_bytes([udp[4], udp[5]])).saturating_sub(8))
}

/// Adds the datagrams one host's captures saw to the flows and the log.
fn record(shared: &Shared, host: &str, seen: Vec<(&str, Direction, Seen)>) {
    let now = Instant::now();
    let at_ms = shared.ms(now);
    let local = shared.local.get();
    let mut model = shared.lock();
    for (interface, direction, Seen { udp, size }) in seen {
        let key = (udp.source, udp.destination);
        if !model.flows.contains_key(&key) && model.flows.len() >= MAX_FLOWS {
            let oldest = model
                .flows
                .iter()
                .min_by_key(|(_, f)| f.last)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                model.flows.remove(&oldest);
            }
        }
        let entry = model.flows.entry(key).or_insert_with(|| FlowEntry {
            flow: Flow {
                source_host: None,
                source: udp.source,
                group: udp.destination,
                ttl: udp.ttl,
                size,
                datagrams: 0,
                rate: 0.0,
                reached: Vec::new(),
                last_seen_ms: at_ms,
            },
            window_start: now,
            window_count: 0,
            last: now,
            reached: BTreeSet::new(),
        });
        let sent = direction == Direction::Outgoing;
        if sent {
            entry.flow.source_host = Some(host.to_owned());
        } else if entry.reached.len() < 64 {
            entry.reached.insert(Reach {
                host: host.to_owned(),
                interface: interface.to_owned(),
            });
        }
        // Each datagram is counted once: where it was sent, or (from outside the lab) where
        // it arrived first.
        let counts = sent
            || (entry.flow.source_host.is_none()
                && !local.is_some_and(|l| l.contains(&udp.source.ip()))
                && entry
                    .reached
                    .iter()
                    .next()
                    .is_some_and(|r| r.host == host && r.interface == interface));
        if counts {
            entry.flow.datagrams += 1;
            entry.flow.ttl = udp.ttl;
            entry.flow.size = size;
            entry.flow.last_seen_ms = at_ms;
            entry.last = now;
            let window = now.duration_since(entry.window_start);
            if window >= Duration::from_secs(1) {
                entry.flow.rate = entry.window_count as f64 / window.as_secs_f64();
                entry.window_start = now;
                entry.window_count = 0;
            }
            entry.window_count += 1;
            if model.log.len() >= MAX_LOG {
                model.log.pop_front();
            }
            let mut payload = udp.payload;
            payload.truncate(PREVIEW);
            model.log.push_back(RawLine {
                at_ms,
                host: host.to_owned(),
                interface: interface.to_owned(),
                direction: if sent { "out" } else { "in" },
                source: udp.source,
                group: udp.destination,
                ttl: udp.ttl,
                size,
                payload,
            });
        }
    }
    drop(model);
    shared.changed();
}

/// One reading of a host's `/proc`: interfaces, memberships, forwarding entries.
type Reading = (Vec<Interface>, Vec<Membership>, Vec<Route>);

/// What one host's thread read last from `/proc`, to tell a change.
struct HostReader {
    name: String,
    previous: Option<Reading>,
}

impl HostReader {
    fn read_proc(&mut self, shared: &Shared, index: usize, captures: &[(String, PacketSocket)]) {
        let read = |file: &str| std::fs::read_to_string(format!("/proc/thread-self/net/{file}"));
        let names: HashMap<u32, String> = nix::net::if_::if_nameindex()
            .map(|list| {
                list.iter()
                    .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let mut memberships = Vec::new();
        if let Ok(text) = read("igmp") {
            memberships.extend(parse_igmp(&text));
        }
        if let Ok(text) = read("igmp6") {
            memberships.extend(parse_igmp6(&text));
        }
        let mut filters = Vec::new();
        if let Ok(text) = read("mcfilter") {
            filters.extend(parse_mcfilter(&text));
        }
        if let Ok(text) = read("mcfilter6") {
            filters.extend(parse_mcfilter6(&text));
        }
        apply_filters(&mut memberships, &filters, &names);
        let mut interfaces = read("dev").map(|t| parse_dev(&t)).unwrap_or_default();
        // `lo` last: the cables matter more.
        interfaces.sort_by_key(|i| i.name == "lo");
        let routes = match (read("ip_mr_cache"), read("ip_mr_vif")) {
            (Ok(cache), Ok(vifs)) => parse_mr_cache(&cache, &parse_mr_vif(&vifs)),
            _ => Vec::new(),
        };
        let missed: u64 = captures.iter().map(|(_, s)| dropped(s)).sum();
        let now = (interfaces, memberships, routes);
        if self.previous.as_ref() == Some(&now) && missed == 0 {
            return;
        }
        let mut model = shared.lock();
        let state = &mut model.hosts[index];
        debug_assert_eq!(state.name, self.name);
        // Addresses were filled once, from the picture's reading; keep them.
        let addresses: HashMap<String, Vec<String>> = state
            .interfaces
            .iter()
            .map(|i| (i.name.clone(), i.addresses.clone()))
            .collect();
        state.interfaces = now.0.clone();
        for interface in &mut state.interfaces {
            if let Some(a) = addresses.get(&interface.name) {
                interface.addresses = a.clone();
            }
        }
        state.memberships = now.1.clone();
        state.routes = now.2.clone();
        state.missed += missed;
        drop(model);
        self.previous = Some(now);
        shared.changed();
    }
}

/// Frames the kernel dropped from `socket`'s queue since the last call (`PACKET_STATISTICS`,
/// which resets on reading).
fn dropped(socket: &PacketSocket) -> u64 {
    use std::os::fd::AsRawFd;
    let mut stats = libc::tpacket_stats {
        tp_packets: 0,
        tp_drops: 0,
    };
    let mut length = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `length` bytes into `stats`, a live local.
    let status = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut stats as *mut libc::tpacket_stats).cast(),
            &mut length,
        )
    };
    if status == 0 {
        u64::from(stats.tp_drops)
    } else {
        0
    }
}

fn automatic(group: IpAddr) -> bool {
    match group {
        IpAddr::V4(g) => g == Ipv4Addr::new(224, 0, 0, 1),
        IpAddr::V6(g) => {
            let s = g.segments();
            g == "ff02::1".parse::<Ipv6Addr>().expect("an address")
                || g == "ff01::1".parse::<Ipv6Addr>().expect("an address")
                || (s[0] == 0xff02 && s[5] == 1 && s[6] >> 8 == 0xff && s[1..5] == [0; 4])
        }
    }
}

/// `/proc/net/igmp`: an interface line (`2\teth0      :     2      V3`), then a line per group
/// with the group as the hexadecimal of its bytes in memory order.
fn parse_igmp(text: &str) -> Vec<Membership> {
    let mut out = Vec::new();
    let mut interface = String::new();
    for line in text.lines().skip(1) {
        if !line.starts_with(char::is_whitespace) {
            if let Some((left, _)) = line.split_once(':') {
                interface = left.split_whitespace().nth(1).unwrap_or("").to_owned();
            }
            continue;
        }
        let Some(hex) = line.split_whitespace().next() else {
            continue;
        };
        let Ok(value) = u32::from_str_radix(hex, 16) else {
            continue;
        };
        let group = IpAddr::V4(Ipv4Addr::from(value.to_ne_bytes()));
        out.push(Membership {
            interface: interface.clone(),
            group,
            protocol: "IGMP",
            mode: "exclude",
            sources: Vec::new(),
            automatic: automatic(group),
        });
    }
    out
}

fn ipv6_hex(hex: &str) -> Option<Ipv6Addr> {
    let value = u128::from_str_radix(hex, 16).ok()?;
    (hex.len() == 32).then(|| Ipv6Addr::from(value))
}

/// `/proc/net/igmp6`: `index name group-hex users flags timer` per membership.
fn parse_igmp6(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let group = IpAddr::V6(ipv6_hex(words.get(2)?)?);
            Some(Membership {
                interface: (*words.get(1)?).to_owned(),
                group,
                protocol: "MLD",
                mode: "exclude",
                sources: Vec::new(),
                automatic: automatic(group),
            })
        })
        .collect()
}

/// One source filter line: interface index, group, source, and whether it includes it.
#[derive(Debug, PartialEq, Eq)]
struct Filter {
    index: u32,
    group: IpAddr,
    source: IpAddr,
    include: bool,
}

/// `/proc/net/mcfilter`: `Idx Device MCA SRC INC EXC`, addresses as `0x` and the number in
/// host order.
fn parse_mcfilter(text: &str) -> Vec<Filter> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let address = |word: &str| {
                u32::from_str_radix(word.strip_prefix("0x")?, 16)
                    .ok()
                    .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
            };
            Some(Filter {
                index: words.first()?.parse().ok()?,
                group: address(words.get(2)?)?,
                source: address(words.get(3)?)?,
                include: words.get(4)?.parse::<u64>().ok()? > 0,
            })
        })
        .collect()
}

/// `/proc/net/mcfilter6`: `Idx Device Multicast-Address Source-Address INC EXC`.
fn parse_mcfilter6(text: &str) -> Vec<Filter> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            Some(Filter {
                index: words.first()?.parse().ok()?,
                group: IpAddr::V6(ipv6_hex(words.get(2)?)?),
                source: IpAddr::V6(ipv6_hex(words.get(3)?)?),
                include: words.get(4)?.parse::<u64>().ok()? > 0,
            })
        })
        .collect()
}

fn apply_filters(memberships: &mut [Membership], filters: &[Filter], names: &HashMap<u32, String>) {
    for filter in filters {
        let Some(interface) = names.get(&filter.index) else {
            continue;
        };
        if let Some(m) = memberships
            .iter_mut()
            .find(|m| &m.interface == interface && m.group == filter.group)
        {
            m.mode = if filter.include { "include" } else { "exclude" };
            if !m.sources.contains(&filter.source) {
                m.sources.push(filter.source);
            }
        }
    }
}

/// `/proc/net/dev`: two header lines, then `name: rx-bytes rx-packets errs drop fifo frame
/// compressed multicast tx-bytes tx-packets ...`.
fn parse_dev(text: &str) -> Vec<Interface> {
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let numbers: Vec<u64> = rest
                .split_whitespace()
                .map(|n| n.parse().unwrap_or(0))
                .collect();
            Some(Interface {
                name: name.trim().to_owned(),
                addresses: Vec::new(),
                rx_packets: *numbers.get(1)?,
                rx_multicast: *numbers.get(7)?,
                tx_packets: *numbers.get(9)?,
            })
        })
        .collect()
}

/// `/proc/net/ip_mr_vif`: `Interface BytesIn PktsIn BytesOut PktsOut Flags Local Remote`,
/// each line prefixed by its index: the interface name of each virtual interface index.
fn parse_mr_vif(text: &str) -> HashMap<usize, String> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            Some((words.first()?.parse().ok()?, (*words.get(1)?).to_owned()))
        })
        .collect()
}

/// `/proc/net/ip_mr_cache`: `Group Origin Iif Pkts Bytes Wrong Oifs`, addresses as the
/// hexadecimal of their bytes in memory order, outputs as `vif:ttl` pairs.
fn parse_mr_cache(text: &str, vifs: &HashMap<usize, String>) -> Vec<Route> {
    let vif = |n: &str| {
        n.parse::<usize>()
            .ok()
            .and_then(|n| vifs.get(&n).cloned())
            .unwrap_or_else(|| format!("vif{n}"))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let address = |word: &str| {
                u32::from_str_radix(word, 16)
                    .ok()
                    .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
            };
            Some(Route {
                group: address(words.first()?)?,
                origin: address(words.get(1)?)?,
                input: vif(words.get(2)?),
                packets: words.get(3)?.parse().ok()?,
                bytes: words.get(4)?.parse().ok()?,
                wrong_interface: words.get(5)?.parse().ok()?,
                outputs: words[6..]
                    .iter()
                    .filter_map(|pair| {
                        let (n, ttl) = pair.split_once(':')?;
                        Some(format!("{} ttl>{}", vif(n), ttl.parse::<u8>().ok()?))
                    })
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/net/igmp` as Linux 6.18 prints it: each group under its interface, in memory
    /// byte order; the all-hosts group is the kernel's own.
    #[test]
    fn igmp_lists_each_group_under_its_interface() {
        let text = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n\
                    1\tlo        :     1      V3\n\
                    \t\t\t\t010000E0     1 0:00000000\t\t0\n\
                    2\teth0      :     2      V3\n\
                    \t\t\t\t030201EF     1 0:00000000\t\t0\n\
                    \t\t\t\t010000E0     1 0:00000000\t\t0\n";
        let got: Vec<(String, IpAddr, bool)> = parse_igmp(text)
            .into_iter()
            .map(|m| (m.interface, m.group, m.automatic))
            .collect();
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        assert_eq!(
            got,
            [
                ("lo".into(), v4(224, 0, 0, 1), true),
                ("eth0".into(), v4(239, 1, 2, 3), false),
                ("eth0".into(), v4(224, 0, 0, 1), true),
            ]
        );
    }

    /// A source-specific join shows as an `include` membership with its source, read from
    /// `mcfilter` (whose numbers are in host order, unlike `igmp`'s).
    #[test]
    fn a_source_filter_names_its_sources() {
        let igmp = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n\
                    2\teth0      :     1      V3\n\
                    \t\t\t\t010203E8     1 0:00000000\t\t0\n";
        let filter = "Idx Device        MCA        SRC    INC    EXC\n\
                      \x20 2   eth0 0xe8030201 0x0a000001      1      0\n";
        let mut memberships = parse_igmp(igmp);
        let names = HashMap::from([(2, "eth0".to_owned())]);
        apply_filters(&mut memberships, &parse_mcfilter(filter), &names);
        assert_eq!(memberships[0].mode, "include");
        assert_eq!(
            memberships[0].sources,
            [IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]
        );
    }

    /// `/proc/net/igmp6` and `mcfilter6` read back as MLD memberships; solicited-node groups
    /// are the kernel's own.
    #[test]
    fn mld_memberships_and_their_sources_are_read() {
        let igmp6 = "2    eth0            ff0e0000000000000000000000000123     1 00000004 0\n\
                     2    eth0            ff0200000000000000000001ff000002     1 00000004 0\n";
        let filter6 = "Idx Device                Multicast Address                   Source Address    INC    EXC\n\
                       \x20 2   eth0 ff0e0000000000000000000000000123 fd000000000000000000000000000001      1      0\n";
        let mut memberships = parse_igmp6(igmp6);
        let names = HashMap::from([(2, "eth0".to_owned())]);
        apply_filters(&mut memberships, &parse_mcfilter6(filter6), &names);
        assert_eq!(memberships[0].group, "ff0e::123".parse::<IpAddr>().unwrap());
        assert_eq!(memberships[0].protocol, "MLD");
        assert_eq!(memberships[0].mode, "include");
        assert_eq!(
            memberships[0].sources,
            ["fd00::1".parse::<IpAddr>().unwrap()]
        );
        assert!(!memberships[0].automatic);
        assert!(memberships[1].automatic);
    }

    /// A router's forwarding entry keeps its counters and names its interfaces.
    #[test]
    fn forwarding_entries_name_their_interfaces_and_count() {
        let vifs = "Interface      BytesIn  PktsIn  BytesOut PktsOut Flags Local    Remote\n\
                    \x20 0 eth0             100       2         0       0 00000 FE01000A 00000000\n\
                    \x20 1 eth1               0       0       100       2 00000 FE02000A 00000000\n";
        let cache = "Group    Origin   Iif     Pkts    Bytes    Wrong Oifs\n\
                     471D03E0 0101000A 0          2      100        0  1:1\n";
        let routes = parse_mr_cache(cache, &parse_mr_vif(vifs));
        assert_eq!(
            routes,
            [Route {
                origin: Ipv4Addr::new(10, 0, 1, 1),
                group: Ipv4Addr::new(224, 3, 29, 71),
                input: "eth0".into(),
                packets: 2,
                bytes: 100,
                wrong_interface: 0,
                outputs: vec!["eth1 ttl>1".into()],
            }]
        );
    }

    /// The announced payload size of a frame read only in part comes from its UDP header.
    #[test]
    fn a_truncated_frame_keeps_its_announced_size() {
        let mut frame = vec![0u8; 14];
        frame[12] = 0x08;
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 10, 0, 0, 1, 239, 1, 2, 3,
        ];
        frame.append(&mut ip);
        frame.extend_from_slice(&[0x13, 0x88, 0x13, 0x88, 0x20, 0x08, 0, 0]);
        assert_eq!(announced_payload(&frame), Some(8192));
    }
}
