//! The harness's figures, measured: `cargo bench -p harness`.
//!
//! Prints the median (and the 10th/90th percentiles) of:
//! - building a `Sandbox` and a 2-host `Lan`, each dropped before the next is built (as in a
//!   test suite: the kernel's asynchronous clean-up of the last one competes with building
//!   the next) and kept (building alone),
//! - the floor under `Sandbox::new`, measured in the same run, interleaved with it: a fresh
//!   thread that calls `unshare(CLONE_NEWNET)`, opens `/proc/thread-self/ns/net` to keep the
//!   namespace and makes the sandbox's links, addresses and route with one batch of
//!   hand-written rtnetlink requests (one `send`, then the acks; checked first to leave the
//!   same addresses and routes as a sandbox), and the ratio of the medians; beside them, as a
//!   reference line, a namespace with only `lo` up (one `SIOCSIFFLAGS` ioctl),
//! - building a 32-host and a 256-host `Lan` (256 is more than a /24 numbers: that LAN is
//!   `10.0.0.0/22`, host 256 at `10.0.1.0`),
//! - delivery: from `send_to` returning in one host to `expect(1)` returning in the test
//!   thread, through a listener that is already joined (sandbox over `lo`, LAN over the bridge),
//! - turning impairment on a link that had none (`Lan::impair`), with netem (loss and delay)
//!   and with tbf (a rate alone), each taken off again before the next run, next to its floor
//!   measured in the same run, interleaved: `Lan::clear` on a link with nothing to clear, two
//!   rtnetlink round trips (one at each end of the cable) that change nothing. A kernel
//!   without netem (or
//!   tbf) gets one line saying so instead of that figure; `.ci/vm --bench` runs this
//!   bench in a virtual machine whose kernel has both.
//!
//! `cargo bench -p harness -- sandbox` prints the sandbox's lines alone.
//!
//! These are wall-clock figures on a shared machine: run it a few times and compare medians.
//! Targets on a 2-core machine: Sandbox ≤ 1 ms and ≤ 1.3× its floor, 2-host LAN ≤ 20 ms,
//! 32-host LAN ≤ 300 ms, 256-host LAN ≤ 1.5 s, delivery ≤ 100 µs, impairing a link ≤ 5 ms.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::any::Any;
use std::fs::File;
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use harness::{Group, Host, Impairment, Lan, Sandbox};

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<34} median {:>10.3?}   p10 {:>10.3?}   p90 {:>10.3?}   ({} runs)",
        at(0.5),
        at(0.1),
        at(0.9),
        samples.len()
    );
}

fn time<T>(runs: usize, mut build: impl FnMut() -> T) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let built = build();
            let took = start.elapsed();
            drop(built);
            took
        })
        .collect()
}

/// Like [`time`], but keeps what it built until all runs are done: the figure then leaves out
/// the kernel's asynchronous clean-up of the previous namespaces, which competes for the same
/// locks when one is created right after another is dropped.
fn time_kept<T>(runs: usize, mut build: impl FnMut() -> T) -> Vec<Duration> {
    let mut kept = Vec::with_capacity(runs);
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            kept.push(build());
            start.elapsed()
        })
        .collect();
    drop(kept);
    samples
}

/// Today's cheapest namespace: on a fresh thread, a new network namespace with `lo` up, held
/// by a descriptor (as the harness holds its namespaces) once the thread has gone. It leaves
/// out everything else a sandbox has, so it is a reference line, not the floor.
fn bare_namespace() -> File {
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
        set_lo_up();
        File::open("/proc/thread-self/ns/net").expect("namespace descriptor")
    })
    .join()
    .expect("floor thread")
}

/// `ip link set lo up` in the calling thread's namespace, the classic way: `SIOCGIFFLAGS`,
/// add `IFF_UP`, `SIOCSIFFLAGS`. Returns whether `lo` was up before.
fn set_lo_up() -> bool {
    // SAFETY: a socket we own, and an ifreq we own, zeroed, with the name in place.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let socket = OwnedFd::from_raw_fd(fd);
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let get = libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request);
        assert_eq!(get, 0, "SIOCGIFFLAGS: {}", std::io::Error::last_os_error());
        let was_up = request.ifr_ifru.ifru_flags & libc::IFF_UP as libc::c_short != 0;
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        let set = libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request);
        assert_eq!(set, 0, "SIOCSIFFLAGS: {}", std::io::Error::last_os_error());
        was_up
    }
}

