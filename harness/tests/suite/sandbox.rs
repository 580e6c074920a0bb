//! What one sandbox gives a test: IPv4 multicast over `lo`, IPv6 over `eth0`, replies that
//! find their way back, and a network that nothing outside can see.

use std::net::{IpAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use crate::common;
use common::{receive, send};
use harness::{Datagram, Direction, Group, Listen, Listener, SANDBOX_IPV4, Sandbox};

const DEADLINE: Duration = Duration::from_secs(5);

fn group(text: &str) -> Group {
    Group::parse(text).unwrap()
}

/// IPv4 multicast in a sandbox goes out and comes back on `lo`, from the sandbox's address,
/// and the listener sees the group as destination and the TTL it was sent with.
#[test]
fn ipv4_multicast_arrives_on_lo_with_group_source_and_ttl() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("224.6.8.11:6811");
    let rx = host.listen(g).unwrap();
    host.run(|| send(g, b"hello", 3));
    let got = rx.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].payload, b"hello");
    assert_eq!(got[0].interface.name, "lo");
    assert_eq!(got[0].interface.index, 1);
    assert_eq!(got[0].destination, g.ip());
    assert_eq!(got[0].source.ip(), IpAddr::V4(SANDBOX_IPV4));
    assert_eq!(got[0].ttl, Some(3));
    assert!(!got[0].truncated);
}

/// A datagram's `received_at` is the kernel's stamp of its arrival (`SO_TIMESTAMPNS`), not
/// the time the listener's thread read it: the very instant a capture on `lo` stamped the
/// incoming frame that carried it, since both read the same stamp off the same packet.
#[test]
fn received_at_is_the_kernels_arrival_stamp() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("224.6.8.12:6812");
    let rx = host.listen(g).unwrap();
    let capture = host.capture("lo").unwrap();
    let before = std::time::SystemTime::now();
    host.run(|| send(g, b"stamped", 1));
    let got = rx.expect(1).within(DEADLINE).unwrap();
    let frame = capture
        .wait_for_udp(
            |u| u.payload == b"stamped" && u.direction == Direction::Incoming,
            DEADLINE,
        )
        .unwrap();
    let stamped = capture
        .frames()
        .into_iter()
        .find(|f| f.udp().as_ref() == Some(&frame))
        .expect("the frame the capture decoded");
    assert!(before <= got[0].received_at, "stamped before it was sent");
    assert_eq!(got[0].received_at, stamped.time);
}

/// IPv6 multicast is never delivered over `lo`, so the sandbox carries it on its `eth0`,
/// ready at once (no tentative address), with a link-local source.
#[test]
fn ipv6_multicast_arrives_on_eth0_at_once() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("[ff02::123]:7645");
    let rx = host.listen(g).unwrap();
    assert_eq!(rx.joined_on(), ["eth0"]);
    host.run(|| send(g, b"hello six", 1));
    let got = rx.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "hello six");
    assert_eq!(got[0].interface.name, "eth0");
    assert_eq!(got[0].destination, g.ip());
    assert_eq!(got[0].ttl, Some(1));
    match got[0].source.ip() {
        IpAddr::V6(source) => assert!(source.is_unicast_link_local(), "source {source}"),
        other => panic!("IPv4 source {other} for an IPv6 group"),
    }
}

/// A receiver can answer the source address of a multicast datagram: the sandbox's global
/// address makes the round trip work (with only 127.0.0.1 the source would be 0.0.0.0).
#[test]
fn a_reply_to_the_multicast_source_reaches_the_sender() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("224.3.29.71:10000");
    let rx = host.listen(g).unwrap();
    let reply = host.run(|| {
        let sender = UdpSocket::bind("0.0.0.0:0").unwrap();
        sender
            .send_to(b"very important data", g.socket_addr())
            .unwrap();
        let got = rx.expect(1).within(DEADLINE).unwrap();
        let answer = UdpSocket::bind("0.0.0.0:0").unwrap();
        answer.send_to(b"ack", got[0].source).unwrap();
        receive(&sender, DEADLINE)
    });
    assert_eq!(reply, (b"ack".to_vec(), IpAddr::V4(SANDBOX_IPV4)));
}

/// Code run with `run` and processes started with `spawn` see the sandbox's interfaces, not
/// the machine's.
#[test]
fn run_and_spawn_see_only_the_sandbox_network() {
    let host = harness::or_skip!(Sandbox::new());
    let mut names: Vec<String> = host.run(|| {
        nix::net::if_::if_nameindex()
            .unwrap()
            .iter()
            .map(|i| i.name().to_string_lossy().into_owned())
            .collect()
    });
    names.sort();
    assert_eq!(names, ["eth0", "lo"]);
    let output = host
        .output(Command::new("cat").arg("/proc/self/net/dev"))
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut seen: Vec<&str> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    seen.sort();
    assert_eq!(seen, ["eth0", "lo"]);
}

