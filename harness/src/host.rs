//! A host: one network namespace with a name, interfaces, and the things a test does in it.
//!
//! A host has one interface per segment it is on ([`Host::interfaces`]): `eth0` for a
//! sandbox or a LAN host, `eth0`, `eth1`... for a host of a [`crate::Routed`] network named
//! on several segments. [`Host::ipv4`] and [`Host::ipv6`] are `eth0`'s addresses.
//!
//! Every method that touches the network does so *inside* the host's namespace: `run` on a
//! thread that entered it, `spawn` in a child that entered it before `exec`, `listen` and
//! `capture` on sockets created in it. The calling thread itself never changes namespace.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::{Child, Command, Output};
use std::sync::{Arc, Mutex};

use crate::capture::Capture;
use crate::error::{Context, Error};
use crate::listener::{Listen, Listener};
use crate::namespace::Namespace;
use crate::netlink::{Route, Rtnl};
use crate::{Group, diagnostics};

/// A host's `eth0` (a `Sandbox`'s, and a router's first interface too) has index 2.
pub(crate) const ETH0: u32 = 2;

/// One virtual host: a network namespace of its own.
pub struct Host {
    name: String,
    namespace: Arc<Namespace>,
    rtnl: Mutex<Rtnl>,
    /// Never empty: `eth0` first.
    interfaces: Vec<HostInterface>,
    /// Its interfaces, recorded from the start when `HARNESS_PCAP_DIR` asks (`recording.rs`).
    recording: Option<crate::recording::Recording>,
}

/// One interface of a host, as the harness made it: its name and index inside the host, and
/// the addresses it holds (besides a link-local `fe80::` one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostInterface {
    /// `eth0`, `eth1`, ...
    pub name: String,
    /// Its index inside the host (`if_nametoindex`): 2 for `eth0`, 3 for `eth1`, ...
    pub index: u32,
    /// Its IPv4 address.
    pub ipv4: Ipv4Addr,
    /// Its IPv4 prefix length: 24, or 22 on a LAN of more than 254 hosts.
    pub prefix: u8,
    /// Its unique-local IPv6 address (prefix length 64).
    pub ipv6: Ipv6Addr,
}

impl Host {
    /// A host whose only interface is `eth0`, index 2, with these addresses on a /24.
    pub(crate) fn new(
        name: &str,
        namespace: Namespace,
        rtnl: Rtnl,
        ipv4: Ipv4Addr,
        ipv6: Ipv6Addr,
    ) -> Host {
        let eth0 = HostInterface {
            name: "eth0".into(),
            index: ETH0,
            ipv4,
            prefix: 24,
            ipv6,
        };
        Host::with_interfaces(name, namespace, rtnl, vec![eth0])
    }

    /// A host with these interfaces (`eth0` first), all of which exist in `namespace` now:
    /// the recording, if asked for, starts on each of them.
    pub(crate) fn with_interfaces(
        name: &str,
        namespace: Namespace,
        rtnl: Rtnl,
        interfaces: Vec<HostInterface>,
    ) -> Host {
        assert!(!interfaces.is_empty(), "host {name} has no interface");
        let recording = crate::recording::Recording::start(&namespace, name);
        Host {
            name: name.to_owned(),
            namespace: Arc::new(namespace),
            rtnl: Mutex::new(rtnl),
            interfaces,
            recording,
        }
    }

    /// Its recordings, if `HARNESS_PCAP_DIR` asked for them.
    pub(crate) fn recording(&self) -> Option<&crate::recording::Recording> {
        self.recording.as_ref()
    }

    /// The host's name (`"sandbox"` for a [`crate::Sandbox`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's IPv4 address, on `eth0`: `10.0.0.k` for the k-th host of a LAN, `10.0.0.1`
    /// for a sandbox, `10.0.s.k` on the first segment a host of a `Routed` network is on.
    pub fn ipv4(&self) -> Ipv4Addr {
        self.interfaces[0].ipv4
    }

    /// The host's unique-local IPv6 address, on `eth0`: `fd00::k` for the k-th host of a LAN
    /// (it also has a link-local `fe80::`).
    pub fn ipv6(&self) -> Ipv6Addr {
        self.interfaces[0].ipv6
    }

    /// The interfaces the harness made in this host, `eth0` first (`lo` is not listed): one
    /// for a sandbox or a LAN host, one per segment for a host of a `Routed` network.
    pub fn interfaces(&self) -> &[HostInterface] {
        &self.interfaces
    }