/// The floor under `Sandbox::new`: the same kernel objects, made the cheapest way there is.
/// On a fresh thread, a new network namespace held by a descriptor, and one rtnetlink socket
/// that sends every request in one `send(2)` (messages written by hand, no library), then
/// reads the acks: `lo` up; `eth0`, an ifb device, multicast, with `addrgenmode none`, up;
/// fe80::1/64 and fd00::1/64 (`nodad`) and 10.0.0.1/24 on it; `224.0.0.0/4 dev lo src
/// 10.0.0.1`. What it leaves out is what `Sandbox::new` adds on top: its checks that the
/// link is usable and IPv6 multicast can leave, and the `Host` around the namespace.
fn netlink_namespace() -> File {
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
        let namespace = File::open("/proc/thread-self/ns/net").expect("namespace descriptor");
        raw::build_sandbox_objects();
        namespace
    })
    .join()
    .expect("floor thread")
}

/// rtnetlink by hand (`linux/netlink.h`, `linux/rtnetlink.h`, `linux/if_link.h`,
/// `linux/if_addr.h`), for the floor.
mod raw {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const ETH0: i32 = 2;
    const NLA_F_NESTED: u16 = 1 << 15;
    const IFLA_INFO_KIND: u16 = 1;
    const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
    const IN6_ADDR_GEN_MODE_NONE: u8 = 1;
    const IFA_F_NODAD: u32 = 0x02;

    /// One request: a netlink header, a fixed part and attributes, 4-byte aligned.
    struct Message(Vec<u8>);

    impl Message {
        fn new(kind: u16, flags: u16, sequence: u32, fixed: &[u8]) -> Message {
            let mut bytes = Vec::with_capacity(64);
            bytes.extend_from_slice(&0u32.to_ne_bytes()); // length, set by `done`
            bytes.extend_from_slice(&kind.to_ne_bytes());
            let flags = flags | (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
            bytes.extend_from_slice(&flags.to_ne_bytes());
            bytes.extend_from_slice(&sequence.to_ne_bytes());
            bytes.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
            bytes.extend_from_slice(fixed);
            Message(bytes)
        }

        fn attribute(mut self, kind: u16, value: &[u8]) -> Message {
            let length = 4 + value.len();
            self.0.extend_from_slice(&(length as u16).to_ne_bytes());
            self.0.extend_from_slice(&kind.to_ne_bytes());
            self.0.extend_from_slice(value);
            self.0.resize(self.0.len().next_multiple_of(4), 0);
            self
        }

        fn done(mut self, out: &mut Vec<u8>) {
            let length = self.0.len() as u32;
            self.0[..4].copy_from_slice(&length.to_ne_bytes());
            out.extend_from_slice(&self.0);
        }
    }

    /// An attribute's bytes, for nesting.
    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut bytes = Message(Vec::new()).attribute(kind, value).0;
        bytes.truncate(4 + value.len());
        bytes
    }

    /// `struct ifinfomsg`: family, type, index, flags, change mask.
    fn link(index: i32, flags: u32) -> Vec<u8> {
        let mut bytes = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
        bytes.extend_from_slice(&index.to_ne_bytes());
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes
    }

    /// `struct ifaddrmsg`: family, prefix length, flags, scope, index.
    fn address(family: i32, prefix: u8) -> Vec<u8> {
        let mut bytes = vec![family as u8, prefix, 0, 0];
        bytes.extend_from_slice(&(ETH0 as u32).to_ne_bytes());
        bytes
    }

