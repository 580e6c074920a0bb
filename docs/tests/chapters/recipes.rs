//! The lab chapter's by-hand recipes ("What the lab does for you" in `sandbox.md`) build what
//! the chapter says they build, and what the lab builds.
//!
//! Each recipe runs as written, with `sudo` taken out (this test is root, or root in a user
//! namespace of its own), inside namespaces this test creates with `unshare`: a fresh network
//! namespace, and for the named-namespace recipe a fresh mount namespace with its own `/run`,
//! so that `ip netns add` leaves nothing on the machine. Then a datagram is sent where the
//! chapter says it goes, with the workspace's programs, and the receiver's output is checked.
//!
//! Every script runs as PID 1 of a PID namespace of its own (`unshare --pid --fork
//! --kill-child`), so no `receive` it started in the background can outlive it, whichever
//! way it ends; `timeout` bounds the whole, and every wait inside has a deadline of its own.

use std::path::Path;
use std::process::Command;

/// The chapter's `sh` blocks, in order, with `sudo ` taken out.
fn recipes() -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sandbox.md");
    let text = std::fs::read_to_string(path).expect("sandbox.md is readable");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut current, line.trim()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => block.push(line.replace("sudo ", "")),
            (None, _) => {}
        }
    }
    blocks
}

/// Runs `script` with `bash` under `unshare ARGS`, as PID 1 of a new PID namespace (when it
/// ends, for whatever reason, the kernel kills whatever it left running), the workspace's
/// programs first on `PATH`, and returns its output (stdout then stderr). A step that fails
/// fails the script; the whole has 20 seconds.
fn run(unshare: &[&str], script: &str) -> String {
    let programs = docs::binaries::current_programs().expect("the workspace's programs");
    let path = format!(
        "{}:{}",
        programs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("timeout")
        .args(["20", "unshare"])
        .args(unshare)
        .args(["--pid", "--fork", "--kill-child", "bash", "-euc", script])
        .env("PATH", path)
        .output()
        .expect("timeout, unshare and bash are installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{}\n--- the script:\n{script}\n--- printed:\n{text}",
        output.status
    );
    text
}

/// Waits, polling for at most 5 seconds, until `file` (as read by `reader`, a command
/// prefix such as `ip netns exec b`) lists `hex`, the group as the kernel writes it: then a
/// receiver has joined. Fails the script when the deadline passes.
fn until_listed(reader: &str, file: &str, hex: &str) -> String {
    format!(
        "timeout 5 sh -c 'until {reader} grep -q {hex} {file}; do sleep 0.01; done' \
         || {{ echo '{hex} never appeared in {file}'; exit 1; }}\n"
    )
}

/// [`until_listed`] for an IPv4 group in this namespace's `/proc/net/igmp`.
fn until_joined(hex: &str) -> String {
    until_listed("", "/proc/net/igmp", hex)
}

/// A receiver that ends after one datagram, or after 5 seconds without one.
const RECEIVE_ONE: &str = "timeout 5 receive --verbose --count 1";

/// No network namespace, no test: the same one-line skip as every sandboxed test.
fn namespaces_available() -> bool {
    harness::skip_unless_available(harness::Sandbox::new()).is_some()
}

/// The one-host recipe routes IPv4 multicast over `lo`, from the address it adds.
#[test]
fn one_host_recipe_delivers_over_lo_from_its_address() {
    if !namespaces_available() {
        return;
    }
    let recipes = recipes();
    let (opening, steps) = recipes[0].split_first().expect("the one-host recipe");
    assert!(opening.starts_with("unshare -n bash"), "{opening}");
    let script = format!(
        "{}\n{RECEIVE_ONE} --group 224.1.2.3 &\n{}send --group 224.1.2.3 recipe\nwait\n",
        steps.join("\n"),
        until_joined("030201E0")
    );
    let output = run(&["-n"], &script);
    assert!(
        output.contains("to 224.1.2.3 on lo: recipe") && output.contains("from 10.0.0.1:"),
        "{output}"
    );
}

/// The one-host recipe builds what the lab's sandbox builds, so the loopback chapter's
/// `demo` prints there exactly what the chapter shows: `sendto()` follows the route over
/// `lo`, the `connect()`ed `send()` leaves through `eth0` from 10.0.0.1.
#[test]
fn one_host_recipe_reproduces_the_loopback_chapter() {
    if !namespaces_available() {
        return;
    }
    let chapter = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/loopback.md");
    let chapter = std::fs::read_to_string(chapter).expect("loopback.md is readable");
    let shown = docs::walkthrough::parse(&chapter)
        .expect("loopback.md parses")
        .into_iter()
        .flat_map(|scenario| scenario.steps)
        .flat_map(|step| step.commands)
        .find(|command| command.text == "demo --port 6666")
        .expect("the loopback chapter runs `demo --port 6666`");
    let script = format!("{}\ndemo --port 6666\n", recipes()[0][1..].join("\n"));
    let output = run(&["-n"], &script);
    if let Err(difference) = docs::walkthrough::check_output(&shown.expected, &output) {
        panic!("{difference}");
    }
}

/// Without the recipe's address, what is sent over `lo` carries the source 0.0.0.0, and a
/// receiver that answers its sender (the Python article's) sends to 0.0.0.0, which Linux
/// delivers to this host itself: the sender hears the answer from 127.0.0.1.
#[test]
fn without_the_address_an_answer_to_the_sender_comes_from_127_0_0_1() {
    if !namespaces_available() {
        return;
    }
    let script = format!(
        "ip link set lo up\nip route add 224.0.0.0/4 dev lo\ntimeout 5 receiver &\n{}\
         sender --expect 1\nkill %1\n",
        until_joined("471D03E0")
    );
    let output = run(&["-n"], &script);
    assert!(
        output.contains("received 19 bytes from ('0.0.0.0', "),
        "{output}"
    );
    assert!(
        output.contains("received b'ack' from ('127.0.0.1', 10000)"),
        "{output}"
    );
}

/// The one-host recipe's `ifb` gives IPv6 multicast a link: a member on the same host gets
/// a copy of what leaves through `eth0`.
#[test]
fn ifb_recipe_loops_ipv6_multicast_back_to_the_host() {
    if !namespaces_available() {
        return;
    }
    let recipes = recipes();
    let script = format!(
        "{}\n{RECEIVE_ONE} --group ff02::123 --interface eth0 &\n{}\
         send --group ff02::123 --interface eth0 over-ifb\nwait\n",
        recipes[0][1..].join("\n"),
        until_listed("", "/proc/net/igmp6", "ff020000000000000000000000000123"),
    );
    let output = run(&["-n"], &script);
    assert!(
        output.contains("to ff02::123 on eth0: over-ifb"),
        "{output}"
    );
}

/// The named-namespace recipe builds a LAN on which host a's datagram reaches host b on
/// `eth0`; its clean-up line removes the namespaces again.
#[test]
fn named_namespace_recipe_carries_a_datagram_from_a_to_b() {
    if !namespaces_available() {
        return;
    }
    let recipes = recipes();
    let lan = &recipes[1];
    let (last, building) = lan.split_last().expect("the LAN recipe");
    assert!(last.starts_with("ip netns exec b bash"), "{last}");
    let script = format!(
        "mount -t tmpfs tmpfs /run\n{}\n\
         ip netns exec b {RECEIVE_ONE} --group 224.1.2.3 &\n{}\
         ip netns exec a send --group 224.1.2.3 across-the-bridge\nwait\n\
         ip netns del a; ip netns del b; ip netns del lan\necho \"namespaces left: $(ip netns list | wc -l)\"\n",
        building.join("\n"),
        until_listed("ip netns exec b", "/proc/net/igmp", "030201E0"),
    );
    let output = run(&["-n", "-m"], &script);
    assert!(
        output.contains("from 10.0.0.1:") && output.contains("on eth0: across-the-bridge"),
        "{output}"
    );
    assert!(output.contains("namespaces left: 0"), "{output}");
}
