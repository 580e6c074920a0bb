//! The same measurements with well-known tools, in the same sandbox, for comparison.
//!
//! - **sockperf** (Debian package `sockperf`): `sockperf sr` servers on the group and a
//!   `sockperf tp` client give a multicast message rate; `sockperf pp` gives round trips
//!   (asked for with `--full-rtt`: by default sockperf prints *half* the round trip). It
//!   disables multicast loop unless told `--mc-loopback-enable`, and it is pointed at `lo`
//!   with `--mc-tx-if`/`--mc-rx-if 127.0.0.1`.
//! - **iperf2** (Debian package `iperf`): `iperf -s -u -B GROUP` servers and an
//!   `iperf -c GROUP -u` client; the servers report lost/total datagrams. The client binds
//!   127.0.0.1 (`-B`), which is what keeps its connected socket on `lo` (the C article's
//!   lesson: see the `loopback` crate's `send.rs`).
//!
//! Servers count as ready when the kernel lists that many memberships of the group on `lo`
//! (`/proc/net/igmp`), a condition rather than a sleep. When a run ends they are reaped with
//! `wait4(2)`, whose resource usage gives their CPU time (every thread, the reporter thread
//! of iperf2 included), set against ours in [`crate::sweep`].

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Doing, Error, Result, process_failed};
use serde::{Deserialize, Serialize};

use crate::placement::{Placement, pin_to_cpu};
use crate::summary::RoundTrip;

/// The group the peers use (a different one from ours, so runs cannot mix).
const PEER_GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 16, 18), 7000);

/// A peer tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Peer {
    /// `sockperf tp` / `sockperf pp` against `sockperf sr` servers.
    Sockperf,
    /// `iperf -c` against `iperf -s -u` servers.
    Iperf2,
}

impl Peer {
    /// Both peers, in the order reports list them.
    pub const BOTH: [Peer; 2] = [Peer::Sockperf, Peer::Iperf2];

    /// `sockperf` or `iperf2`.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Sockperf => "sockperf",
            Peer::Iperf2 => "iperf2",
        }
    }
}

/// One peer throughput run: messages per second sent, and copies lost over all receivers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerRun {
    /// Messages per second the client sent.
    pub rate: f64,
    /// Messages the client sent.
    pub sent: u64,
    /// Copies lost, summed over the servers.
    pub lost: u64,
    /// Receivers (servers).
    pub receivers: usize,
    /// CPU time of all the servers together (every thread, user and system), ns.
    pub receiver_cpu_ns: u64,
}

impl PeerRun {
    /// Copies that arrived per receiver per second: the rate, less the lost share.
    pub fn delivered_rate(&self) -> f64 {
        crate::tracker::delivered_rate(self.rate, self.sent, self.lost, self.receivers)
    }

    /// The servers' CPU time per copy that arrived, ns: what the tool's receivers cost.
    pub fn receiver_cpu_per_copy_ns(&self) -> f64 {
        let copies = (self.sent * self.receivers as u64).saturating_sub(self.lost);
        self.receiver_cpu_ns as f64 / copies.max(1) as f64
    }
}

/// How the peers are run.
#[derive(Clone, Debug)]
pub struct PeerSettings {
    /// Seconds per run.
    pub seconds: u64,
    /// Bytes per message.
    pub size: usize,
    /// Messages per second to pace the senders at (`sockperf --mps`, `iperf -b Npps`);
    /// `None`: as fast as they go.
    pub rate: Option<u64>,
    /// CPU placement, the same as ours: servers where our receivers (or echo) go, clients
    /// where our sender goes.
    pub placement: Placement,
}

impl PeerSettings {
    /// What one run needs: seconds, message size, pacing and placement.
    fn run(&self) -> (u64, usize, Option<u64>, Placement) {
        (self.seconds, self.size, self.rate, self.placement)
    }
}