    /// The sandbox's kernel objects, in the calling thread's (fresh) namespace.
    pub(super) fn build_sandbox_objects() {
        let create = (libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;
        let up = libc::IFF_UP as u32;
        let mut out = Vec::with_capacity(1024);
        Message::new(libc::RTM_NEWLINK, 0, 1, &link(1, up)).done(&mut out);
        Message::new(
            libc::RTM_NEWLINK,
            create,
            2,
            &link(ETH0, libc::IFF_MULTICAST as u32),
        )
        .attribute(libc::IFLA_IFNAME, b"eth0\0")
        .attribute(
            libc::IFLA_LINKINFO | NLA_F_NESTED,
            &attribute(IFLA_INFO_KIND, b"ifb"),
        )
        .done(&mut out);
        let generate_none = attribute(IFLA_INET6_ADDR_GEN_MODE, &[IN6_ADDR_GEN_MODE_NONE]);
        Message::new(libc::RTM_SETLINK, 0, 3, &link(ETH0, 0))
            .attribute(
                libc::IFLA_AF_SPEC | NLA_F_NESTED,
                &attribute(libc::AF_INET6 as u16 | NLA_F_NESTED, &generate_none),
            )
            .done(&mut out);
        Message::new(libc::RTM_SETLINK, 0, 4, &link(ETH0, up)).done(&mut out);
        let v6 = |sequence, address: [u8; 16], out: &mut Vec<u8>| {
            Message::new(libc::RTM_NEWADDR, create, sequence, &address_header(64))
                .attribute(libc::IFA_LOCAL, &address)
                .attribute(libc::IFA_ADDRESS, &address)
                .attribute(libc::IFA_FLAGS, &IFA_F_NODAD.to_ne_bytes())
                .done(out)
        };
        fn address_header(prefix: u8) -> Vec<u8> {
            address(libc::AF_INET6, prefix)
        }
        v6(
            5,
            "fe80::1".parse::<std::net::Ipv6Addr>().unwrap().octets(),
            &mut out,
        );
        Message::new(libc::RTM_NEWADDR, create, 6, &address(libc::AF_INET, 24))
            .attribute(libc::IFA_LOCAL, &[10, 0, 0, 1])
            .attribute(libc::IFA_ADDRESS, &[10, 0, 0, 1])
            .done(&mut out);
        v6(
            7,
            "fd00::1".parse::<std::net::Ipv6Addr>().unwrap().octets(),
            &mut out,
        );
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
        let mut route = vec![libc::AF_INET as u8, 4, 0, 0];
        route.extend_from_slice(&[
            libc::RT_TABLE_MAIN,
            libc::RTPROT_STATIC,
            libc::RT_SCOPE_LINK,
            libc::RTN_UNICAST,
        ]);
        route.extend_from_slice(&0u32.to_ne_bytes());
        Message::new(libc::RTM_NEWROUTE, create, 8, &route)
            .attribute(libc::RTA_DST, &[224, 0, 0, 0])
            .attribute(libc::RTA_OIF, &1u32.to_ne_bytes())
            .attribute(libc::RTA_PREFSRC, &[10, 0, 0, 1])
            .done(&mut out);
        const REQUESTS: u32 = 8;

        // SAFETY: plain system calls on a socket we own, with buffers we own.
        unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            );
            assert!(
                fd >= 0,
                "netlink socket: {}",
                std::io::Error::last_os_error()
            );
            let socket = OwnedFd::from_raw_fd(fd);
            let sent = libc::send(socket.as_raw_fd(), out.as_ptr().cast(), out.len(), 0);
            assert_eq!(
                sent,
                out.len() as isize,
                "send: {}",
                std::io::Error::last_os_error()
            );
            let mut acked = 0;
            let mut buffer = [0u8; 8192];
            while acked < REQUESTS {
                let size = libc::recv(
                    socket.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    0,
                );
                assert!(size > 0, "recv: {}", std::io::Error::last_os_error());
                let mut rest = &buffer[..size as usize];
                while rest.len() >= 20 {
                    let length = u32::from_ne_bytes(rest[..4].try_into().unwrap()) as usize;
                    let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                    let sequence = u32::from_ne_bytes(rest[8..12].try_into().unwrap());
                    if kind == libc::NLMSG_ERROR as u16 {
                        let code = i32::from_ne_bytes(rest[16..20].try_into().unwrap());
                        assert_eq!(
                            code,
                            0,
                            "floor request {sequence}: {}",
                            std::io::Error::from_raw_os_error(-code)
                        );
                        acked += 1;
                    }
                    rest = &rest[length.next_multiple_of(4).min(rest.len())..];
                }
            }
        }
    }
}