/// A listener joined on one named interface gets only what arrives there.
#[test]
fn a_listener_joined_on_one_interface_ignores_the_others() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("239.9.9.9:4000");
    let on_eth0 = host
        .listen_with(g, Listen::default().interface("eth0"))
        .unwrap();
    assert_eq!(on_eth0.joined_on(), ["eth0"]);
    // The route sends IPv4 multicast over lo, where on_eth0 has no membership.
    host.run(|| send(g, b"via lo", 1));
    on_eth0.expect_none(Duration::from_millis(200)).unwrap();
}

/// With a member of `other` on `host` (so datagrams to `other` do reach the host), sends one
/// to `other` and then `payload` to `wanted`; checks that each of `listeners` hears only
/// `payload` and returns what the first heard.
fn only_the_wanted_group_is_heard(
    host: &Sandbox,
    listeners: &[&Listener],
    wanted: Group,
    other: Group,
    payload: &[u8],
) -> Datagram {
    let _other_member = host.listen(other).unwrap();
    host.run(|| {
        send(other, b"for the other group", 1);
        send(wanted, payload, 1);
    });
    let heard: Vec<Datagram> = listeners
        .iter()
        .map(|rx| {
            let got = rx.expect(1).within(DEADLINE).unwrap();
            assert_eq!(got[0].payload, payload);
            rx.expect_none(Duration::from_millis(100)).unwrap();
            got[0].clone()
        })
        .collect();
    heard[0].clone()
}

/// A group-bound listener hears its group only; the wildcard listener with
/// IP_MULTICAST_ALL off hears only the groups it joined as well.
#[test]
fn listeners_hear_only_their_own_group() {
    let host = harness::or_skip!(Sandbox::new());
    let wanted = group("239.1.1.1:4100");
    let bound = host
        .listen_with(wanted, Listen::default().bind_to_group())
        .unwrap();
    let wildcard = host.listen(wanted).unwrap();
    only_the_wanted_group_is_heard(
        &host,
        &[&bound, &wildcard],
        wanted,
        group("239.1.1.2:4100"),
        b"for you",
    );
}

/// Binding a link-local IPv6 group needs a scope: the listener binds it on its interface.
#[test]
fn a_link_local_ipv6_group_can_be_bound_on_its_interface() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("[ff02::1:7]:4500");
    let bound = host
        .listen_with(g, Listen::default().interface("eth0").bind_to_group())
        .unwrap();
    let got =
        only_the_wanted_group_is_heard(&host, &[&bound], g, group("[ff02::1:8]:4500"), b"scoped");
    assert_eq!(got.interface.name, "eth0");
}

/// An unmet expectation says what was expected, what did arrive and where, and shows the
/// host's memberships.
#[test]
fn an_unmet_expectation_lists_arrivals_and_memberships() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("239.2.2.2:4200");
    let rx = host.listen(g).unwrap();
    host.run(|| send(g, b"only one", 1));
    let error = rx
        .expect(2)
        .within(Duration::from_millis(300))
        .unwrap_err()
        .to_string();
    assert!(error.contains("expected 2 more datagram(s)"), "{error}");
    assert!(error.contains("\"only one\""), "{error}");
    assert!(error.contains("on lo (index 1)"), "{error}");
    assert!(error.contains("239.2.2.2"), "memberships missing: {error}");
    assert!(error.contains("224.0.0.0/4"), "routes missing: {error}");
}

/// An empty datagram is recorded as one; the listener does not mistake its zero length for
/// the shutdown that stops it.
#[test]
fn an_empty_datagram_is_recorded_not_mistaken_for_shutdown() {
    let host = harness::or_skip!(Sandbox::new());
    let g = group("239.3.3.3:4300");
    let rx = host.listen(g).unwrap();
    host.run(|| {
        send(g, b"", 1);
        send(g, b"after", 1);
    });
    let got = rx.expect(2).within(DEADLINE).unwrap();
    assert_eq!(got[0].payload, b"");
    assert_eq!(got[1].payload, b"after");
}

/// The processes of one namespace, found through `/proc` (their `ns/net` link).
fn processes_in(inode: u64) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|link| link.to_string_lossy() == format!("net:[{inode}]"))
        })
        .collect()
}

/// A shell a test started in a host, with a pipeline and a background job of its own, is
/// gone, all of it, once the host's network is dropped: nothing outlives the test.
#[test]
// The shell is waited for at the end; a failed assertion ends the test first, which is
// what the lint is about, and kills it with everything else in the namespace.
#[allow(clippy::zombie_processes)]
fn pipelines_and_background_jobs_die_with_the_sandbox() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let inode = sandbox.namespace_inode();
    let mut shell = sandbox
        .spawn(
            Command::new("sh")
                .args(["-c", "sleep 100 | cat & sleep 100 & echo started; wait"])
                .stdout(std::process::Stdio::piped()),
        )
        .unwrap();
    // Once the shell printed, it has started the pipeline and the job.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(shell.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "started\n");
    let deadline = std::time::Instant::now() + DEADLINE;
    while processes_in(inode).len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            processes_in(inode)
        );
        std::thread::yield_now();
    }
    let started = processes_in(inode);
    drop(sandbox);
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let alive: Vec<u32> = started
            .iter()
            .copied()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| !stat.contains(") Z "))
            })
            .collect();
        if alive.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running: {alive:?}"
        );
        std::thread::yield_now();
    }
}
