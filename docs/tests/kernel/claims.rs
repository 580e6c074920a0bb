//! The articles' claims that no port crate decides, checked on the running kernel.
//!
//! Each test is named after what really happens, and the appendix of the book
//! (`docs/src/claims.md`) names the test next to the claim and its verdict. Where an article
//! is wrong or only partly right, the test asserts the real behaviour.

use crate::common;

use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::process::Command;
use std::time::Duration;

use common::sh;
use harness::{Group, Host, Lan, Listen, Sandbox};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const SECOND: Duration = Duration::from_secs(2);
/// How long "nothing arrives" is watched, always after a positive check.
const QUIET: Duration = Duration::from_millis(300);

fn group(text: &str) -> Group {
    Group::parse(text).unwrap()
}

fn unmet<T>(result: Result<T, harness::Unmet>) -> T {
    result.unwrap_or_else(|unmet| panic!("{unmet}"))
}

/// A UDP socket in the current namespace, ready to send IPv4 multicast.
fn sender_v4() -> UdpSocket {
    UdpSocket::bind("0.0.0.0:0").unwrap()
}

// ---------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------

/// The multicast range is 224.0.0.0/4, up to 239.255.255.255: groups above the Python
/// article's bound (230.255.255.255) are joined and delivered, 240.0.0.1 is refused.
#[test]
fn multicast_range_ends_at_239_255_255_255_not_230() {
    assert!(Ipv4Addr::new(239, 255, 255, 255).is_multicast());
    assert!(Ipv4Addr::new(231, 0, 0, 1).is_multicast());
    assert!(!Ipv4Addr::new(240, 0, 0, 0).is_multicast());
    assert!(!Ipv4Addr::new(223, 255, 255, 255).is_multicast());

    let host = harness::or_skip!(Sandbox::new());
    for text in ["231.1.2.3:5000", "239.255.255.250:5000"] {
        let listener = host.listen(group(text)).unwrap();
        host.run(|| sender_v4().send_to(b"in range", group(text).socket_addr()))
            .unwrap();
        let got = unmet(listener.expect(1).within(SECOND));
        assert_eq!(got[0].destination, group(text).ip());
    }
    let refused = host.run(|| {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        socket.join_multicast_v4(&Ipv4Addr::new(240, 0, 0, 1), &Ipv4Addr::UNSPECIFIED)
    });
    assert_eq!(refused.unwrap_err().raw_os_error(), Some(libc::EINVAL));
}

/// Every interface that is up belongs to 224.0.0.1 (all hosts) before any program joins
/// anything; `/proc/net/igmp` lists it as `010000E0`, and the Ethernet card accepts its
/// MAC address 01:00:5e:00:00:01.
#[test]
fn all_hosts_group_is_joined_without_any_program() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let igmp = sh(lan.host("a"), "cat /proc/net/igmp");
    let mut device = "";
    let mut members = Vec::new();
    for line in igmp.lines().skip(1) {
        if !line.starts_with('\t') {
            device = line.split_whitespace().nth(1).unwrap_or("");
        } else if line.split_whitespace().next() == Some("010000E0") {
            members.push(device.to_owned());
        }
    }
    assert!(members.contains(&"eth0".to_owned()), "{igmp}");
    assert!(members.contains(&"lo".to_owned()), "{igmp}");
    let maddr = sh(lan.host("a"), "ip maddr show dev eth0");
    assert!(maddr.contains("link  01:00:5e:00:00:01"), "{maddr}");
    assert!(maddr.contains("inet  224.0.0.1"), "{maddr}");
}

// ---------------------------------------------------------------------------------------
// Loop, reuse, truncation
// ---------------------------------------------------------------------------------------

/// A sender that is itself a member hears its own datagram (IP_MULTICAST_LOOP is on by
/// default); with the option off, only the other hosts get it.
#[test]
fn sender_hears_itself_unless_multicast_loop_is_off() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let g = group("239.7.7.7:7007");
    let on_a = lan.host("a").listen(g).unwrap();
    let on_b = lan.host("b").listen(g).unwrap();

    lan.host("a")
        .run(|| sender_v4().send_to(b"loop on", g.socket_addr()))
        .unwrap();
    assert_eq!(unmet(on_a.expect(1).within(SECOND))[0].text(), "loop on");
    assert_eq!(unmet(on_b.expect(1).within(SECOND))[0].text(), "loop on");

    lan.host("a")
        .run(|| {
            let socket = sender_v4();
            socket.set_multicast_loop_v4(false)?;
            socket.send_to(b"loop off", g.socket_addr())
        })
        .unwrap();
    assert_eq!(unmet(on_b.expect(1).within(SECOND))[0].text(), "loop off");
    unmet(on_a.expect_none(QUIET));
}