/// `runs` rounds of every builder in turn, each timed and dropped before the next: all see
/// the same machine, and the same clean-up of the round before. One list of samples per
/// builder.
fn time_interleaved(
    runs: usize,
    builders: &mut [&mut dyn FnMut() -> Box<dyn Any>],
) -> Vec<Vec<Duration>> {
    let mut samples = vec![Vec::with_capacity(runs); builders.len()];
    for _ in 0..runs {
        for (build, samples) in builders.iter_mut().zip(&mut samples) {
            samples.push(time(1, &mut **build)[0]);
        }
    }
    samples
}

/// Like [`time_interleaved`], keeping everything built until all runs are done.
fn time_interleaved_kept(
    runs: usize,
    builders: &mut [&mut dyn FnMut() -> Box<dyn Any>],
) -> Vec<Vec<Duration>> {
    let mut kept = Vec::with_capacity(runs * builders.len());
    let mut samples = vec![Vec::with_capacity(runs); builders.len()];
    for _ in 0..runs {
        for (build, samples) in builders.iter_mut().zip(&mut samples) {
            let start = Instant::now();
            kept.push(build());
            samples.push(start.elapsed());
        }
    }
    drop(kept);
    samples
}

/// What `ip` shows of the addresses and routes of the namespace the calling thread is in,
/// for comparing the floor's objects with the sandbox's.
fn ip_objects() -> String {
    let show = |args: &[&str]| {
        let out = std::process::Command::new("ip")
            .args(args)
            .output()
            .expect("ip (iproute2)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    show(&["-o", "addr"])
        + &show(&["route", "show", "table", "all"])
        + &show(&["-6", "route", "show", "table", "all"])
}

/// The sandbox's three builders: the reference line, the floor, the sandbox.
fn sandbox_builders() -> [Box<dyn FnMut() -> Box<dyn Any>>; 3] {
    [
        Box::new(|| Box::new(bare_namespace()) as Box<dyn Any>),
        Box::new(|| Box::new(netlink_namespace()) as Box<dyn Any>),
        Box::new(|| Box::new(Sandbox::new().expect("sandbox")) as Box<dyn Any>),
    ]
}

fn report_ratio(what: &str, figure: &[Duration], floor: &[Duration]) {
    let ratio = median(figure).as_secs_f64() / median(floor).as_secs_f64();
    println!("{what:<34} {ratio:.2}× the floor (medians; goal ≤ 1.30×)");
}

/// From `send_to` returning in `from` to `expect(1)` returning for a listener in `to`.
fn delivery(from: &Host, to: &Host, group: Group, runs: usize) -> Vec<Duration> {
    let rx = to.listen(group).expect("listen");
    let socket = from.run(|| UdpSocket::bind("0.0.0.0:0").expect("socket"));
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            socket.send_to(b"ping", group.socket_addr()).expect("send");
            rx.expect(1)
                .within(Duration::from_secs(5))
                .expect("delivered");
            start.elapsed()
        })
        .collect()
}