/// One throughput run of `peer` with `n` receivers, inside `host`.
pub fn throughput(
    host: &harness::Host,
    peer: Peer,
    n: usize,
    settings: &PeerSettings,
) -> Result<PeerRun> {
    let (rate, sent, lost, receiver_cpu_ns) = match peer {
        Peer::Sockperf => sockperf_throughput(host, n, settings)?,
        Peer::Iperf2 => iperf_throughput(host, n, settings)?,
    };
    Ok(PeerRun {
        rate,
        sent,
        lost,
        receivers: n,
        receiver_cpu_ns,
    })
}

/// Pins `command`'s process to `cpu` (if any) between fork and exec, as our own roles pin
/// themselves, so that a placement applies to the peers too.
fn pin(command: &mut Command, cpu: Option<usize>) -> &mut Command {
    if let Some(cpu) = cpu {
        // SAFETY: sched_setaffinity is a plain system call, safe between fork and exec.
        unsafe {
            command.pre_exec(move || pin_to_cpu(cpu));
        }
    }
    command
}

/// [`pin`], for a command built inline with its arguments.
fn pin_args<const N: usize>(mut command: Command, cpu: Option<usize>, args: [&str; N]) -> Command {
    command.args(args);
    pin(&mut command, cpu);
    command
}

/// How long a peer server may take to print its totals and exit after SIGINT.
const STOP: Duration = Duration::from_secs(10);

/// Servers that are interrupted (SIGINT, so they print their totals) and reaped on drop.
struct Servers(Vec<Child>);

impl Servers {
    fn start(
        host: &harness::Host,
        count: usize,
        placement: Placement,
        command: impl Fn() -> Command,
    ) -> Result<Servers> {
        let mut servers = Servers(Vec::new());
        for index in 0..count {
            let mut command = command();
            pin(&mut command, placement.receiver_cpu(index));
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .stdin(Stdio::null());
            let program = format!("{:?}", command.get_program());
            servers.0.push(
                host.spawn(&mut command)
                    .doing(|| format!("cannot start {program} (installed?)"))?,
            );
        }
        Ok(servers)
    }