fn bound_receiver(port: u16, group: Ipv4Addr, reuse: Option<&str>) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    match reuse {
        Some("SO_REUSEADDR") => socket.set_reuse_address(true)?,
        Some("SO_REUSEPORT") => socket.set_reuse_port(true)?,
        _ => {}
    }
    socket.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    socket.set_read_timeout(Some(SECOND))?;
    Ok(socket)
}

/// The next datagram on `socket` as text (`recv(2)` through socket2's `Read`).
fn receive_text(mut socket: &Socket) -> io::Result<String> {
    let mut buffer = [0u8; 1500];
    let n = socket.read(&mut buffer)?;
    Ok(String::from_utf8_lossy(&buffer[..n]).into_owned())
}

/// Two receivers on one host can bind the same port only with address reuse, and then
/// *each* gets a copy of every datagram: for multicast, SO_REUSEPORT does not spread
/// datagrams over the sockets as it does for unicast.
#[test]
fn receivers_share_a_port_only_with_reuse_and_each_gets_every_datagram() {
    let host = harness::or_skip!(Sandbox::new());
    let g = Ipv4Addr::new(224, 0, 0, 123);
    host.run(|| {
        let _first = bound_receiver(6000, g, None).unwrap();
        let second = bound_receiver(6000, g, None);
        assert_eq!(second.unwrap_err().kind(), io::ErrorKind::AddrInUse);
    });
    // A port of its own for each option: a socket closed above may live on for a moment in
    // a process another test is forking (until it execs), and hold its port.
    for (reuse, port) in [("SO_REUSEADDR", 6010), ("SO_REUSEPORT", 6011)] {
        let to = SocketAddr::from((g, port));
        host.run(|| {
            let one = bound_receiver(port, g, Some(reuse)).unwrap();
            let two = bound_receiver(port, g, Some(reuse)).unwrap();
            for text in ["first", "second"] {
                sender_v4().send_to(text.as_bytes(), to).unwrap();
                assert_eq!(receive_text(&one).unwrap(), text, "{reuse}");
                assert_eq!(receive_text(&two).unwrap(), text, "{reuse}");
            }
        });
    }
}

/// A receive buffer shorter than the datagram keeps its first bytes and silently drops the
/// rest: `recv` reports only what it copied, the next `recv` returns the next datagram.
/// Asking with MSG_TRUNC reveals the real length. (The Ruby article reads 255 bytes, the
/// chat 1024, the Python receiver 1024 and its sender 16.)
#[test]
fn short_receive_buffer_truncates_silently() {
    let host = harness::or_skip!(Sandbox::new());
    let g = Ipv4Addr::new(224, 0, 0, 124);
    host.run(|| {
        let receiver = bound_receiver(6001, g, None).unwrap();
        let sender = sender_v4();
        sender.send_to(b"0123456789", (g, 6001)).unwrap();
        sender.send_to(b"next", (g, 6001)).unwrap();
        sender.send_to(b"abcdefghij", (g, 6001)).unwrap();

        let mut small = [MaybeUninit::<u8>::uninit(); 4];
        assert_eq!(
            receiver.recv(&mut small).unwrap(),
            4,
            "only the first 4 bytes"
        );
        assert_eq!(
            receive_text(&receiver).unwrap(),
            "next",
            "the other 6 are gone"
        );
        let real = receiver.recv_with_flags(&mut small, libc::MSG_TRUNC);
        assert_eq!(
            real.unwrap(),
            10,
            "MSG_TRUNC returns the datagram's real length"
        );
    });
}

// ---------------------------------------------------------------------------------------
// Interfaces: IPv6 scope, and lo
// ---------------------------------------------------------------------------------------

fn send_v6(to: SocketAddrV6) -> io::Result<usize> {
    UdpSocket::bind("[::]:0")?.send_to(b"v6", to)
}