    /// The IPv4 address of interface `name` (e.g. `"eth1"`). Panics, listing the host's
    /// interfaces, if it has none of that name.
    pub fn ipv4_on(&self, name: &str) -> Ipv4Addr {
        self.interface(name).ipv4
    }

    /// The unique-local IPv6 address of interface `name`. Panics like [`Host::ipv4_on`].
    pub fn ipv6_on(&self, name: &str) -> Ipv6Addr {
        self.interface(name).ipv6
    }

    fn interface(&self, name: &str) -> &HostInterface {
        self.interfaces
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "host {} has no interface {name:?} ({})",
                    self.name,
                    self.interface_names()
                )
            })
    }

    /// The host's interfaces' names, for messages: `eth0, eth1`.
    pub(crate) fn interface_names(&self) -> String {
        let names: Vec<&str> = self.interfaces.iter().map(|i| i.name.as_str()).collect();
        names.join(", ")
    }

    /// Runs `f` on a fresh thread inside this host's namespace and returns what it returns.
    /// Sockets created in `f` belong to this host, even after `f` hands them back.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.namespace.run(f)
    }

    /// A UDP socket bound to `bind`, made inside this host's namespace and non-blocking, ready
    /// for `tokio::net::UdpSocket::from_std` (or any other reactor). The socket stays in this
    /// host whichever thread uses it: a multi-threaded runtime's workers never change
    /// namespace (`setns` acts on one thread, and a runtime moves tasks between threads).
    ///
    /// Like `std::net::UdpSocket::bind`, no `SO_REUSEADDR`: for several receivers on one port
    /// in one host, or to set options before binding, use [`Host::socket`].
    pub fn udp_socket(&self, bind: SocketAddr) -> io::Result<std::net::UdpSocket> {
        let socket = self.socket(
            socket2::Domain::for_address(bind),
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )?;
        socket.set_nonblocking(true)?;
        socket.bind(&bind.into())?;
        Ok(socket.into())
    }

    /// A socket made inside this host's namespace (`socket(2)` with close-on-exec), unbound and
    /// blocking, for setting options before `bind`: e.g. `SO_REUSEADDR`, then bind, join a group
    /// and `set_nonblocking(true)` before handing it to an async runtime.
    pub fn socket(
        &self,
        domain: socket2::Domain,
        ty: socket2::Type,
        protocol: Option<socket2::Protocol>,
    ) -> io::Result<socket2::Socket> {
        self.run(|| socket2::Socket::new(domain, ty, protocol))
    }

    /// Whether `socket` was made inside this host's namespace (asked of the kernel with the
    /// `SIOCGSKNS` ioctl, which opens the namespace a socket belongs to). A test can check
    /// this before it joins a group or sends on a socket it did not make itself: joining in
    /// the machine's own namespace would send IGMP out of its real network card. A socket of
    /// a namespace this process has no `CAP_NET_ADMIN` over (the machine's own, under the
    /// user-namespace move) is an error (`EPERM`), which is a "no" too.
    pub fn owns(&self, socket: impl std::os::fd::AsFd) -> io::Result<bool> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        const SIOCGSKNS: libc::c_ulong = 0x894C;
        // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor or -1.
        let fd = unsafe { libc::ioctl(socket.as_fd().as_raw_fd(), SIOCGSKNS as _) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just opened `fd` for us; nothing else owns it.
        let namespace = unsafe { OwnedFd::from_raw_fd(fd) };
        let inode = nix::sys::stat::fstat(&namespace)?.st_ino;
        Ok(inode == self.namespace_inode())
    }

    /// Runs `future` to completion on a current-thread tokio runtime, built on a fresh thread
    /// inside this host's namespace, and returns its output. Every socket the future makes
    /// (`tokio::net::UdpSocket::bind`, ...) belongs to this host, and so do those of tasks it
    /// spawns with `tokio::spawn` (they run on the same thread) and of `spawn_blocking`
    /// (threads started from that thread start in its namespace). The runtime enables what
    /// the tokio features in the build provide (`enable_all`). A panic in the future is passed
    /// on to the caller. Needs the `tokio` feature.
    ///
    /// ```no_run
    /// # let lan = harness::Lan::new(["a", "b"]).unwrap();
    /// let port = lan.host("b").block_on(async {
    ///     let socket = tokio::net::UdpSocket::bind("0.0.0.0:5000").await.unwrap(); // in b
    ///     socket.join_multicast_v4("239.1.2.3".parse().unwrap(), [0, 0, 0, 0].into()).unwrap();
    ///     socket.local_addr().unwrap().port()
    /// });
    /// # assert_eq!(port, 5000);
    /// ```
    #[cfg(feature = "tokio")]
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        self.run(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("building a tokio runtime in host {}: {e}", self.name))
                .block_on(future)
        })
    }

    /// Starts `command` inside this host. The child is killed (SIGKILL) if the thread that
    /// spawned it ends or the test process dies, so it cannot keep the namespace alive; and
    /// when the host goes (its network is dropped), every process still in its namespace is
    /// killed, the child's pipelines and background jobs included.
    pub fn spawn(&self, command: &mut Command) -> io::Result<Child> {
        self.namespace.prepare_command(command);
        command.spawn()
    }

    /// Runs `command` inside this host to completion and collects its output.
    pub fn output(&self, command: &mut Command) -> io::Result<Output> {
        self.namespace.prepare_command(command);
        command.output()
    }

    /// Joins `group` on every interface of this host and listens on its port; the listener
    /// is joined and bound when this returns.
    pub fn listen(&self, group: Group) -> crate::Result<Listener> {
        self.listen_with(group, Listen::default())
    }

    /// Like [`Host::listen`], with options: one interface, a source-specific join, binding.
    pub fn listen_with(&self, group: Group, options: Listen) -> crate::Result<Listener> {
        Listener::start(self.namespace.clone(), &self.name, group, options)
    }

    /// Records the frames that cross `interface` from now on (AF_PACKET), in both directions.
    pub fn capture(&self, interface: &str) -> crate::Result<Capture> {
        let index = self.interface_index(interface)?;
        self.run(|| Capture::open(interface, index))
    }

    /// Adds a device route, `ip route add DESTINATION dev INTERFACE`, e.g.
    /// `host.add_route("224.16.17.8/32", "lo")`. IPv4 or IPv6.
    pub fn add_route(&self, destination: &str, interface: &str) -> crate::Result<()> {
        let (address, prefix) = parse_prefix(destination)?;
        let index = self.interface_index(interface)?;
        self.rtnl()
            .add_route(Route::to(address, prefix).via_interface(index))
            .doing(|| {
                format!(
                    "adding route {destination} dev {interface} in host {}",
                    self.name
                )
            })
    }

    /// The index of `name` in this host (what `if_nametoindex` says inside it).
    pub fn interface_index(&self, name: &str) -> crate::Result<u32> {
        self.rtnl()
            .link_index(name)
            .doing(|| format!("looking up interface {name:?} in host {}", self.name))
    }

    /// Addresses, group memberships and routes of this host, as text for failure messages.
    pub fn diagnostics(&self) -> String {
        diagnostics::describe(&self.namespace, &self.name)
    }

    /// The inode of this host's namespace (`net:[INODE]` in `/proc/PID/ns/net`).
    pub fn namespace_inode(&self) -> u64 {
        self.namespace.inode()
    }

    /// The host's namespace itself.
    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.namespace
    }

    /// The descriptor through which this process holds the host's namespace.
    pub(crate) fn namespace_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.namespace.as_fd()
    }

    /// Moves the calling thread into this host's namespace.
    pub(crate) fn enter(&self) -> crate::Result<()> {
        self.namespace.enter()
    }

    pub(crate) fn rtnl(&self) -> std::sync::MutexGuard<'_, Rtnl> {
        self.rtnl
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Parses `ADDRESS/PREFIX` (a bare address means a host route).
fn parse_prefix(text: &str) -> crate::Result<(IpAddr, u8)> {
    let invalid = || {
        Error::Invalid(format!(
            "{text:?} is not a route destination (expected e.g. 224.16.17.8/32 or ff0e::/16)"
        ))
    };
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let address: IpAddr = address.parse().map_err(|_| invalid())?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(invalid)?,
        None => max,
    };
    Ok((address, prefix))
}

impl Host {
    /// The host as a lab's registry entry lists it: `cargo lab shell` enters it through the
    /// descriptor of its namespace, which lives in this process.
    pub fn registry_entry(&self) -> crate::registry::HostEntry {
        use std::os::fd::AsRawFd;
        crate::registry::HostEntry {
            name: self.name().to_owned(),
            ipv4: self.ipv4(),
            ipv6: self.ipv6(),
            fd: self.namespace_fd().as_raw_fd(),
        }
    }
}

impl Drop for Host {
    /// Kills every process left in the host's namespace: what a test started with
    /// [`Host::spawn`] and everything those started (pipelines, background jobs, a shell's
    /// children), which would otherwise outlive the test and keep the namespace alive.
    fn drop(&mut self) {
        crate::procfs::kill_processes_in(&[self.namespace.inode()]);
    }
}
