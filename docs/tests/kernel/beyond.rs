//! The "Beyond the articles" chapters' tested answers: what the wire shows on a join, a
//! leave and a query (`on-the-wire.md`), a sender with two network cards (`two-cards.md`),
//! and the troubleshooting cases a lab can show (`troubleshooting.md`).
//!
//! Each test runs the command lines its chapter shows, as a lab shell runs them (`bash -c`
//! in the host, the workspace's programs first on `PATH`), in a network of the shape the
//! chapter describes, and compares what they print, or what `tshark` reads from the
//! capture, with the block the chapter shows (`[..]` and `...` as in a walkthrough). The
//! chapters' lines are found by [`shown`]: a test cannot drift from its chapter.

// The harness's pcap test helpers: where a test may write its scratch files.
#[allow(dead_code)]
#[path = "../../../harness/tests/common/pcap.rs"]
mod pcap;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use socket2::InterfaceIndexOrAddress::Index;
use socket2::{Domain, Socket, Type};

use harness::{Capability, Capture, Frame, Host, Lan, Routed, Running, Sandbox};

/// Only a failure waits this long.
const DEADLINE: Duration = Duration::from_secs(10);

fn chapter(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the `text` block that follows the marker `<!-- shown: NAME -->` in `file`.
fn shown(file: &str, name: &str) -> Vec<String> {
    let text = chapter(file);
    let marker = format!("<!-- shown: {name} -->");
    let after = text
        .split_once(&marker)
        .unwrap_or_else(|| panic!("{file} has no `{marker}`"))
        .1;
    let block = after
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .unwrap_or_else(|| panic!("{file}: no ```text block after `{marker}`"))
        .0;
    block.lines().map(str::to_owned).collect()
}

/// Panics unless `file` tells the reader to type `line`.
fn told(file: &str, line: &str) {
    // A long line is shown on several, each but the last ending in ` \`.
    let text = chapter(file).replace(" \\\n  ", " ");
    assert!(text.contains(line), "{file} must show the command `{line}`");
}

/// `line` as a lab shell in `host` runs it: `bash -c`, the workspace's programs on `PATH`.
fn typed(line: &str) -> Command {
    let bin = docs::binaries::current_programs().unwrap_or_else(|e| panic!("{e}"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(line)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    command
}

/// Runs `line` in `host` to the end; its stdout and stderr, and whether it succeeded.
fn run(host: &Host, line: &str) -> (bool, String) {
    let out = host.output(&mut typed(line)).expect("bash runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The IGMP message inside an IPv4 frame, if it carries one.
fn igmp(frame: &Frame) -> Option<&[u8]> {
    let b = &frame.bytes;
    if b.len() < 14 + 20 || b[12..14] != [0x08, 0x00] || b[14 + 9] != 2 {
        return None;
    }
    b.get(14 + usize::from(b[14] & 0x0f) * 4..)
}

/// The group records of an IGMPv3 report (type 0x22): (record type, group) for each. RFC 3376
/// section 4.2.12: 4, "change to exclude" an empty list, is a join; 3, "change to include" an
/// empty list, a leave; 5 and 6 allow and block sources.
fn igmpv3_records(frame: &Frame) -> Vec<(u8, Ipv4Addr)> {
    let Some(igmp) = igmp(frame).filter(|m| m.len() >= 8 && m[0] == 0x22) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    let mut at = 8;
    while let Some(record) = igmp.get(at..at + 8) {
        let sources = usize::from(u16::from_be_bytes([record[2], record[3]]));
        records.push((
            record[0],
            Ipv4Addr::new(record[4], record[5], record[6], record[7]),
        ));
        at += 8 + 4 * sources + 4 * usize::from(record[1]);
    }
    records
}

/// The address records of an MLDv2 report (ICMPv6 type 143, after the hop-by-hop header
/// every MLD message carries): (record type, group) for each, numbered as IGMPv3's (RFC 3810
/// section 5.2.12).
fn mldv2_records(frame: &Frame) -> Vec<(u8, Ipv6Addr)> {
    let b = &frame.bytes;
    if b.len() < 14 + 40 + 8 || b[12..14] != [0x86, 0xdd] || b[14 + 6] != 0 {
        return Vec::new();
    }
    let hop_by_hop = 14 + 40;
    let icmp = hop_by_hop + (usize::from(b[hop_by_hop + 1]) + 1) * 8;
    let Some(message) = b.get(icmp..).filter(|m| m.len() >= 8 && m[0] == 143) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    let mut at = 8;
    while let Some(record) = message.get(at..at + 20) {
        let sources = usize::from(u16::from_be_bytes([record[2], record[3]]));
        let group: [u8; 16] = record[4..20].try_into().expect("16 bytes");
        records.push((record[0], Ipv6Addr::from(group)));
        at += 20 + 16 * sources + 4 * usize::from(record[1]);
    }
    records
}

/// How many frames of `capture` hold a record `(record_type, group)`, IGMPv3 or MLDv2.
fn reports(capture: &Capture, record_type: u8, group: IpAddr) -> usize {
    capture
        .frames()
        .iter()
        .filter(|frame| match group {
            IpAddr::V4(g) => igmpv3_records(frame).contains(&(record_type, g)),
            IpAddr::V6(g) => mldv2_records(frame).contains(&(record_type, g)),
        })
        .count()
}

/// A scratch pcap path for this test: under cargo's `target/tmp`, or the machine's `/tmp`
/// where that is not ours to write (the harness's own pcap tests' rule).
fn scratch(name: &str) -> PathBuf {
    pcap::scratch(&format!("beyond-{name}.pcap"))
}

/// `tshark` run on `pcap` with the command line `line` (`FILE` standing for the file), or
/// `None` after a `skipped:` line where tshark is not installed.
fn tshark(pcap: &Path, line: &str) -> Option<String> {
    let tshark = harness::skip_unless_available(harness::tool(Capability::Tshark))?;
    let line = line
        .replacen("tshark", &tshark.to_string_lossy(), 1)
        .replace("FILE", &pcap.to_string_lossy());
    let out = Command::new("bash")
        .arg("-c")
        .arg(&line)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(pcap);
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A querier asks every host on the segment, now and then, which groups it wants (a general
/// query, to 224.0.0.1), and each member answers with the state of each group ("is exclude
/// {}": any source, record type 2). The segment is the snooping chapter's: a bridge `br0` in
/// one sandbox, host m's `lan0` plugged into it; the bridge becomes querier (IGMPv3) once m
/// has joined, and its first query goes out at once.
#[test]
fn a_general_query_is_answered_with_the_groups_state() {
    let bridge = harness::or_skip!(Sandbox::new());
    let m = Sandbox::new().unwrap();
    // A process in the bridge's namespace, so that `ip link ... netns PID` can name it.
    let holder = Holder(
        bridge
            .spawn(Command::new("sleep").arg("600"))
            .expect("sleep runs"),
    );
    sh(
        &bridge,
        // Members answer a query at a random time within its Max Resp Time, the bridge's
        // query response interval: 10 s unless set, 0.5 s here (in hundredths of a second).
        "ip link add br0 type bridge mcast_snooping 1 mcast_igmp_version 3 \
         mcast_query_response_interval 50 && ip link set br0 up",
    );
    sh(
        &m,
        &format!(
            "ip link add lan0 type veth peer name p-m netns {} && ip addr add 10.1.0.2/24 dev lan0 && ip link set lan0 up",
            holder.0.id()
        ),
    );
    sh(&bridge, "ip link set p-m master br0 up");
    quick_repeats(&m, "lan0");
    let capture = m.capture("lan0").unwrap();
    let line = "receive --group 239.1.2.3 --interface lan0";
    told(WIRE, line);
    let group = IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3));
    let _receiver = Running::start(&m, &mut typed(line)).unwrap();
    wait_until(|| reports(&capture, 4, group) >= 2, || "two joins".into());
    sh(&bridge, "ip link set br0 type bridge mcast_querier 1");
    wait_until(
        || reports(&capture, 2, group) >= 1,
        || "an answer to the query".into(),
    );
    let path = scratch("query");
    capture.write_pcap(&path).unwrap();
    let read = TSHARK_QUERY;
    told(WIRE, &read.replace("FILE", "query.pcap"));
    let Some(out) = tshark(&path, read) else {
        return;
    };
    matches_the_book(WIRE, "query", &out);
}

/// A child process that is killed and reaped when the test ends, however it ends.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a shell script inside `host`; panics with its output if it fails.
fn sh(host: &Host, script: &str) {
    let out = host
        .output(Command::new("sh").arg("-c").arg(script))
        .expect("sh runs");
    assert!(
        out.status.success(),
        "`{script}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const CARDS: &str = "two-cards.md";

/// Host r has two cards: `eth0` on segment 1 (with a, and r's default route) and `eth1` on
/// segment 2 (with b). A datagram to a group leaves by the card the route to the group
/// names, the default route's `eth0`, so a hears it and b does not; with `--interface eth1`
/// (`IP_MULTICAST_IF`) it leaves by `eth1`, from r's address there, and only b hears it.
/// After the chapter's two sends, one more through each card shows that nothing else came:
/// each receiver's next line is that one, not the other card's datagram.
#[test]
fn a_sender_with_two_cards_uses_the_default_route_unless_told() {
    let net = harness::or_skip!(Routed::with_segments([["a", "r"], ["b", "r"]]));
    let listen = "receive --verbose --group 239.1.2.3";
    told(CARDS, listen);
    let on = |host: &str| {
        let mut receiver = Running::start(net.host(host), &mut typed(listen)).unwrap();
        receiver
            .wait_for_stderr(|l| l.ends_with("waiting"), Instant::now() + DEADLINE)
            .unwrap_or_else(|e| panic!("{e}"));
        receiver
    };
    let (mut on_a, mut on_b) = (on("a"), on("b"));
    let r = net.host("r");
    for line in [
        "send --group 239.1.2.3 'no card named'",
        "send --group 239.1.2.3 --interface eth1 'eth1 named'",
    ] {
        told(CARDS, line);
        let (ok, out) = run(r, line);
        assert!(ok && out.is_empty(), "{line}: {out}");
    }
    run(r, "send --group 239.1.2.3 --interface eth0 'end of a'");
    run(r, "send --group 239.1.2.3 --interface eth1 'end of b'");
    let next = |receiver: &mut Running| {
        receiver
            .next_line(Instant::now() + DEADLINE)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let (first_a, first_b) = (next(&mut on_a), next(&mut on_b));
    matches_the_book(CARDS, "on-a", &first_a);
    matches_the_book(CARDS, "on-b", &first_b);
    assert!(
        next(&mut on_a).ends_with(": end of a"),
        "a heard more: {:?}",
        on_a.seen()
    );
    assert!(
        next(&mut on_b).ends_with(": end of b"),
        "b heard more: {:?}",
        on_b.seen()
    );
}

const TROUBLE: &str = "troubleshooting.md";

/// A receiver that stops reading (Ctrl-Z here; a slow program, a full disk or a busy CPU
/// elsewhere) keeps its membership, and the kernel queues what arrives in its receive buffer
/// until the buffer is full; from then on every datagram is dropped and counted in
/// `UdpRcvbufErrors`. When it reads again it gets the first k datagrams of the burst, in
/// order, and never the rest: k + the drops is the burst.
#[test]
fn a_receiver_that_stops_reading_loses_what_its_buffer_cannot_hold() {
    let host = harness::or_skip!(Sandbox::new());
    let (receive, counter, burst) = (
        "receive --verbose --group 239.1.2.3",
        "nstat -asz UdpRcvbufErrors",
        "for i in $(seq 500); do send --group 239.1.2.3 \"number $i\"; done",
    );
    for line in [receive, counter, burst] {
        told(TROUBLE, line);
    }
    // The burst must not fit the buffer a socket gets by default: 500 short datagrams take
    // about 400 KiB of it (each is charged its whole kernel buffer), the usual default is
    // 208 KiB. A machine tuned for bulk UDP may give every socket megabytes.
    let default = host
        .run(|| std::fs::read_to_string("/proc/sys/net/core/rmem_default"))
        .ok()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if default > 300 << 10 {
        harness::skip_because(&format!(
            "a_receiver_that_stops_reading_loses_what_its_buffer_cannot_hold: \
             net.core.rmem_default is {default} bytes here, room for the whole burst"
        ));
        return;
    }
    let mut receiver = Running::start(&host, &mut typed(receive)).unwrap();
    receiver
        .wait_for_stderr(|l| l.ends_with("waiting"), Instant::now() + DEADLINE)
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = receiver.pid() as libc::pid_t;
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let drops = || {
        let (ok, out) = run(&host, counter);
        assert!(ok, "{out}");
        matches_the_book(TROUBLE, "nstat", &out);
        out.lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<usize>().ok())
            .expect("a count")
    };
    assert_eq!(drops(), 0, "nothing dropped yet");
    let (ok, out) = run(&host, burst);
    assert!(ok && out.is_empty(), "{out}");
    let dropped = drops();
    if dropped == 0 {
        // Say what the receiver was doing and what the kernel counted instead.
        let state = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("State:"))
                    .map(str::to_owned)
            });
        panic!(
            "the burst fitted in the buffer: nothing to show; the receiver: {:?}, {state:?}; \
             UDP counters: {}",
            receiver.try_wait(),
            run(&host, "nstat -asz 'Udp*'").1
        );
    }
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let kept = 500 - dropped;
    for i in 1..=kept {
        let line = receiver
            .next_line(Instant::now() + DEADLINE)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            line.ends_with(&format!(" on lo: number {i}")),
            "datagram {i} of the {kept} kept ({dropped} dropped): {line}"
        );
    }
    let more = receiver.lines_within(Duration::from_millis(200));
    assert!(
        more.is_empty(),
        "{kept} kept, {dropped} dropped, and then {more:?}"
    );
}

/// On Linux a socket receives a datagram only if the address it is bound to is the
/// datagram's destination (or the wildcard). Three sockets on host b join 239.1.2.3 on
/// `eth0` and bind port 5000: to b's own address, to the group, and to 0.0.0.0. a sends to
/// the group, then to b's address by unicast: the group- and wildcard-bound sockets get the
/// first, and the socket bound to b's address gets only the second.
#[test]
fn a_socket_bound_to_the_cards_address_receives_no_multicast() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let b = lan.host("b");
    let eth0 = b.interface_index("eth0").unwrap();
    let sockets = b
        .run(|| -> std::io::Result<Vec<std::net::UdpSocket>> {
            let group = Ipv4Addr::new(239, 1, 2, 3);
            let mut sockets = Vec::new();
            for address in [Ipv4Addr::new(10, 0, 0, 2), group, Ipv4Addr::UNSPECIFIED] {
                // ANCHOR: bind
                let socket = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
                socket.set_reuse_address(true)?;
                socket.bind(&SocketAddr::from((address, 5000)).into())?;
                socket.join_multicast_v4_n(&group, &Index(eth0))?;
                // ANCHOR_END: bind
                socket.set_read_timeout(Some(DEADLINE))?;
                sockets.push(socket.into());
            }
            Ok(sockets)
        })
        .unwrap();
    lan.host("a").run(|| {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        socket.send_to(b"to the group", "239.1.2.3:5000").unwrap();
        socket.send_to(b"to b by unicast", "10.0.0.2:5000").unwrap();
    });
    let first = |socket: &std::net::UdpSocket| {
        let mut buffer = [0u8; 64];
        let (n, _) = socket.recv_from(&mut buffer).expect("a datagram");
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    };
    let heard: Vec<String> = sockets.iter().map(first).collect();
    assert_eq!(heard, ["to b by unicast", "to the group", "to the group"]);
}

/// The state-change reports are sent [Robustness Variable] times (2, `igmp_qrv` and
/// `mldv2_qrv`), the repeat within a second ([`quick_repeats`] makes it 10 ms): the test
/// stops the receiver once both joins were seen and writes the file once both leaves were,
/// as a reader's capture holds them a few seconds later.
fn join_and_leave(
    host: &Host,
    capture: &Capture,
    line: &str,
    join: (u8, IpAddr),
    leave: (u8, IpAddr),
) {
    quick_repeats(host, "eth0");
    let receiver = Running::start(host, &mut typed(line)).unwrap_or_else(|e| panic!("{e}"));
    wait_until(
        || reports(capture, join.0, join.1) >= 2,
        || format!("two joins of {}", join.1),
    );
    // The reader stops it with Ctrl-C; the test ends it with SIGTERM, which ends it the
    // same way (its socket closes, and the kernel leaves) and, unlike SIGINT, is not
    // ignored by a program a shell started in the background.
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(receiver.pid() as libc::pid_t, libc::SIGTERM) };
    wait_until(
        || reports(capture, leave.0, leave.1) >= 2,
        || format!("two leaves of {}", leave.1),
    );
}

/// Has `host` repeat each state-change report on `interface` within 10 ms instead of a second
/// (`igmpv3_unsolicited_report_interval` and `mldv2_unsolicited_report_interval`, in ms; the
/// repeat comes at a random time within it): the same reports a reader captures, sooner.
fn quick_repeats(host: &Host, interface: &str) {
    sh(
        host,
        &format!(
            "echo 10 > /proc/sys/net/ipv4/conf/{interface}/igmpv3_unsolicited_report_interval && \
             echo 10 > /proc/sys/net/ipv6/conf/{interface}/mldv2_unsolicited_report_interval"
        ),
    );
}

/// Polls `done` until it holds; panics with `what` after [`DEADLINE`].
fn wait_until(done: impl Fn() -> bool, what: impl Fn() -> String) {
    let until = Instant::now() + DEADLINE;
    while !done() {
        assert!(
            Instant::now() < until,
            "not within {DEADLINE:?}: {}",
            what()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until a fresh LAN's hosts have sent the reports they send as `eth0` comes up (for
/// their own solicited-node groups): the kernel repeats them at a random time within
/// `mldv2_unsolicited_report_interval` (1 s) of the first, and `eth0` was up before
/// `capture` started (`started`), so none is due after that second; a report still pending
/// would share its packet with the test's join. A reader's lab, open for a while, is past it.
fn settled(capture: &Capture, started: Instant) {
    let until = started + Duration::from_millis(1050);
    while Instant::now() < until {
        std::thread::sleep(until - Instant::now());
    }
    let reports = || {
        capture
            .frames()
            .iter()
            .filter(|f| !mldv2_records(f).is_empty())
            .count()
    };
    // And none in flight: the count holds still for 50 ms.
    let deadline = Instant::now() + DEADLINE;
    let mut last = reports();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = reports();
        if now == last {
            return;
        }
        last = now;
        assert!(Instant::now() < deadline, "MLD never quiet on the LAN");
    }
}

/// Compares `actual` with the block the chapter shows under `<!-- shown: NAME -->`.
fn matches_the_book(file: &str, name: &str, actual: &str) {
    if let Err(mismatch) = docs::walkthrough::check_output(&shown(file, name), actual) {
        panic!("{file} ({name}):\n{mismatch}");
    }
}

const WIRE: &str = "on-the-wire.md";

/// A join is an IGMPv3 membership report to 224.0.0.22 ("change to exclude {}": any source),
/// sent twice; Ctrl-C leaves the same way ("change to include {}"). What tshark reads from the
/// capture of b's `eth0` is what the chapter shows.
#[test]
fn an_ipv4_join_and_leave_are_igmpv3_reports_to_224_0_0_22() {
    let group = IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3));
    on_the_wire(
        "receive --group 239.1.2.3",
        TSHARK_IGMP,
        "join",
        "igmpv3",
        (4, 3, group),
    );
}

/// A source-specific join is a report that allows one new source ("allow new sources
/// {10.0.0.1}", record type 5), and its leave blocks it (6).
#[test]
fn a_source_specific_join_reports_its_source() {
    let group = IpAddr::V4(Ipv4Addr::new(232, 1, 1, 1));
    let receive = "receive --group 232.1.1.1 --source 10.0.0.1";
    on_the_wire(receive, TSHARK_IGMP, "ssm", "ssm", (5, 6, group));
}

/// An IPv6 join is an MLDv2 report to ff02::16, the address of every MLDv2 router, from the
/// host's link-local address; the leave is the same report with record type 3.
#[test]
fn an_ipv6_join_and_leave_are_mldv2_reports_to_ff02_16() {
    let group = IpAddr::V6("ff0e::1:2".parse().unwrap());
    on_the_wire(
        "receive --group ff0e::1:2",
        TSHARK_MLD,
        "mld",
        "mldv2",
        (4, 3, group),
    );
}

/// In a LAN of a and b, runs the chapter's `receive` line on b and stops it while b's `eth0`
/// is captured, writes the capture to `FILE.pcap` and compares what the chapter's `read`
/// line prints with its block `shown`. `records` are the join's and the leave's record
/// types and the group. For IPv6 the test first waits out b's own first reports.
fn on_the_wire(receive: &str, read: &str, file: &str, shown: &str, records: (u8, u8, IpAddr)) {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let b = lan.host("b");
    let started = Instant::now();
    let capture = b.capture("eth0").unwrap();
    let (join, leave, group) = records;
    if group.is_ipv6() {
        settled(&capture, started);
    }
    told(WIRE, receive);
    told(WIRE, &read.replace("FILE", &format!("{file}.pcap")));
    join_and_leave(b, &capture, receive, (join, group), (leave, group));
    let path = scratch(file);
    capture.write_pcap(&path).unwrap();
    let Some(out) = tshark(&path, read) else {
        return;
    };
    matches_the_book(WIRE, shown, &out);
}

/// What tshark is asked for IGMP: the sender, the destination and tshark's summary.
const TSHARK_IGMP: &str = "tshark -r FILE -Y igmp -T fields -E separator=/s -e ip.src -e ip.dst -e igmp.record_type -e _ws.col.Info";
/// What tshark is asked for the query and its answer: the same, for the group and queries
/// only (the bridge also announces itself to 224.0.0.106, the all-snoopers group).
const TSHARK_QUERY: &str = "tshark -r FILE -Y 'igmp.maddr == 239.1.2.3 or igmp.type == 0x11' -T fields -E separator=/s -e ip.src -e ip.dst -e igmp.record_type -e _ws.col.Info";
/// What tshark is asked for MLD: the destination, then each record's type and group.
const TSHARK_MLD: &str = "tshark -r FILE -Y icmpv6.mldr.mar.multicast_address==ff0e::1:2 -T fields -E separator=/s -e ipv6.dst -e icmpv6.mldr.mar.record_type -e icmpv6.mldr.mar.multicast_address";