/// Sending to a link-local group (ff02::) without naming an interface works whenever the
/// routing table names one: every link that comes up gets a `multicast ff00::/8` route,
/// and with one link that is the interface (with several, it is whichever route wins, so a
/// program that cares names it: scope id or IPV6_MULTICAST_IF). What is really needed is a route, not a name: with no route, the
/// send fails with ENETUNREACH even with the interface named, and a join on "any" (index
/// 0) fails with ENODEV.
#[test]
fn ipv6_link_local_group_follows_the_route_unless_an_interface_is_named() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let (a, b) = (lan.host("a"), lan.host("b"));
    let g = group("[ff02::123]:7645");
    let group_v6 = match g.ip() {
        IpAddr::V6(ip) => ip,
        IpAddr::V4(_) => unreachable!(),
    };
    let on_b = b
        .listen_with(g, Listen::default().interface("eth0"))
        .unwrap();
    a.run(|| send_v6(SocketAddrV6::new(group_v6, 7645, 0, 0)))
        .unwrap();
    let heard = unmet(on_b.expect(1).within(SECOND));
    assert_eq!(heard[0].interface.name, "eth0");

    // No route at all: naming the interface does not help, joining on "any" fails.
    sh(
        a,
        "ip -6 route del multicast ff00::/8 dev eth0 table local; ip -6 route del default",
    );
    let eth0 = a.interface_index("eth0").unwrap();
    for scope in [0, eth0] {
        let sent = a.run(|| send_v6(SocketAddrV6::new(group_v6, 7645, 0, scope)));
        assert_eq!(
            sent.unwrap_err().raw_os_error(),
            Some(libc::ENETUNREACH),
            "scope {scope}"
        );
    }
    let join_any = a.run(|| {
        let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        socket.join_multicast_v6(&group_v6, 0)
    });
    assert_eq!(join_any.unwrap_err().raw_os_error(), Some(libc::ENODEV));
}

fn link_flags(host: &Host, name: &str) -> String {
    let line = sh(host, &format!("ip -o link show {name}"));
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(f, _)| f.to_owned())
        .unwrap_or_default()
}

/// IPv4 multicast over `lo` is delivered although `lo` lacks the MULTICAST flag: a route
/// (224.0.0.0/4 dev lo) is all it takes.
#[test]
fn ipv4_multicast_over_lo_works_without_the_multicast_flag() {
    let host = harness::or_skip!(Sandbox::new());
    assert!(!link_flags(&host, "lo").split(',').any(|f| f == "MULTICAST"));
    let g = group("224.1.1.1:5001");
    let listener = host.listen(g).unwrap();
    host.run(|| sender_v4().send_to(b"over lo", g.socket_addr()))
        .unwrap();
    let got = unmet(listener.expect(1).within(SECOND));
    assert_eq!(got[0].interface.name, "lo");
}

/// IPv6 multicast over `lo` is never delivered on this kernel. Without the MULTICAST flag
/// there is no `ff00::/8` route on `lo` and the send fails (ENETUNREACH); setting the flag
/// does not add one; with the flag *and* a route added by hand the send succeeds, but no
/// socket joined on `lo` receives it. The same socket joined on `eth0` does: IPv6 needs
/// a real link, which is why the harness sandbox has one.
#[test]
fn ipv6_multicast_over_lo_is_not_delivered_even_with_the_flag() {
    let host = harness::or_skip!(Sandbox::new());
    let g = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x124);
    let lo = host.interface_index("lo").unwrap();
    let eth0 = host.interface_index("eth0").unwrap();
    let receiver = host.run(|| {
        let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        socket.set_only_v6(true).unwrap();
        socket
            .bind(&SockAddr::from(SocketAddr::from((
                Ipv6Addr::UNSPECIFIED,
                7646,
            ))))
            .unwrap();
        socket
            .join_multicast_v6(&g, lo)
            .expect("joining on lo is accepted");
        socket.join_multicast_v6(&g, eth0).unwrap();
        socket.set_read_timeout(Some(QUIET)).unwrap();
        socket
    });

    let no_route = host.run(|| send_v6(SocketAddrV6::new(g, 7646, 0, lo)));
    assert_eq!(
        no_route.unwrap_err().raw_os_error(),
        Some(libc::ENETUNREACH)
    );

    sh(&host, "ip link set lo multicast on");
    assert!(link_flags(&host, "lo").split(',').any(|f| f == "MULTICAST"));
    let flag_only = host.run(|| send_v6(SocketAddrV6::new(g, 7646, 0, lo)));
    assert_eq!(
        flag_only.unwrap_err().raw_os_error(),
        Some(libc::ENETUNREACH)
    );

    sh(
        &host,
        "ip -6 route add multicast ff00::/8 dev lo table local",
    );
    host.run(|| send_v6(SocketAddrV6::new(g, 7646, 0, lo)))
        .expect("the send itself succeeds");
    let over_lo = receive_text(&receiver);
    assert_eq!(
        over_lo.unwrap_err().kind(),
        io::ErrorKind::WouldBlock,
        "nothing arrives over lo"
    );

    host.run(|| send_v6(SocketAddrV6::new(g, 7646, 0, eth0)))
        .unwrap();
    receiver.set_read_timeout(Some(SECOND)).unwrap();
    assert_eq!(
        receive_text(&receiver).unwrap(),
        "v6",
        "over eth0 it arrives"
    );
}

