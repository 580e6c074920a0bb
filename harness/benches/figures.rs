//! The harness's figures, measured: `cargo bench -p harness`.
//!
//! Prints the median (and the 10th/90th percentiles) of:
//! - building a `Sandbox` and a 2-host `Lan`, each dropped before the next is built (as in a
//!   test suite: the kernel's asynchronous clean-up of the last one competes with building
//!   the next) and kept (building alone),
//! - the floor under `Sandbox::new`, measured in the same run, interleaved with it: a fresh
//!   thread that calls `unshare(CLONE_NEWNET)`, brings `lo` up (one `SIOCSIFFLAGS` ioctl) and
//!   opens `/proc/thread-self/ns/net` to keep the namespace, and the ratio of the medians,
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
//! These are wall-clock figures on a shared machine: run it a few times and compare medians.
//! Targets on a 2-core machine: Sandbox ≤ 1 ms and ≤ 1.3× its floor, 2-host LAN ≤ 20 ms,
//! 32-host LAN ≤ 300 ms, 256-host LAN ≤ 1.5 s, delivery ≤ 100 µs, impairing a link ≤ 5 ms.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

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

/// The least a sandbox could cost: on a fresh thread, a new network namespace with `lo` up,
/// held by a descriptor (as the harness holds its namespaces) once the thread has gone.
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

/// `runs` rounds of `a` then `b`, each timed and dropped before the next: both see the same
/// machine, and the same clean-up of the round before.
fn time_interleaved<A, B>(
    runs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Vec<Duration>, Vec<Duration>) {
    (0..runs)
        .map(|_| (time(1, &mut a)[0], time(1, &mut b)[0]))
        .unzip()
}

/// Like [`time_interleaved`], keeping everything built until all runs are done.
fn time_interleaved_kept<A, B>(
    runs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut kept = Vec::with_capacity(runs);
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let built_a = a();
            let took_a = start.elapsed();
            let start = Instant::now();
            let built_b = b();
            let took_b = start.elapsed();
            kept.push((built_a, built_b));
            (took_a, took_b)
        })
        .unzip();
    drop(kept);
    samples
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
        "the floor brings a fresh namespace's lo up"
    );
    let (floor, sandbox) =
        time_interleaved(300, bare_namespace, || Sandbox::new().expect("sandbox"));
    report("floor: unshare + lo up, dropped", floor.clone());
    report("Sandbox::new, each dropped", sandbox.clone());
    report_ratio("Sandbox::new, each dropped", &sandbox, &floor);
    let (floor, sandbox) =
        time_interleaved_kept(100, bare_namespace, || Sandbox::new().expect("sandbox"));
    report("floor: unshare + lo up, 100 kept", floor.clone());
    report("Sandbox::new, 100 kept", sandbox.clone());
    report_ratio("Sandbox::new, kept", &sandbox, &floor);
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
