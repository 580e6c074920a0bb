//! The `lab` front end, driven the way a person drives it: one `lab` process holds the
//! network, and separate `lab exec`, `lab shell` and `lab capture` processes step into it.
//!
//! Every test gives its labs a registry of their own (`HARNESS_LAB_DIR`), so tests running
//! at once never see each other's labs, and a test with one lab needs no `--lab` flag, as a
//! person with one lab does not.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use harness::Running;
use harness::registry::{self, Entry};

use crate::pcap;

const LAB: &str = env!("CARGO_BIN_EXE_lab");
/// Bounds a failure; never waited on the happy path.
const DEADLINE: Duration = Duration::from_secs(20);

/// A registry directory of the test's own, removed at the end.
struct Registry(PathBuf);

impl Registry {
    fn new() -> Registry {
        static N: AtomicU32 = AtomicU32::new(0);
        // Under target/tmp: a test killed with kill -9 leaves nothing in the machine's /tmp.
        let dir = pcap::scratch(&format!("lab-test-{}", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&dir).unwrap();
        Registry(dir)
    }

    /// Writes `lines` to a script and runs `lab --no-tmux --no-build --run SCRIPT a b` to its
    /// end: its output and the script's path, or `None` after a visible skip where no lab can
    /// be built.
    fn run_script(&self, lines: &str) -> Option<(Output, PathBuf)> {
        let script = self.0.join("script");
        std::fs::write(&script, lines).unwrap();
        let out = self
            .lab()
            .args(["--no-tmux", "--no-build", "--run"])
            .arg(&script)
            .args(["a", "b"])
            .output()
            .unwrap();
        let said = text(&out.stderr);
        if said.contains("no network namespace") && !harness::sandbox_required() {
            harness::skip_because(said.trim());
            return None;
        }
        Some((out, script))
    }

    fn lab(&self) -> Command {
        let mut command = Command::new(LAB);
        command.env("HARNESS_LAB_DIR", &self.0).env_remove("CARGO");
        command
    }

    /// `lab exec [--lab ID] HOST -- ARGS...` to completion.
    fn exec(&self, id: Option<&str>, host: &str, args: &[&str]) -> Output {
        let mut command = self.lab();
        command.arg("exec");
        if let Some(id) = id {
            command.args(["--lab", id]);
        }
        command.arg(host).arg("--").args(args);
        command.output().unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `lab --no-tmux` process, fed commands on its standard input.
struct RunningLab {
    lab: Running,
    entry: Entry,
}

impl RunningLab {
    /// Starts `lab --no-tmux --no-build ARGS` and returns once it says it is ready.
    fn start(registry: &Registry, args: &[&str]) -> Option<RunningLab> {
        let mut lab =
            Running::start_here(registry.lab().args(["--no-tmux", "--no-build"]).args(args))
                .unwrap();
        // Its stdout is read on, so the lab never blocks writing to it.
        let first = lab.next_line(Instant::now() + DEADLINE);
        if !first.as_ref().is_ok_and(|line| line.contains("is ready")) {
            let stderr = lab.kill().join("\n");
            if stderr.contains("no network namespace") && !harness::sandbox_required() {
                harness::skip_because(stderr.trim());
                return None;
            }
            panic!("lab did not start: {first:?}\n{stderr}");
        }
        let pid = lab.pid();
        let entry = registry::running_in(&registry.0)
            .unwrap()
            .into_iter()
            .find(|e| e.pid == pid)
            .expect("the lab is registered when it says it is ready");
        Some(RunningLab { lab, entry })
    }

    fn id(&self) -> &str {
        &self.entry.id
    }
}

macro_rules! lab_or_skip {
    ($registry:expr, $args:expr) => {
        match RunningLab::start($registry, $args) {
            Some(lab) => lab,
            None => return,
        }
    };
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What the lab said when it refused: exit status 2 and exactly one line on standard error,
/// which is returned.
fn refusal(out: &Output, what: &str) -> String {
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {said}");
    assert_eq!(said.lines().count(), 1, "{what}: {said}");
    said
}

/// Whether `program` is installed; if not, a `skipped:` line (a failure under
/// `HARNESS_REQUIRE_SANDBOX=1`), as `harness::or_skip!` does.
fn have(program: harness::Capability) -> bool {
    harness::skip_unless_available(harness::tool(program)).is_some()
}

/// A receiver that joins `group` on every interface, says `ready`, and prints the first
/// datagram's payload, source and TTL.
const RECEIVE: &str = r#"
import socket, struct, sys
group, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
print("ready", flush=True)
data, source = s.recvfrom(1500)
print(data.decode(), source[0], flush=True)
"#;

/// Sends one datagram: group, port, TTL, payload.
const SEND: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, int(sys.argv[3]))
s.sendto(sys.argv[4].encode(), (sys.argv[1], int(sys.argv[2])))
"#;

/// Starts the receiver in `host` through its own `lab exec` and returns once it has joined.
fn start_receiver(registry: &Registry, id: &str, host: &str, group: &str) -> Running {
    let mut receiver = Running::start_here(registry.lab().args([
        "exec", "--lab", id, host, "--", "python3", "-c", RECEIVE, group, "5000",
    ]))
    .unwrap();
    let line = receiver
        .next_line(Instant::now() + DEADLINE)
        .unwrap_or_else(|e| panic!("the receiver in {host} did not start: {e}"));
    assert_eq!(line.trim(), "ready", "the receiver in {host} did not start");
    receiver
}

/// `lab exec b -- ip -4 addr` runs in host b: it shows b's address, 10.0.0.2, and with one lab
/// running no `--lab` flag is needed.
#[test]
fn exec_runs_in_the_named_host() {
    let registry = Registry::new();
    let _lab = lab_or_skip!(&registry, &["a", "b", "c"]);
    let out = registry.exec(None, "b", &["ip", "-4", "addr"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("inet 10.0.0.2/24"), "{shown}");
    assert!(!shown.contains("10.0.0.1/"), "{shown}");
}

/// `lab exec` passes the command's exit status through, and a name that is no host gets one
/// line that lists the hosts.
#[test]
fn exec_passes_the_exit_status_through() {
    let registry = Registry::new();
    let _lab = lab_or_skip!(&registry, &["a", "b"]);
    let out = registry.exec(None, "a", &["sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let out = registry.exec(None, "zz", &["true"]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("no host \"zz\" (its hosts: a, b)"), "{said}");
}

/// A datagram sent by one `lab exec` process in host a reaches a receiver started by another
/// `lab exec` process in host b: both entered the same running lab.
#[test]
fn send_in_one_exec_reaches_receive_in_another() {
    if !have(harness::Capability::Python3) {
        return;
    }
    let registry = Registry::new();
    let lab = lab_or_skip!(&registry, &["a", "b"]);
    let mut receiver = start_receiver(&registry, lab.id(), "b", "239.1.2.3");
    let sent = registry.exec(
        Some(lab.id()),
        "a",
        &[
            "python3",
            "-c",
            SEND,
            "239.1.2.3",
            "5000",
            "1",
            "hello-from-a",
        ],
    );
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let line = receiver.next_line(Instant::now() + DEADLINE).unwrap();
    assert_eq!(line.trim(), "hello-from-a 10.0.0.1");
    assert!(
        receiver
            .finish(Instant::now() + DEADLINE)
            .unwrap()
            .success()
    );
}

/// Two labs at once are two separate networks: the same group and port in the other lab is
/// never heard.
#[test]
fn two_labs_do_not_hear_each_other() {
    if !have(harness::Capability::Python3) {
        return;
    }
    let registry = Registry::new();
    let one = lab_or_skip!(&registry, &["a", "b"]);
    let two = lab_or_skip!(&registry, &["a", "b"]);
    let mut receiver = start_receiver(&registry, one.id(), "b", "239.1.2.4");
    for (lab, payload) in [(&two, "from-the-other-lab"), (&one, "from-this-lab")] {
        let sent = registry.exec(
            Some(lab.id()),
            "a",
            &["python3", "-c", SEND, "239.1.2.4", "5000", "1", payload],
        );
        assert!(sent.status.success(), "{}", text(&sent.stderr));
    }
    let line = receiver.next_line(Instant::now() + DEADLINE).unwrap();
    assert_eq!(line.trim(), "from-this-lab 10.0.0.1");
    receiver.finish(Instant::now() + DEADLINE).unwrap();
    // With two labs, a command must say which.
    let out = registry.exec(None, "a", &["true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("pick one with --lab ID"));
}

use harness::procfs::{namespace_inode, referenced_network_namespaces};

/// Live (not zombie) processes whose PID namespace is `inode`.
fn processes_in_pid_namespace(inode: u64) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|p| {
            let pid: u32 = p.file_name().to_str()?.parse().ok()?;
            let alive = registry_start_time(pid).is_some();
            (alive && namespace_inode(&p.path().join("ns/pid"), "pid") == Some(inode))
                .then_some(pid)
        })
        .collect()
}

fn registry_start_time(pid: u32) -> Option<()> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .to_owned();
    (state != "Z" && state != "X").then_some(())
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let until = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        // Polling what another process shows; the deadline above only bounds a failure.
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// SIGKILL of the lab process ends, within a second, every process started in it (a
/// `sleep 100 | cat` pipeline and a background job included) and all of its namespaces.
#[test]
fn sigkill_of_the_lab_ends_every_process_and_namespace() {
    let registry = Registry::new();
    let mut lab = lab_or_skip!(&registry, &["a", "b", "c"]);
    let started = registry.exec(
        Some(lab.id()),
        "c",
        &[
            "bash",
            "-c",
            "{ sleep 100 | cat; } >/dev/null 2>&1 & (sleep 100 >/dev/null 2>&1 &); echo started",
        ],
    );
    assert_eq!(text(&started.stdout).trim(), "started");
    let pid_namespace = namespace_inode(
        Path::new(&format!("/proc/{}/ns/pid", lab.entry.init)),
        "pid",
    )
    .unwrap();
    let networks: Vec<u64> = lab
        .entry
        .hosts
        .iter()
        .map(|h| {
            namespace_inode(
                Path::new(&format!("/proc/{}/fd/{}", lab.entry.pid, h.fd)),
                "net",
            )
            .unwrap()
        })
        .collect();
    // The pipeline's `sleep` and `cat` and the background `sleep` run once bash has forked
    // them, which on a busy machine can be a moment after `echo started`.
    let commands = || -> Vec<String> {
        let mut commands: Vec<String> = processes_in_pid_namespace(pid_namespace)
            .iter()
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok())
            .map(|comm| comm.trim().to_owned())
            .filter(|comm| comm == "sleep" || comm == "cat")
            .collect();
        commands.sort();
        commands
    };
    wait_until("the pipeline and the background job run in the lab", || {
        commands() == ["cat", "sleep", "sleep"]
    });

    lab.lab.kill();
    let killed = Instant::now();
    wait_until("the lab's processes and namespaces are gone", || {
        processes_in_pid_namespace(pid_namespace).is_empty()
            && !referenced_network_namespaces()
                .iter()
                .any(|n| networks.contains(n))
    });
    assert!(
        killed.elapsed() < Duration::from_secs(1),
        "clean-up took {:?}",
        killed.elapsed()
    );
    assert!(registry::running_in(&registry.0).unwrap().is_empty());
}

/// A shell attached with `lab shell` from another terminal says that the lab ended, and
/// exits, when the lab is stopped with SIGTERM.
#[test]
fn attached_shell_says_the_lab_ended() {
    let registry = Registry::new();
    let lab = lab_or_skip!(&registry, &["a", "b"]);
    let mut shell = registry
        .lab()
        .args(["shell", "b"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = shell.stdin.take().unwrap();
    writeln!(
        stdin,
        "echo inside $LAB_HOST $(ip -4 -o addr show eth0 | grep -o '10[.0-9]*/')"
    )
    .unwrap();
    let mut out = BufReader::new(shell.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "inside b 10.0.0.2/");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(lab.lab.pid() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = shell.wait().unwrap();
    let mut said = String::new();
    shell
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(
        said.contains(&format!("lab {} ended", lab.id())),
        "the shell said: {said}"
    );
    assert!(!status.success());
    drop(stdin);
}

/// Bad input gets one clear line on stderr and a non-zero exit, no panic.
#[test]
fn bad_input_gets_one_line_and_a_non_zero_exit() {
    let registry = Registry::new();
    let many: Vec<String> = (0..255).map(|i| format!("h{i}")).collect();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["exec".into(), "b".into(), "--".into(), "true".into()],
            "no lab is running",
        ),
        (vec!["shell".into(), "b".into()], "no lab is running"),
        (
            vec!["a".into(), "b".into(), "a".into()],
            "host name \"a\" is given twice",
        ),
        (
            [&["--no-tmux".to_string()][..], &many].concat(),
            "a lab has at most 254",
        ),
        (
            vec!["--sandbox".into(), "a".into()],
            "--sandbox takes no host names",
        ),
        (vec!["a b".into()], "use up to 32 letters"),
    ];
    for (args, expected) in cases {
        let out = registry.lab().args(&args).output().unwrap();
        let said = refusal(&out, &format!("{args:?}"));
        assert!(
            said.starts_with("lab: ") && said.contains(expected),
            "{args:?}: {said}"
        );
    }
}

/// `lab capture b eth0 -w FILE` records what crosses b's eth0 into a pcap file: the datagram
/// host a sent is in it with a's address as source, the group as destination, and its TTL.
#[test]
fn capture_writes_what_crosses_an_interface_to_a_pcap_file() {
    if !have(harness::Capability::Python3) {
        return;
    }
    let registry = Registry::new();
    let lab = lab_or_skip!(&registry, &["a", "b"]);
    let path = registry.0.join("b.pcap");
    let mut capture = registry
        .lab()
        .args(["capture", "b", "eth0", "-w"])
        .arg(&path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = BufReader::new(capture.stderr.take().unwrap());
    let mut line = String::new();
    said.read_line(&mut line).unwrap();
    assert!(line.starts_with("capturing on eth0 of host b"), "{line}");
    let sent = registry.exec(
        Some(lab.id()),
        "a",
        &[
            "python3",
            "-c",
            SEND,
            "239.1.2.5",
            "5000",
            "3",
            "into-the-pcap",
        ],
    );
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let expected = (
        std::net::Ipv4Addr::new(10, 0, 0, 1),
        std::net::Ipv4Addr::new(239, 1, 2, 5),
        3,
        b"into-the-pcap".to_vec(),
    );
    // Each frame is flushed as it is written.
    wait_until("the datagram is in the pcap file", || {
        pcap::udp_records(&std::fs::read(&path).unwrap_or_default()).contains(&expected)
    });
    capture.kill().unwrap();
    capture.wait().unwrap();
    if let Some(lines) = pcap::tshark_udp(&path) {
        assert!(
            lines.contains(&"10.0.0.1 239.1.2.5 3".to_string()),
            "{lines:?}"
        );
    }
}

/// `lab check` tries the whole path once (a two-host LAN, one datagram from a to b) and says
/// so in one line, as root and as an ordinary user; where user namespaces are blocked it
/// names the setting, non-zero.
#[test]
fn check_says_whether_this_machine_can_run_the_lab() {
    if harness::skip_unless_available(harness::Sandbox::new()).is_none() {
        return;
    }
    let out = Command::new(LAB).arg("check").output().unwrap();
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(
        said.starts_with("ok: this machine can run the lab (")
            && said.contains("reached host b on eth0 from 10.0.0.1:"),
        "{said}"
    );
    // The capability table agrees with this process's own probe, row by row, and names
    // what provides each.
    for capability in harness::Capability::ALL {
        let here = if capability.present() { "yes" } else { "NO " };
        let row = format!(
            "  {here}  {:<15} {} ({})",
            capability.id(),
            capability.title(),
            capability.provided_by()
        );
        assert!(said.contains(&row), "no row {row:?} in:\n{said}");
    }
    let routed = if harness::Capability::Ipv4Routing.present() {
        "  yes  cargo lab --routed\n".to_owned()
    } else {
        "  NO   cargo lab --routed: this kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE)"
            .to_owned()
    };
    assert!(said.contains(&routed), "{said}");
    // SAFETY: geteuid cannot fail.
    if !harness::real_root() {
        return;
    }
    // As an ordinary user (no sudo), the lab works in a user namespace of its own.
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            LAB,
            "check",
        ])
        .output()
        .unwrap();
    let said = text(&out.stdout);
    assert!(
        out.status.success() && said.contains("(as an ordinary user, in a user namespace"),
        "{said}{}",
        text(&out.stderr)
    );
    // As an ordinary user on a machine where the id maps cannot be written (forced here, as
    // Ubuntu 24.04's AppArmor restriction does it), the one line names the setting.
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            LAB,
            "check",
        ])
        .env("HARNESS_TEST_USERNS_MAPS_FAIL", "1")
        .output()
        .unwrap();
    let said = refusal(&out, "lab check");
    assert!(
        said.starts_with("lab: this machine cannot run the lab")
            && said.contains("kernel.apparmor_restrict_unprivileged_userns"),
        "{said}"
    );
}

/// Two labs of one process (as the book's tests run them) get ids of their own: each stays
/// registered, with its own hosts, until it ends, and ending one leaves the other reachable.
#[test]
fn labs_of_one_process_are_registered_apart() {
    use lab::{Lab, Network};
    let first = harness::or_skip!(Lab::new(Network::Sandbox));
    let second = harness::or_skip!(Lab::new(Network::Lan(vec!["x".into()])));
    assert_ne!(first.id(), second.id());
    let running = |id: &str| {
        harness::registry::choose(Some(id), None).map(|entry| {
            entry
                .hosts
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(running(first.id()).unwrap(), ["sandbox"]);
    assert_eq!(running(second.id()).unwrap(), ["x"]);
    let gone = first.id().to_owned();
    first.end();
    assert!(running(&gone).is_err());
    assert_eq!(running(second.id()).unwrap(), ["x"]);
}

/// A capture that cannot start (no such interface) says why in one line, exits non-zero,
/// and leaves no empty file behind.
#[test]
fn a_capture_that_cannot_start_leaves_no_file() {
    let registry = Registry::new();
    let lab = lab_or_skip!(&registry, &["a", "b"]);
    let path = registry.0.join("never.pcap");
    let out = registry
        .lab()
        .args(["capture", "--lab", lab.id(), "b", "eth9", "-w"])
        .arg(&path)
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("eth9"), "{said}");
    assert!(!path.exists(), "{} was left behind", path.display());
}

/// A tmux server of the test's own, killed (by its socket) when the test ends.
struct OuterTmux(PathBuf);

impl OuterTmux {
    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.0);
        command
    }
}

impl Drop for OuterTmux {
    fn drop(&mut self) {
        let _ = self
            .command()
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

/// What a tmux window (`session:window`) of the server at `socket` shows.
fn pane(socket: &Path, target: &str) -> String {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(["capture-pane", "-p", "-J", "-t", target])
        .output()
        .unwrap();
    text(&out.stdout)
}

/// In a real terminal the lab opens a tmux window per host whose prompt names the host and
/// its address; a receive typed in b's window prints what a send typed in a's window sent;
/// leaving a's shell ends the lab and its tmux server.
#[test]
fn tmux_windows_are_shells_in_their_hosts() {
    if !have(harness::Capability::Tmux) || !have(harness::Capability::Python3) {
        return;
    }
    let registry = Registry::new();
    std::fs::write(registry.0.join("receive.py"), RECEIVE).unwrap();
    std::fs::write(registry.0.join("send.py"), SEND).unwrap();
    // The lab needs a terminal: it gets one from a tmux server of the test's own.
    let outer = OuterTmux(registry.0.join("outer.tmux"));
    let started = outer
        .command()
        .args([
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "40",
            "-s",
            "outer",
            "-e",
        ])
        .arg(format!("HARNESS_LAB_DIR={}", registry.0.display()))
        .arg(format!("{LAB} --no-build a b c; sleep 100"))
        .status()
        .unwrap();
    assert!(started.success());
    let until = Instant::now() + DEADLINE;
    let entry = loop {
        let labs = registry::running_in(&registry.0).unwrap();
        if let Some(entry) = labs.into_iter().find(|e| e.tmux.is_some()) {
            break entry;
        }
        let shown = pane(&outer.0, "outer");
        if shown.contains("lab: ") || Instant::now() > until {
            if shown.contains("no network namespace") && !harness::sandbox_required() {
                harness::skip_because(shown.trim());
                return;
            }
            panic!("the lab did not start in tmux: {shown}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let inner = entry.tmux.clone().unwrap();
    let window = |host: &str| format!("lab-{}:{host}", entry.id);
    for (host, prompt) in [
        ("a", "a 10.0.0.1 $"),
        ("b", "b 10.0.0.2 $"),
        ("c", "c 10.0.0.3 $"),
    ] {
        wait_until(&format!("{host}'s window shows `{prompt}`"), || {
            pane(&inner, &window(host)).contains(prompt)
        });
    }
    let type_in = |host: &str, line: &str| {
        let typed = Command::new("tmux")
            .arg("-S")
            .arg(&inner)
            .args(["send-keys", "-t", &window(host), line, "Enter"])
            .status()
            .unwrap();
        assert!(typed.success());
    };
    let dir = registry.0.display();
    type_in("b", &format!("python3 {dir}/receive.py 239.1.2.6 5000"));
    wait_until("the receiver in b is ready", || {
        pane(&inner, &window("b"))
            .lines()
            .any(|l| l.trim() == "ready")
    });
    type_in(
        "a",
        &format!("python3 {dir}/send.py 239.1.2.6 5000 1 typed-in-a"),
    );
    wait_until("b's window shows what a sent", || {
        pane(&inner, &window("b")).contains("typed-in-a 10.0.0.1")
    });
    // Leaving the first shell ends everything.
    type_in("a", "exit");
    wait_until("the lab ended", || !entry.alive());
    let inner_server = Command::new("tmux")
        .arg("-S")
        .arg(&inner)
        .arg("has-session")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!inner_server.success(), "the lab's tmux server outlived it");
    assert!(registry::running_in(&registry.0).unwrap().is_empty());
}

/// With `HARNESS_PAUSE=1` a failing test prints, for each host, a line that enters it
/// (`cargo lab shell --pid PID HOST`), keeps the network until Enter, and that door works:
/// `lab exec --pid PID b` runs in the failed test's host b.
#[test]
fn a_paused_failing_test_can_be_entered() {
    if std::env::var_os("LAB_TEST_PAUSED_CHILD").is_some() {
        // The child: a test whose expectation fails.
        let lan = harness::or_skip!(harness::Lan::new(["a", "b"]));
        let on_b = lan
            .host("b")
            .listen(harness::Group::parse("239.1.2.7:5000").unwrap())
            .unwrap();
        on_b.expect(1).within(Duration::from_millis(10)).unwrap();
        return;
    }
    let registry = Registry::new();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "commands::a_paused_failing_test_can_be_entered",
            "--exact",
            "--nocapture",
        ])
        .env("LAB_TEST_PAUSED_CHILD", "1")
        .env("HARNESS_PAUSE", "1")
        .env("HARNESS_LAB_DIR", &registry.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // No controlling terminal, so the pause reads its Enter from standard input.
    // SAFETY: setsid(2) between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut child, || {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = child.spawn().unwrap();
    let mut said = BufReader::new(child.stderr.take().unwrap());
    let mut door = None;
    let mut everything = String::new();
    let mut line = String::new();
    while said.read_line(&mut line).unwrap() > 0 {
        everything.push_str(&line);
        if line.contains("skipped:") && !harness::sandbox_required() {
            eprint!("{line}");
            let _ = child.wait();
            return;
        }
        if line.trim_start().starts_with("host b") {
            door = line
                .split_whitespace()
                .skip(2)
                .take(6)
                .map(str::to_owned)
                .reduce(|a, b| a + " " + &b);
        }
        if line.contains("standard input") {
            break;
        }
        line.clear();
    }
    let door = door.unwrap_or_else(|| panic!("no line for host b in:\n{everything}"));
    // `cargo lab shell --pid PID b`: the same door, with `exec` for one command.
    let words: Vec<&str> = door.split_whitespace().collect();
    assert_eq!(&words[..4], ["cargo", "lab", "shell", "--pid"], "{door}");
    assert_eq!(words[5], "b", "{door}");
    let out = registry
        .lab()
        .args(["exec", "--pid", words[4], "b", "--", "ip", "-4", "addr"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("inet 10.0.0.2/24"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Enter tears the network down, and the test fails as it should.
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(registry::running_in(&registry.0).unwrap().is_empty());
}

/// `lab::Lab` is the same lab for code (the book's walkthrough tests): `exec` runs a
/// command line in a host with a lab shell's environment, and ending the lab kills what was
/// started in it.
#[test]
fn the_lab_library_runs_command_lines_in_hosts() {
    use lab::{Lab, Network};
    let lab = harness::or_skip!(Lab::new(Network::Lan(vec!["a".into(), "b".into()])));
    let out = lab
        .exec(
            "b",
            "echo \"$LAB_HOST|${PATH%%:*}\"; ip -4 -o addr show eth0",
        )
        .unwrap();
    let shown = text(&out.stdout);
    // The workspace's programs (target/debug, where this test's `lab` binary is) come first.
    let bin = Path::new(LAB).parent().unwrap().display().to_string();
    assert!(shown.starts_with(&format!("b|{bin}\n")), "{shown}");
    assert!(shown.contains("10.0.0.2/24"), "{shown}");
    let failed = lab.exec("a", "exit 3").unwrap();
    assert_eq!(failed.status.code(), Some(3));
    assert!(lab.exec("zz", "true").is_err());

    let mut sleeper = lab.command("a", "sleep");
    sleeper.arg("100");
    let mut sleeper = lab.spawn("a", &mut sleeper).unwrap();
    lab.end();
    let status = sleeper.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
}

/// The registry's directory has a predictable name (`/tmp/multicast-lab-0` for root), so
/// another local user can make it first. A symbolic link planted there is refused in one
/// line and never followed: the directory it points to keeps its mode and gets no file.
#[test]
fn a_symlink_planted_as_the_registry_is_refused_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let registry = Registry::new();
    let target = registry.0.join("victim");
    std::fs::create_dir(&target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    let planted = registry.0.join("multicast-lab-0");
    std::os::unix::fs::symlink(&target, &planted).unwrap();
    // Starting a lab reaches the registry only where a lab can be built at all.
    let mut tries = vec![&["list"][..]];
    if harness::Capability::Sandbox.present() {
        tries.push(&["--no-tmux", "--no-build", "a"][..]);
    }
    for args in tries {
        let out = Command::new(LAB)
            .env("HARNESS_LAB_DIR", &planted)
            .env_remove("CARGO")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = refusal(&out, &format!("lab {args:?}"));
        assert!(
            said.contains("multicast-lab-0 is a symbolic link")
                && said.contains("another user may have planted it"),
            "lab {args:?}: {said}"
        );
    }
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the link's target was chmodded");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
}

/// A directory that another user made under the registry's name is refused, saying whose it
/// is, and left as it was. (Needs the machine's root, to make a directory of another user.)
#[test]
fn a_registry_directory_made_by_another_user_is_refused_with_its_owner() {
    use std::os::unix::fs::MetadataExt;
    if !harness::real_root() {
        harness::skip_because("only the machine's root can make a directory of another user");
        return;
    }
    let registry = Registry::new();
    let foreign = registry.0.join("multicast-lab-0");
    std::fs::create_dir(&foreign).unwrap();
    let stranger = nix::unistd::Uid::from_raw(1000);
    nix::unistd::chown(&foreign, Some(stranger), None).unwrap();
    let out = Command::new(LAB)
        .env("HARNESS_LAB_DIR", &foreign)
        .arg("list")
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("multicast-lab-0 belongs to user 1000 (you are 0)"),
        "{said}"
    );
    assert_eq!(std::fs::metadata(&foreign).unwrap().uid(), 1000);
}

/// `lab --routed --run` with one line that reads the router's IPv4 forwarding switch, to its
/// end, in `registry`.
fn open_routed_lab(registry: &Registry) -> Output {
    let script = registry.0.join("script");
    std::fs::write(&script, "router cat /proc/sys/net/ipv4/ip_forward\n").unwrap();
    let out = registry
        .lab()
        .args(["--routed", "--no-tmux", "--no-build", "--run"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(registry::running_in(&registry.0).unwrap().is_empty());
    out
}

/// Where the kernel routes multicast (`CONFIG_IP_MROUTE`), `lab --routed` opens: its router
/// forwards. (Skipped elsewhere, so CI runs it in its VM.)
#[test]
fn a_routed_lab_opens_where_the_kernel_routes_multicast() {
    harness::or_skip!(harness::Capability::Ipv4Routing.check());
    let registry = Registry::new();
    let out = open_routed_lab(&registry);
    let (shown, said) = (text(&out.stdout), text(&out.stderr));
    assert!(shown.ends_with("1\n"), "{shown}{said}");
    assert_eq!(out.status.code(), Some(0), "{said}");
}

/// Where the kernel does not route multicast, `lab --routed` says so in one line naming
/// `CONFIG_IP_MROUTE`, exits 2 and builds nothing; where it does, the lab opens (as above).
#[test]
fn a_routed_lab_names_a_missing_kernel_option_in_one_line() {
    harness::or_skip!(harness::Capability::Sandbox.check());
    let registry = Registry::new();
    let out = open_routed_lab(&registry);
    if harness::Capability::Ipv4Routing.present() {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        return;
    }
    let said = refusal(&out, "lab --routed");
    assert!(
        said.starts_with(
            "lab: cannot open this lab: this kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE)"
        ),
        "{said}"
    );
}

/// A `--run` script stops at its first failing line, as `bash -e` would: the lab says which
/// line, runs nothing after it, and ends with that line's status.
#[test]
fn run_file_stops_at_the_first_failing_line_and_names_it() {
    let registry = Registry::new();
    let Some((out, script)) = registry.run_script("a echo first\nb exit 3\na echo never\n") else {
        return;
    };
    let (shown, said) = (text(&out.stdout), text(&out.stderr));
    assert!(shown.ends_with("first\n"), "{shown}{said}");
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains(&format!(
            "lab: {}:2: exited with status 3; the rest of the script is not run",
            script.display()
        )),
        "{said}"
    );
}

/// A `--run` script that cannot be read (missing, a directory) is refused in one line
/// before any network is built; so is `bench --runs 0`.
#[test]
fn unreadable_scripts_and_zero_runs_are_refused_before_anything_is_built() {
    let registry = Registry::new();
    for (path, why) in [
        (registry.0.join("missing"), "No such file or directory"),
        (registry.0.clone(), "Is a directory"),
    ] {
        let out = registry
            .lab()
            .args(["--no-tmux", "--no-build", "--run"])
            .arg(&path)
            .output()
            .unwrap();
        let said = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert_eq!(
            said,
            format!(
                "lab: --run {}: {why} (os error {})\n",
                path.display(),
                if why.starts_with("No") { 2 } else { 21 }
            ),
        );
        assert!(text(&out.stdout).is_empty(), "a lab was built");
    }
    let out = registry
        .lab()
        .args(["bench", "--runs", "0"])
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("0 is not in 1..=65535"), "{said}");
}

/// Without a terminal the lab is scriptable: `--run FILE` runs its `HOST COMMAND` lines in
/// their hosts, in order, then ends the lab with the last command's exit status.
#[test]
fn run_file_runs_each_line_in_its_host() {
    let registry = Registry::new();
    let Some((out, _)) = registry.run_script(
        "# a comment\na ip -4 -o addr show eth0 | grep -o '10[.0-9]*/24'\n\nb echo \"$LAB_HOST\"; exit 4\n",
    ) else {
        return;
    };
    let (shown, said) = (text(&out.stdout), text(&out.stderr));
    assert!(shown.ends_with("10.0.0.1/24\nb\n"), "{shown}{said}");
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(registry::running_in(&registry.0).unwrap().is_empty());
}