/// `CAP_NET_RAW`, bit 13 of the first word of a capability set (`<linux/capability.h>`).
const CAP_NET_RAW: u32 = 1 << 13;

/// Runs `f` on a new thread of the calling thread's namespaces whose *effective* capability
/// set lacks `CAP_NET_RAW` (capabilities belong to a thread on Linux, so the caller keeps
/// its own).
fn without_cap_net_raw<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut header = Header {
                    version: VERSION_3,
                    pid: 0,
                };
                let mut data = [Data::default(); 2];
                // SAFETY: capget/capset read and write one header and two data words, as
                // version 3 of the interface defines them.
                unsafe {
                    assert_eq!(
                        libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()),
                        0
                    );
                    data[0].effective &= !CAP_NET_RAW;
                    assert_eq!(libc::syscall(libc::SYS_capset, &header, data.as_ptr()), 0);
                }
                f()
            })
            .join()
            .unwrap()
    })
}

/// Since Linux 5.7, `SO_BINDTODEVICE` needs no `CAP_NET_RAW` on a socket not yet tied to a
/// device: a thread without the capability binds a fresh socket to `lo`, and its datagram
/// arrives on `lo`. Only moving a socket that is already bound to another device still
/// needs the capability (`EPERM`).
#[test]
fn bind_to_device_needs_no_cap_net_raw_on_a_socket_not_yet_bound() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("224.1.1.7:5007");
    let listener = host.listen(g).unwrap();
    let moved = host.run(|| {
        without_cap_net_raw(|| {
            let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
            socket
                .bind_device(Some(b"lo"))
                .expect("binding a fresh socket to lo");
            socket
                .send_to(b"bound to lo", &g.socket_addr().into())
                .unwrap();
            socket.bind_device(Some(b"eth0"))
        })
    });
    let got = unmet(listener.expect(1).within(SECOND));
    assert_eq!(
        (got[0].text(), got[0].interface.name.as_str()),
        ("bound to lo".to_owned(), "lo")
    );
    assert_eq!(moved.unwrap_err().raw_os_error(), Some(libc::EPERM));
}

// ---------------------------------------------------------------------------------------
// Which socket gets a datagram: wildcard binds, IP_MULTICAST_ALL, binding to the group
// ---------------------------------------------------------------------------------------

/// A socket joined to `join`, bound to `bind` (port shared with SO_REUSEADDR).
fn member_bound_to(bind: SocketAddr, join: Ipv4Addr) -> Socket {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket
        .join_multicast_v4(&join, &Ipv4Addr::UNSPECIFIED)
        .unwrap();
    socket.bind(&bind.into()).unwrap();
    socket.set_read_timeout(Some(QUIET)).unwrap();
    socket
}

/// Sends `for THEIRS` to group `theirs`, then `for MINE` to group `mine`, both to `port`.
/// From one thread over `lo` they arrive in that order, so a socket whose next datagram is
/// `for MINE` was not given `for THEIRS`.
fn send_theirs_then_mine(theirs: Ipv4Addr, mine: Ipv4Addr, port: u16) {
    for group in [theirs, mine] {
        sender_v4()
            .send_to(format!("for {group}").as_bytes(), (group, port))
            .unwrap();
    }
}

/// On Linux a socket bound to `0.0.0.0:port` also receives datagrams to that port for groups
/// that only *another* socket joined (IP_MULTICAST_ALL, on by default). Turning the
/// option off limits it to its own memberships.
#[test]
fn wildcard_socket_hears_groups_it_never_joined_until_multicast_all_is_off() {
    let host = harness::or_skip!(Sandbox::new());
    let (mine, theirs) = (Ipv4Addr::new(224, 1, 1, 20), Ipv4Addr::new(224, 1, 1, 10));
    let wildcard = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 7000));
    host.run(|| {
        let ours = member_bound_to(wildcard, mine);
        let _other_program = member_bound_to(wildcard, theirs);
        sender_v4()
            .send_to(b"for 224.1.1.10", (theirs, 7000))
            .unwrap();
        assert_eq!(receive_text(&ours).unwrap(), "for 224.1.1.10", "cross-talk");

        ours.set_multicast_all_v4(false).unwrap();
        send_theirs_then_mine(theirs, mine, 7000);
        assert_eq!(
            receive_text(&ours).unwrap(),
            "for 224.1.1.20",
            "only its own group now"
        );
    });
}

