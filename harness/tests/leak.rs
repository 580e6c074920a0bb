//! Nothing outlives the test process: not after a normal drop, not after SIGKILL.
//!
//! The SIGKILL test runs itself again as a child process (same binary, same test name, with
//! `HARNESS_LEAK_CHILD` set). The child builds a LAN, starts a `sleep` inside one host,
//! reports the namespace inodes and the sleep's pid on stdout, then waits to be killed. The
//! parent kills it with SIGKILL and checks that no process refers to those namespaces any
//! more, that the sleep is gone, and that its own namespace gained no interface.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::Lan;

use harness::procfs::referenced_network_namespaces;

fn host_interfaces() -> Vec<String> {
    let mut names: Vec<String> = nix::net::if_::if_nameindex()
        .unwrap()
        .iter()
        .map(|i| i.name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits until `condition` holds; the deadline only bounds a failure.
fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "still true after 10 s: {what}");
        std::thread::yield_now();
    }
}

/// The child's side: build, report, and wait for the SIGKILL.
#[allow(
    clippy::zombie_processes,
    reason = "the sleep is meant to outlive this process's drop code"
)]
fn child_role() {
    let lan = Lan::new(["a", "b"]).expect("child builds a LAN");
    let sleeper = lan
        .host("a")
        .spawn(Command::new("sleep").arg("1000"))
        .expect("sleep in host a");
    let inodes: Vec<String> = lan
        .hosts()
        .iter()
        .map(|h| h.namespace_inode().to_string())
        .collect();
    println!("READY {} {}", sleeper.id(), inodes.join(" "));
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    unreachable!("the parent kills this process before writing to it");
}

/// SIGKILL in the middle of a sandboxed test leaves no namespace, interface or process.
#[test]
fn a_sigkilled_test_leaves_nothing_behind() {
    if std::env::var_os("HARNESS_LEAK_CHILD").is_some() {
        return child_role();
    }
    let _probe = harness::or_skip!(harness::Sandbox::new());
    let interfaces_before = host_interfaces();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_sigkilled_test_leaves_nothing_behind",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HARNESS_LEAK_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // libtest prints "test NAME ... " before the child's own output on the same line.
    let ready = lines
        .find_map(|l| Some(l.ok()?.split_once("READY ")?.1.to_owned()))
        .expect("the child reports READY");
    let fields: Vec<u64> = ready
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    let (sleeper, inodes) = (fields[0] as u32, &fields[1..]);
    assert!(
        process_alive(sleeper),
        "the sleep runs while the child lives"
    );
    assert!(
        inodes
            .iter()
            .all(|i| referenced_network_namespaces().contains(i))
    );

    child.kill().unwrap(); // SIGKILL: no destructor runs in the child
    child.wait().unwrap();

    eventually("the sleep in host a is alive", || !process_alive(sleeper));
    eventually("a process still refers to the LAN's namespaces", || {
        let referenced = referenced_network_namespaces();
        inodes.iter().all(|i| !referenced.contains(i))
    });
    assert_eq!(
        host_interfaces(),
        interfaces_before,
        "the test process's own namespace changed"
    );
}

/// Dropping a LAN releases its namespaces at once.
#[test]
fn dropping_a_lan_releases_its_namespaces() {
    let lan = harness::or_skip!(Lan::new(["a", "b", "c"]));
    let inodes: Vec<u64> = lan.hosts().iter().map(|h| h.namespace_inode()).collect();
    assert!(
        inodes
            .iter()
            .all(|i| referenced_network_namespaces().contains(i))
    );
    drop(lan);
    let referenced = referenced_network_namespaces();
    assert!(
        inodes.iter().all(|i| !referenced.contains(i)),
        "{inodes:?} still referenced"
    );
}

/// A listener dropped while its test panics stops its thread instead of hanging the test.
#[test]
fn a_listener_is_stopped_while_a_test_panics() {
    let host = harness::or_skip!(harness::Sandbox::new());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _rx = host
            .listen(harness::Group::parse("239.4.4.4:4400").unwrap())
            .unwrap();
        panic!("a failing assertion");
    }));
    assert!(outcome.is_err());
    let names: Vec<String> = std::fs::read_dir("/proc/thread-self/../")
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("listen 239.4.4.4")),
        "{names:?}"
    );
}