/// `runs` rounds of: the floor (clearing host b's clear link), then for each impairment this
/// kernel has, turning it on b's link (timed) and off again (not timed).
fn impairment(runs: usize) {
    let lan = Lan::new(["a", "b"]).expect("lan");
    let kinds = [
        (
            "impair a link: netem, loss+delay",
            Impairment::new()
                .loss(0.1)
                .delay(Duration::from_millis(20), Duration::from_millis(5)),
        ),
        (
            "impair a link: tbf, rate alone",
            Impairment::new().rate(10_000_000),
        ),
    ];
    // A first use loads the queueing discipline's module where it is one: not in the figure.
    let kinds: Vec<_> = kinds
        .into_iter()
        .filter(|(what, impairment)| match lan.impair("b", impairment) {
            Ok(()) => {
                lan.clear("b").expect("clear");
                true
            }
            Err(harness::Error::Unavailable(why)) => {
                println!("{what:<34} not measured: {why}");
                false
            }
            Err(e) => panic!("{what}: {e}"),
        })
        .collect();
    let mut floor = Vec::with_capacity(runs);
    let mut samples = vec![Vec::with_capacity(runs); kinds.len()];
    for _ in 0..runs {
        floor.push(time(1, || lan.clear("b").expect("clear"))[0]);
        for ((_, impairment), samples) in kinds.iter().zip(&mut samples) {
            samples.push(time(1, || lan.impair("b", impairment).expect("impair"))[0]);
            lan.clear("b").expect("clear");
        }
    }
    report("floor: clear a clear link", floor.clone());
    for ((what, _), samples) in kinds.iter().zip(samples) {
        let ratio = median(&samples).as_secs_f64() / median(&floor).as_secs_f64();
        report(what, samples);
        println!("{what:<34} {ratio:.2}× the floor (medians); goal: median ≤ 5 ms");
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there are no test cases here
    }
    if let Err(why) = Sandbox::new() {
        eprintln!("cannot measure: {why}");
        std::process::exit(1);
    }
    assert!(
        std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
            !set_lo_up() && set_lo_up()
        })
        .join()
        .expect("floor check"),
        "the reference line brings a fresh namespace's lo up"
    );
    let floor = netlink_namespace();
    let floor_objects = std::thread::spawn(move || {
        nix::sched::setns(&floor, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        ip_objects()
    })
    .join()
    .expect("floor objects");
    let sandbox_objects = Sandbox::new().expect("sandbox").run(ip_objects);
    assert_eq!(
        floor_objects, sandbox_objects,
        "the floor makes the sandbox's addresses and routes"
    );
    let [mut bare, mut floor, mut sandbox] = sandbox_builders();
    let [bare, floor, sandbox]: [Vec<Duration>; 3] =
        time_interleaved(300, &mut [&mut *bare, &mut *floor, &mut *sandbox])
            .try_into()
            .expect("three");
    report("unshare + lo up, dropped", bare);
    report("floor: netlink batch, dropped", floor.clone());
    report("Sandbox::new, each dropped", sandbox.clone());
    report_ratio("Sandbox::new, each dropped", &sandbox, &floor);
    let [mut bare, mut floor, mut sandbox] = sandbox_builders();
    let [bare, floor, sandbox]: [Vec<Duration>; 3] =
        time_interleaved_kept(100, &mut [&mut *bare, &mut *floor, &mut *sandbox])
            .try_into()
            .expect("three");
    report("unshare + lo up, 100 kept", bare);
    report("floor: netlink batch, 100 kept", floor.clone());
    report("Sandbox::new, 100 kept", sandbox.clone());
    report_ratio("Sandbox::new, kept", &sandbox, &floor);
    if std::env::args().any(|a| a == "sandbox") {
        return; // `cargo bench -p harness -- sandbox`: the sandbox's figures alone
    }
    report(
        "Lan::new, 2 hosts, each dropped",
        time(60, || Lan::new(["a", "b"]).expect("lan")),
    );
    report(
        "Lan::new, 2 hosts, 30 kept",
        time_kept(30, || Lan::new(["a", "b"]).expect("lan")),
    );
    let names: Vec<String> = (1..=32).map(|k| format!("h{k}")).collect();
    report(
        "Lan::new, 32 hosts",
        time(12, || Lan::new(&names).expect("lan")),
    );
    let names: Vec<String> = (1..=256).map(|k| format!("h{k}")).collect();
    report(
        "Lan::new, 256 hosts",
        time(5, || Lan::new(&names).expect("lan")),
    );

    let group = Group::parse("239.1.2.3:5000").expect("group");
    let sandbox = Sandbox::new().expect("sandbox");
    report(
        "delivery, sandbox over lo",
        delivery(&sandbox, &sandbox, group, 2000),
    );
    let lan = Lan::new(["a", "b"]).expect("lan");
    let (a, b) = (lan.host("a"), lan.host("b"));
    report(
        "delivery, LAN host a to host b",
        delivery(a, b, group, 2000),
    );
    drop(lan);

    impairment(200);
}