/// A join names a group and an interface, never a port: while any socket on the host is
/// joined to a group (here one that is not even bound), a datagram for that group reaches a
/// socket bound to the wildcard on the datagram's port, a socket that joined nothing; once
/// that join is dropped, the same datagram reaches nobody.
#[test]
fn a_join_has_no_port_so_any_sockets_join_lets_the_group_reach_a_wildcard_socket() {
    let host = harness::or_skip!(Sandbox::new());
    let g = Ipv4Addr::new(224, 1, 1, 30);
    host.run(|| {
        let ours = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        ours.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 7002)).into())
            .unwrap();
        ours.set_read_timeout(Some(QUIET)).unwrap();
        let unbound_member = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        unbound_member
            .join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)
            .unwrap();
        sender_v4().send_to(b"joined", (g, 7002)).unwrap();
        assert_eq!(receive_text(&ours).unwrap(), "joined");

        // Left explicitly rather than by closing the socket: a close releases it only once
        // no process holds it, and a program another test spawns at that moment holds a copy
        // of every descriptor of this process until it starts (seen once: "left" arrived).
        unbound_member
            .leave_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED)
            .unwrap();
        sender_v4().send_to(b"left", (g, 7002)).unwrap();
        assert_eq!(
            receive_text(&ours).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

/// Binding the group address instead of the wildcard makes the kernel deliver only
/// datagrams sent to that group, whatever other sockets joined (the Rust diary binds
/// this way on Unix).
#[test]
fn binding_to_the_group_filters_out_other_groups() {
    let host = harness::or_skip!(Sandbox::new());
    let (mine, theirs) = (Ipv4Addr::new(224, 1, 1, 21), Ipv4Addr::new(224, 1, 1, 11));
    host.run(|| {
        let ours = member_bound_to(SocketAddr::from((mine, 7001)), mine);
        let _other_program =
            member_bound_to(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 7001)), theirs);
        send_theirs_then_mine(theirs, mine, 7001);
        assert_eq!(receive_text(&ours).unwrap(), "for 224.1.1.21");
        assert_eq!(
            receive_text(&ours).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

// ---------------------------------------------------------------------------------------
// Fan-out cost (the C article's recommendation), from the fanout crate's measurements
// ---------------------------------------------------------------------------------------

/// Messages per `fanout run`: a burst whose every copy fits in each receiver's buffer.
const FANOUT_MESSAGES: u64 = 5000;
/// The receive buffer each receiver asks for. The kernel charges 832 bytes per queued
/// 64-byte datagram here (its `truesize`, as `/proc/net/udp`'s `rx_queue` shows), so 5000 of
/// them take about 4.2 MB, and the buffer is at least 8 MiB (twice what is asked, as root;
/// as an ordinary user, twice `net.core.rmem_max`, 4 MiB here): a receiver that gets no CPU
/// until the burst is over still loses no copy.
const FANOUT_RECEIVE_BUFFER: &str = "8M";

/// Sender CPU per delivered copy, in ns, of one `fanout run` in `mode` with 4 receivers,
/// the sender on CPU 0 and the receivers on the others (`--placement split`), so that a
/// receiver's work is not billed to the sender when they share a CPU. Every copy must be
/// delivered: a run that lost some would be no fair comparison.
fn fanout_cpu_per_delivery(host: &Host, fanout: &std::path::Path, mode: &str) -> f64 {
    let output = host
        .output(Command::new(fanout).args([
            "run",
            "-n",
            "4",
            "--messages",
            &FANOUT_MESSAGES.to_string(),
            "--receive-buffer",
            FANOUT_RECEIVE_BUFFER,
            "--mode",
            mode,
            "--placement",
            "split",
            "--json",
            "--quiet",
        ]))
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["worst_lost"], 0,
        "{mode}: a receiver lost copies of a burst its buffer holds whole: {report}"
    );
    report["cpu_per_delivery_ns"].as_f64().unwrap()
}

/// `rounds` figures of [`fanout_cpu_per_delivery`] in each mode, alternating.
fn fanout_rounds(host: &Host, fanout: &std::path::Path, rounds: usize) -> [Vec<f64>; 2] {
    let mut figures = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (slot, mode) in figures.iter_mut().zip(["multicast", "unicast"]) {
            slot.push(fanout_cpu_per_delivery(host, fanout, mode));
        }
    }
    figures
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Sending one multicast datagram to 4 local receivers costs the sender clearly less CPU per
/// delivered copy than sending 4 unicast datagrams (about half on the 2-CPU machine this was
/// written on). The modes alternate for 5 rounds and the medians are compared, asking for
/// at least 20% less, so that a burst of load from elsewhere hits both modes alike.
#[test]
fn multicast_fan_out_costs_the_sender_less_than_unicast() {
    let host = harness::or_skip!(Sandbox::new());
    let fanout = &docs::binaries::current_programs().unwrap().join("fanout");
    let [multicast, unicast] = fanout_rounds(&host, fanout, 5);
    let (m, u) = (median(multicast.clone()), median(unicast.clone()));
    assert!(
        m < 0.8 * u,
        "sender CPU per delivery (medians of 5): multicast {m:.0} ns, 4×unicast {u:.0} ns\n\
         multicast runs {multicast:.0?}\nunicast runs {unicast:.0?}"
    );
}

// ---------------------------------------------------------------------------------------
// TTL: 0 on the host or not, 1 on the segment, 2 across a multicast router
// ---------------------------------------------------------------------------------------

fn send_with_ttl(to: SocketAddr, text: &str, ttl: u32) -> io::Result<usize> {
    let socket = sender_v4();
    socket.set_multicast_ttl_v4(ttl)?;
    socket.send_to(text.as_bytes(), to)
}

/// TTL 0 alone does not keep a datagram on its host: sent from a host that is not a member
/// of the group, it goes out on the wire with TTL 0 and the other hosts of the segment
/// receive it (its output route is the plain `ip_output`, which never looks at the TTL).
#[test]
fn ttl_0_leaves_the_host_when_the_sender_is_not_a_member() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let g = group("239.0.0.40:5040");
    let on_b = lan.host("b").listen(g).unwrap();
    lan.host("a")
        .run(|| send_with_ttl(g.socket_addr(), "ttl 0", 0))
        .unwrap();
    let got = unmet(on_b.expect(1).within(SECOND));
    assert_eq!((got[0].text(), got[0].ttl), ("ttl 0".to_owned(), Some(0)));
    assert_eq!(got[0].source.ip(), IpAddr::V4(lan.host("a").ipv4()));
}

/// When the sending host is itself a member of the group on the outgoing interface, its
/// output route goes through `ip_mc_output`, which loops a copy back to the host's own
/// members and then drops a TTL 0 datagram before it is transmitted: a's member gets it,
/// b does not. (Every host is a member of 224.0.0.1, so TTL 0 to it always stays home.)
#[test]
fn ttl_0_stays_on_the_host_when_the_sender_is_a_member_on_that_interface() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let g = group("239.0.0.41:5041");
    let on_a = lan
        .host("a")
        .listen_with(g, Listen::default().interface("eth0"))
        .unwrap();
    let on_b = lan.host("b").listen(g).unwrap();
    lan.host("a")
        .run(|| send_with_ttl(g.socket_addr(), "ttl 0", 0))
        .unwrap();
    let at_home = unmet(on_a.expect(1).within(SECOND));
    assert_eq!(
        (at_home[0].text(), at_home[0].interface.name.as_str()),
        ("ttl 0".to_owned(), "eth0")
    );
    // b hears a's TTL 1 datagram, sent after the TTL 0 one, first.
    lan.host("a")
        .run(|| send_with_ttl(g.socket_addr(), "ttl 1", 1))
        .unwrap();
    assert_eq!(unmet(on_b.expect(1).within(SECOND))[0].text(), "ttl 1");
    unmet(on_b.expect_none(QUIET));
}