    /// Interrupts every server and returns what each printed (stdout and stderr), and the
    /// CPU time all of them used, all their threads together (user and system, from
    /// `wait4(2)`'s resource usage). A server that has not exited [`STOP`] after its SIGINT is
    /// an error naming it.
    fn finish(mut self) -> Result<(Vec<String>, u64)> {
        let mut outputs = Vec::new();
        let mut cpu_ns = 0;
        for (index, child) in self.0.iter_mut().enumerate() {
            interrupt(child);
            let deadline = Instant::now() + STOP;
            // A condition with a deadline, polled: std offers no wait with a timeout, nor
            // the child's resource usage.
            let waiting = || format!("waiting for peer server {index}");
            loop {
                match reap_with_cpu(child.id()).doing(waiting)? {
                    Some(used) => {
                        cpu_ns += used;
                        break;
                    }
                    None if Instant::now() > deadline => process_failed!(
                        "peer server {index} (pid {}) did not stop within {} s of SIGINT",
                        child.id(),
                        STOP.as_secs()
                    ),
                    None => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            let mut text = String::new();
            if let Some(out) = child.stdout.as_mut() {
                out.read_to_string(&mut text)
                    .doing(|| format!("reading peer server {index}"))?;
            }
            if let Some(err) = child.stderr.as_mut() {
                err.read_to_string(&mut text)
                    .doing(|| format!("reading peer server {index}"))?;
            }
            outputs.push(text);
        }
        // Reaped: nothing left for `Drop` to kill (the pids may already be someone else's).
        self.0.clear();
        Ok((outputs, cpu_ns))
    }
}

/// Reaps child `pid` if it has exited (`wait4(2)` with `WNOHANG`) and returns the CPU time
/// it used, user and system, in nanoseconds; `None` while it runs.
fn reap_with_cpu(pid: u32) -> std::io::Result<Option<u64>> {
    // SAFETY: wait4 on our own child, into a status and a rusage we own.
    let (reaped, usage) = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        let reaped = libc::wait4(pid as libc::pid_t, &mut status, libc::WNOHANG, &mut usage);
        (reaped, usage)
    };
    match reaped {
        0 => Ok(None),
        r if r < 0 => Err(std::io::Error::last_os_error()),
        _ => {
            let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
            Ok(Some(ns(usage.ru_utime) + ns(usage.ru_stime)))
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn interrupt(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
}

/// Waits until `count` sockets of this host are members of `group` on `lo`.
fn wait_for_members(host: &harness::Host, group: Ipv4Addr, count: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let members = host
            .run(|| igmp_users(group))
            .doing(|| "reading /proc/net/igmp".into())?;
        if members >= count {
            return Ok(());
        }
        if Instant::now() > deadline {
            process_failed!("only {members} of {count} servers joined {group} within 10 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Users of `group` on `lo` according to `/proc/net/igmp` of the calling thread's namespace.
fn igmp_users(group: Ipv4Addr) -> std::io::Result<usize> {
    let text = std::fs::read_to_string("/proc/thread-self/net/igmp")?;
    Ok(igmp_users_on_lo(&text, group))
}

/// Users of `group` on `lo` in the text of `/proc/net/igmp`: a line per device (`1\tlo :
/// ...`), then a tab-indented line per group with its address and its number of users.
fn igmp_users_on_lo(text: &str, group: Ipv4Addr) -> usize {
    // The file prints the address as the in-memory (network order) u32 in hex.
    let wanted = format!("{:08X}", u32::from_ne_bytes(group.octets()));
    let mut on_lo = false;
    let mut users = 0;
    for line in text.lines() {
        if !line.starts_with('\t') {
            on_lo = line.split_whitespace().nth(1) == Some("lo");
            continue;
        }
        let mut fields = line.split_whitespace();
        if on_lo && fields.next() == Some(wanted.as_str()) {
            users += fields
                .next()
                .and_then(|u| u.parse::<usize>().ok())
                .unwrap_or(0);
        }
    }
    users
}

/// A sockperf client (`tp` for throughput, `pp` for ping-pong) sending `size`-byte
/// messages to `ip`:`port` for `seconds`, out of `lo` with multicast loop on (sockperf turns
/// it off unless told).
fn sockperf_client(test: &str, ip: &str, port: &str, size: usize, seconds: u64) -> Command {
    let mut command = Command::new("sockperf");
    command.args([test, "-i", ip, "-p", port]);
    command.args(["-m", &size.to_string(), "-t", &seconds.to_string()]);
    command.args(["--mc-loopback-enable", "--mc-tx-if", "127.0.0.1"]);
    command
}

/// A `sockperf sr` server on `ip`:`port`, receiving on `lo`, with `more` arguments.
fn sockperf_server(ip: &str, port: &str, more: &[&str]) -> Command {
    let mut command = Command::new("sockperf");
    command.args(["sr", "-i", ip, "-p", port, "--mc-rx-if", "127.0.0.1"]);
    command.args(more);
    command
}

/// sockperf's message rate, messages sent, lost copies and the servers' CPU time (ns) with
/// `n` servers.
fn sockperf_throughput(
    host: &harness::Host,
    n: usize,
    settings: &PeerSettings,
) -> Result<(f64, u64, u64, u64)> {
    let (seconds, size, rate, placement) = settings.run();
    let (ip, port) = (PEER_GROUP.ip().to_string(), PEER_GROUP.port().to_string());
    let servers = Servers::start(host, n, placement, || {
        sockperf_server(&ip, &port, &["--buffer-size", "8388608"])
    })?;
    wait_for_members(host, *PEER_GROUP.ip(), n)?;
    let mut command = sockperf_client("tp", &ip, &port, size, seconds);
    if let Some(rate) = rate {
        command.arg(format!("--mps={rate}"));
    }
    let client = host
        .output(pin(&mut command, placement.sender_cpu()))
        .doing(|| "running sockperf tp (installed?)".into())?;
    let client_text = String::from_utf8_lossy(&client.stdout).into_owned()
        + &String::from_utf8_lossy(&client.stderr);
    let sent = number_after(&client_text, "Total of ")
        .ok_or_else(|| missing("sockperf tp", "`Total of N messages sent`"))?;
    let rate = number_after(&client_text, "Message Rate is ")
        .ok_or_else(|| missing("sockperf tp", "`Message Rate is N`"))?;
    let mut lost = 0;
    let (texts, receiver_cpu_ns) = servers.finish()?;
    for text in texts {
        let received = number_after(&text, "Total ").unwrap_or(0.0);
        lost += (sent - received).max(0.0) as u64;
    }
    Ok((rate, sent as u64, lost, receiver_cpu_ns))
}

/// iperf2's datagram rate, datagrams sent, lost copies and the servers' CPU time (ns) with
/// `n` servers.
fn iperf_throughput(
    host: &harness::Host,
    n: usize,
    settings: &PeerSettings,
) -> Result<(f64, u64, u64, u64)> {
    let (seconds, size, rate, placement) = settings.run();
    let (ip, port) = (
        PEER_GROUP.ip().to_string(),
        (PEER_GROUP.port() + 1).to_string(),
    );
    let servers = Servers::start(host, n, placement, || {
        let mut c = Command::new("iperf");
        c.args([
            "-s",
            "-u",
            "-B",
            &ip,
            "-p",
            &port,
            "-l",
            &size.to_string(),
            "-w",
            "8M",
        ]);
        c
    })?;
    wait_for_members(host, *PEER_GROUP.ip(), n)?;
    let client = host
        .output(&mut pin_args(
            Command::new("iperf"),
            placement.sender_cpu(),
            [
                "-c",
                &ip,
                "-u",
                "-l",
                &size.to_string(),
                "-b",
                &format!("{}pps", rate.unwrap_or(10_000_000)),
                "-t",
                &seconds.to_string(),
                "-T",
                "1",
                "-p",
                &port,
                "-B",
                "127.0.0.1",
            ],
        ))
        .doing(|| "running iperf -c (installed?)".into())?;
    let client_text = String::from_utf8_lossy(&client.stdout).into_owned();
    let sent = number_after(&client_text, "Sent ")
        .ok_or_else(|| missing("iperf", "`Sent N datagrams`"))?;
    let interval = interval_seconds(&client_text).unwrap_or(seconds as f64);
    // The servers print their report when the client's last datagram arrives.
    let mut lost = 0;
    let (texts, receiver_cpu_ns) = servers.finish()?;
    for text in texts {
        let (missing, _total) =
            lost_total(&text).ok_or_else(|| missing("iperf -s", "Lost/Total"))?;
        lost += missing;
    }
    Ok((sent / interval, sent as u64, lost, receiver_cpu_ns))
}

/// One sockperf ping-pong run inside `host`: its round trips (full, not halved), µs.
pub fn sockperf_round_trip(host: &harness::Host, settings: &PeerSettings) -> Result<RoundTrip> {
    let (seconds, size, _, placement) = settings.run();
    let (ip, port) = (
        PEER_GROUP.ip().to_string(),
        (PEER_GROUP.port() + 2).to_string(),
    );
    let servers = Servers::start(host, 1, placement, || {
        sockperf_server(&ip, &port, &["--mc-tx-if", "127.0.0.1"])
    })?;
    wait_for_members(host, *PEER_GROUP.ip(), 1)?;
    let mut command = sockperf_client("pp", &ip, &port, size, seconds);
    command.args(["--mc-rx-if", "127.0.0.1", "--full-rtt"]);
    let client = host
        .output(pin(&mut command, placement.sender_cpu()))
        .doing(|| "running sockperf pp (installed?)".into())?;
    servers.finish()?;
    let text = String::from_utf8_lossy(&client.stdout).into_owned()
        + &String::from_utf8_lossy(&client.stderr);
    let percentile = |p: &str| {
        number_after(&text, &format!("percentile {p} ="))
            .ok_or_else(|| missing("sockperf pp", &format!("`percentile {p}`")))
    };
    Ok(RoundTrip {
        p50_us: percentile("50.000")?,
        p99_us: percentile("99.000")?,
        p999_us: percentile("99.900")?,
    })
}

fn missing(tool: &'static str, figure: &str) -> Error {
    Error::PeerOutput {
        tool,
        figure: figure.to_string(),
    }
}

/// The first number after the last occurrence of `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<f64> {
    let rest = &text[text.rfind(marker)? + marker.len()..];
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// iperf2's interval length from a line like `0.0000-1.0002 sec`.
fn interval_seconds(text: &str) -> Option<f64> {
    let line = text.lines().rev().find(|l| l.contains(" sec "))?;
    let span = line
        .split_whitespace()
        .find(|w| w.contains('-') && w.starts_with(|c: char| c.is_ascii_digit()))?;
    let (start, end) = span.split_once('-')?;
    Some(end.parse::<f64>().ok()? - start.parse::<f64>().ok()?)
}

/// The last `lost/total` pair an iperf2 server printed.
fn lost_total(text: &str) -> Option<(u64, u64)> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains('%') && l.contains('/'))?;
    let pair = line
        .split_whitespace()
        .rev()
        .find(|w| w.contains('/') && w.starts_with(|c: char| c.is_ascii_digit()))?;
    let (lost, total) = pair.split_once('/')?;
    Some((lost.parse().ok()?, total.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures are read from the tools' own words.
    #[test]
    fn peer_output_is_parsed() {
        let sockperf = "sockperf: Total of 136183 messages sent in 1.000 sec\nsockperf: Summary: Message Rate is 136118 [msg/sec]\n";
        assert_eq!(number_after(sockperf, "Total of "), Some(136183.0));
        assert_eq!(number_after(sockperf, "Message Rate is "), Some(136118.0));
        assert_eq!(
            number_after(
                "sockperf: ---> percentile 50.000 =    4.734\n",
                "percentile 50.000 ="
            ),
            Some(4.734)
        );
        let client =
            "[  1] 0.0000-1.0002 sec  7.03 MBytes  59.0 Mbits/sec\n[  1] Sent 115237 datagrams\n";
        assert_eq!(number_after(client, "Sent "), Some(115237.0));
        assert!((interval_seconds(client).unwrap() - 1.0002).abs() < 1e-9);
        let server =
            "[  1] 0.0000-1.0001 sec  7.03 MBytes  59.0 Mbits/sec   0.002 ms 12/115236 (0.01%)\n";
        assert_eq!(lost_total(server), Some((12, 115236)));
    }

    /// `/proc/net/igmp` as Linux 6.18 wrote it in a namespace where three sockets joined
    /// 239.255.16.18 on `lo` and one on `eth0`: only `lo`'s users of that group count.
    #[test]
    fn igmp_users_are_read_per_group_on_lo() {
        let text = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n\
                    1\tlo        :     2      V3\n\
                    \t\t\t\t1210FFEF     3 0:00000000\t\t0\n\
                    \t\t\t\t010000E0     1 0:00000000\t\t0\n\
                    2\teth0      :     2      V3\n\
                    \t\t\t\t1210FFEF     1 0:00000000\t\t0\n\
                    \t\t\t\t010000E0     1 0:00000000\t\t0\n";
        assert_eq!(igmp_users_on_lo(text, *PEER_GROUP.ip()), 3);
        assert_eq!(igmp_users_on_lo(text, Ipv4Addr::new(224, 0, 0, 1)), 1);
        assert_eq!(igmp_users_on_lo(text, Ipv4Addr::new(239, 1, 1, 1)), 0);
    }
}