/// TTL 1 keeps a datagram on the sender's segment; TTL 2 crosses a multicast router that
/// forwards the group, and arrives on the far segment with TTL 1 (the router decrements it).
/// The Python article's explanation of `IP_MULTICAST_TTL`, and the Ruby article's reason
/// for setting it to 1.
#[test]
fn ttl_1_stays_on_the_segment_while_ttl_2_crosses_a_multicast_router() {
    let net = harness::or_skip!(harness::Routed::new(["a1", "a2"], ["b1"]));
    let (a1, a2, b1) = (net.host("a1"), net.host("a2"), net.host("b1"));
    let g = group("239.2.2.2:5002");
    let IpAddr::V4(group_v4) = g.ip() else {
        unreachable!()
    };
    harness::or_skip!(net.forward(a1.ipv4(), group_v4));
    let near = a2.listen(g).unwrap();
    let far = b1.listen(g).unwrap();

    a1.run(|| send_with_ttl(g.socket_addr(), "ttl 1", 1))
        .unwrap();
    a1.run(|| send_with_ttl(g.socket_addr(), "ttl 2", 2))
        .unwrap();

    let on_a2 = unmet(near.expect(2).within(SECOND));
    let seen: Vec<(String, Option<u8>)> = on_a2.iter().map(|d| (d.text(), d.ttl)).collect();
    assert_eq!(seen, [("ttl 1".into(), Some(1)), ("ttl 2".into(), Some(2))]);
    // The first datagram to reach b1 is the TTL 2 one, sent after the TTL 1 one.
    let on_b1 = unmet(far.expect(1).within(SECOND));
    assert_eq!(
        (on_b1[0].text(), on_b1[0].ttl),
        ("ttl 2".to_owned(), Some(1))
    );
    assert_eq!(on_b1[0].source.ip(), IpAddr::V4(a1.ipv4()));
    unmet(far.expect_none(QUIET));
}

/// Groups in 224.0.0.0/24 (the local network control block) are never forwarded, whatever
/// the TTL and even with a forwarding entry for them: the Ruby article's 224.0.0.1 and the
/// diary's 224.0.0.123 cannot leave the segment.
#[test]
fn local_network_control_groups_are_not_forwarded_even_with_a_large_ttl() {
    let net = harness::or_skip!(harness::Routed::new(["a1", "a2"], ["b1"]));
    let (a1, a2, b1) = (net.host("a1"), net.host("a2"), net.host("b1"));
    let g = group("224.0.0.123:7645");
    harness::or_skip!(net.forward(a1.ipv4(), Ipv4Addr::new(224, 0, 0, 123)));
    let near = a2.listen(g).unwrap();
    let far = b1.listen(g).unwrap();
    a1.run(|| send_with_ttl(g.socket_addr(), "ttl 32", 32))
        .unwrap();
    assert_eq!(unmet(near.expect(1).within(SECOND))[0].ttl, Some(32));
    unmet(far.expect_none(QUIET));
}

// ---------------------------------------------------------------------------------------
// "All interfaces", and the articles' addresses and packing
// ---------------------------------------------------------------------------------------

/// The interfaces under which `/proc/net/igmp` lists `hex` (a group as the kernel writes it).
fn igmp_devices(igmp: &str, hex: &str) -> Vec<String> {
    let mut device = "";
    let mut devices = Vec::new();
    for line in igmp.lines().skip(1) {
        if !line.starts_with('\t') {
            device = line.split_whitespace().nth(1).unwrap_or("");
        } else if line.split_whitespace().next() == Some(hex) {
            devices.push(device.to_owned());
        }
    }
    devices
}

/// Joining on INADDR_ANY (the Python article's "all interfaces", the diary's 0.0.0.0) joins
/// on *one* interface: the one the route to the group leaves by. On a host with two (the
/// router of a routed topology), the group appears under that interface only, and a datagram
/// for it that arrives on the other is not delivered. Move the route and a new join follows.
/// IPv6's interface index 0 does the same.
#[test]
fn joining_on_inaddr_any_joins_the_one_interface_the_route_picks() {
    let net = harness::or_skip!(harness::Routed::new(["a1"], ["b1"]));
    let router = net.router();
    let g = Ipv4Addr::new(239, 3, 3, 3);
    let hex = "030303EF";
    router.add_route("239.3.3.0/24", "eth0").unwrap();
    let member = router.run(|| bound_receiver(6003, g, None).unwrap());
    let igmp = sh(router, "cat /proc/net/igmp");
    assert_eq!(igmp_devices(&igmp, hex), ["eth0"], "{igmp}");

    let on_eth1 = router.capture("eth1").unwrap();
    net.host("b1")
        .run(|| sender_v4().send_to(b"arrived on eth1", (g, 6003)))
        .unwrap();
    unmet(on_eth1.wait_for_udp(|u| u.payload == b"arrived on eth1", SECOND));
    net.host("a1")
        .run(|| sender_v4().send_to(b"arrived on eth0", (g, 6003)))
        .unwrap();
    assert_eq!(
        receive_text(&member).unwrap(),
        "arrived on eth0",
        "the datagram that arrived on eth1 was not delivered"
    );
    drop(member);

    sh(router, "ip route replace 239.3.3.0/24 dev eth1");
    let _member = router.run(|| bound_receiver(6003, g, None).unwrap());
    let igmp = sh(router, "cat /proc/net/igmp");
    assert_eq!(igmp_devices(&igmp, hex), ["eth1"], "{igmp}");

    // IPv6, interface index 0 (the diary's join): one interface too, the route's.
    let g6 = Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 3, 3);
    let hex6 = "ff150000000000000000000000030003";
    for interface in ["eth0", "eth1"] {
        sh(
            router,
            &format!("ip -6 route replace multicast ff15::3:3/128 dev {interface} table local"),
        );
        let _member = router.run(|| {
            let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
            socket.join_multicast_v6(&g6, 0).unwrap();
            socket
        });
        let igmp6 = sh(router, "cat /proc/net/igmp6");
        let devices: Vec<&str> = igmp6
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .filter(|fields| fields.get(2) == Some(&hex6))
            .map(|fields| fields[1])
            .collect();
        assert_eq!(devices, [interface], "{igmp6}");
    }
}

/// The diary's example of an IPv6 multicast address, `FACE::FB`, is not one: IPv6 multicast
/// is ff00::/8 and FACE::FB begins with 0xfa. The kernel refuses to join it (EINVAL). The
/// IPv6 counterpart of its IPv4 example 224.0.0.251 (mDNS) is ff02::fb.
#[test]
fn diary_face_fb_is_not_a_multicast_address() {
    let face: Ipv6Addr = "FACE::FB".parse().unwrap();
    assert_eq!(face, Ipv6Addr::new(0xface, 0, 0, 0, 0, 0, 0, 0xfb));
    assert!(!face.is_multicast());
    assert!(Group::parse("[face::fb]:5353").is_err());
    let mdns: Ipv6Addr = "ff02::fb".parse().unwrap();
    assert!(mdns.is_multicast());

    let host = harness::or_skip!(Sandbox::new());
    let eth0 = host.interface_index("eth0").unwrap();
    let join = |group: Ipv6Addr| {
        host.run(move || {
            let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
            socket.join_multicast_v6(&group, eth0)
        })
    };
    assert_eq!(join(face).unwrap_err().raw_os_error(), Some(libc::EINVAL));
    join(mdns).expect("ff02::fb is joined");
}

/// The Python article's receiver, with its membership value.
const PYTHON_JOIN: &str = "
import socket, struct
group = socket.inet_aton('224.3.29.71')
mreq = struct.pack('4sL', group, socket.INADDR_ANY)
print(len(mreq), mreq.hex())
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
print(open('/proc/net/igmp').read())
";

/// The Python article calls its `IP_ADD_MEMBERSHIP` value "8-byte"; `struct.pack('4sL',
/// group, INADDR_ANY)` is 16 bytes on 64-bit Linux: `L` is a native `unsigned long` (8
/// bytes), aligned to 8 after 4 bytes of padding. The join works anyway: the kernel reads 16
/// bytes as `struct ip_mreqn` (group, local address, interface index), and padding and the
/// zero long make that "any address, no index".
#[test]
fn python_membership_value_is_16_bytes_on_64_bit_linux_and_still_joins() {
    let python3 = harness::or_skip!(harness::tool(harness::Capability::Python3));
    let host = harness::or_skip!(Sandbox::new());
    let output = host
        .output(Command::new(python3).arg("-c").arg(PYTHON_JOIN))
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let first = text.lines().next().unwrap_or_default();
    let expected = if cfg!(target_pointer_width = "64") {
        "16 e0031d47000000000000000000000000"
    } else {
        "8 e0031d4700000000"
    };
    assert_eq!(first, expected);
    assert_eq!(igmp_devices(&text, "471D03E0"), ["lo"], "{text}");
}

// ---------------------------------------------------------------------------------------
// What a new namespace starts with
// ---------------------------------------------------------------------------------------

/// The `rp_filter` values (`all`, `default`) of the namespace that reads them.
const READ_RP_FILTER: &str =
    "cat /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/default/rp_filter";

/// A new network namespace starts with the IPv4 settings of the machine's initial namespace
/// (`net.core.devconf_inherit_init_net` is 0 by default), not with the kernel's defaults and
/// not with those of the namespace that made it: a sandbox reads the machine's `rp_filter`
/// (2 on Ubuntu and Debian), and a namespace made inside a sandbox whose value was changed
/// reads the machine's again. The machine's values are read by this test process before it
/// enters any namespace (reading is harmless), so it assumes the test runs in the machine's
/// own namespace, not in a container's.
#[test]
fn a_new_namespace_copies_rp_filter_from_the_initial_namespace() {
    let machine = String::from_utf8(
        Command::new("sh")
            .arg("-c")
            .arg(READ_RP_FILTER)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let host = harness::or_skip!(Sandbox::new());
    assert_eq!(
        sh(&host, READ_RP_FILTER),
        machine,
        "a sandbox starts with the machine's values"
    );

    let all: u8 = machine.lines().next().unwrap().trim().parse().unwrap();
    let changed = (all + 1) % 3;
    sh(
        &host,
        &format!("sysctl -qw net.ipv4.conf.all.rp_filter={changed}"),
    );
    assert_eq!(
        sh(&host, READ_RP_FILTER).lines().next(),
        Some(changed.to_string().as_str())
    );
    let nested = sh(&host, &format!("unshare --net {READ_RP_FILTER}"));
    assert_eq!(
        nested, machine,
        "a namespace made in the sandbox copies the machine's, not the sandbox's"
    );
}
