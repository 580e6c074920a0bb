//! Hostile input for programs that listen to a group: a flood of mixed datagrams sent from a
//! host, and the checks a test makes afterwards (resident memory, control sequences in what
//! the program printed). [`Watched`] runs the program under test in a host and reads its
//! output as it comes (through a [`Running`]), counting lines and control characters without
//! keeping them all; it panics with what it saw when an expectation fails, as a test helper
//! does. The `*_flood_figures` examples of the ports share their plumbing from here too: a
//! figures example runs itself again as the program under test ([`role`],
//! [`Watched::start_role`]) and prints one table ([`print_memory_figures`]).
//!
//! A group is open to anyone on the segment, so a listener must survive whatever arrives.
//! [`Flood`] sends `count` datagrams in a fixed rotation of five kinds ([`Kind`]): valid
//! messages, malformed bytes, oversized datagrams, valid messages whose text carries terminal
//! escape sequences, and valid messages cut short. The valid ones come from a closure the test
//! gives, because only the program's own protocol knows what valid is.
//!
//! ```no_run
//! use harness::{Group, Lan, flood::Flood};
//!
//! let lan = harness::or_skip!(Lan::new(["a", "b"]));
//! let group = Group::parse("239.1.2.3:5000").unwrap();
//! let sent = Flood::new(100_000, |n, text| format!("{n} {text}").into_bytes())
//!     .send(lan.host("a"), group)
//!     .unwrap();
//! assert_eq!(sent.datagrams, 100_000);
//! ```

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::Context;
use crate::{Group, Host, Running};

/// Escape sequences a peer might send to take over a terminal: clear the screen, set the
/// window title, ask the terminal to answer (device status report), an 8-bit CSI, a bell.
/// [`injected_sequences`] looks for exactly these in a program's output.
pub const ESCAPES: &str = "\u{1b}[2J\u{1b}]0;FLOOD\u{7}\u{1b}[6n\u{9b}31m\u{7}";

/// The kinds of datagram in a flood, in the order they rotate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A valid message, as the closure made it.
    Valid,
    /// Bytes that follow no protocol (0 to 255 of them, including invalid UTF-8).
    Malformed,
    /// A valid message padded to [`Flood::oversized`] bytes with more text.
    Oversized,
    /// A valid message whose text is [`ESCAPES`].
    Escapes,
    /// The first half of a valid message.
    Truncated,
}

impl Kind {
    /// The kind of the `n`-th datagram of a flood.
    pub fn of(n: u64) -> Kind {
        match n % 5 {
            0 => Kind::Valid,
            1 => Kind::Malformed,
            2 => Kind::Oversized,
            3 => Kind::Escapes,
            _ => Kind::Truncated,
        }
    }
}

/// What a flood sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// Datagrams handed to the kernel.
    pub datagrams: u64,
    /// Their bytes (UDP payload).
    pub bytes: u64,
}

/// A flood of `count` datagrams; see the module docs.
pub struct Flood<F> {
    count: u64,
    valid: F,
    oversized: usize,
    /// The padding of the oversized datagrams, made once: `FILLER` repeated to `oversized`
    /// bytes.
    filler: String,
}

/// What pads an oversized datagram's text, over and over.
const FILLER: &str = "0123456789abcdef";

/// `FILLER` repeated to `bytes` bytes (cut in the middle of a repeat if need be).
fn filler(bytes: usize) -> String {
    let mut filler = FILLER.repeat(bytes / FILLER.len() + 1);
    filler.truncate(bytes);
    filler
}

impl<F: Fn(u64, &str) -> Vec<u8> + Sync> Flood<F> {
    /// `count` datagrams whose valid ones are `valid(n, text)`: message number `n` carrying
    /// `text`.
    pub fn new(count: u64, valid: F) -> Flood<F> {
        Flood {
            count,
            valid,
            oversized: 8192,
            filler: filler(8192),
        }
    }

    /// The size of the oversized datagrams (default 8192 bytes; at most 65,507).
    pub fn oversized(mut self, bytes: usize) -> Flood<F> {
        self.oversized = bytes.min(65_507);
        self.filler = filler(self.oversized);
        self
    }

    /// The `n`-th datagram.
    pub fn datagram(&self, n: u64) -> Vec<u8> {
        datagram(n, &self.valid, &self.filler)
    }

    /// Sends the flood from `host` to `group` (TTL 1, blocking sends, as fast as the host's
    /// kernel takes them) and returns what was sent.
    pub fn send(&self, host: &Host, group: Group) -> crate::Result<Sent> {
        let to = group.socket_addr();
        host.run(|| self.send_from_here(to))
            .doing(|| format!("flooding {to} from host {}", host.name()))
    }

    /// Sends the flood from `host` to one unicast address and port: the way to flood a
    /// program that listens for replies on its own port (a sender collecting
    /// acknowledgements) rather than on a group.
    pub fn send_to(&self, host: &Host, to: SocketAddr) -> crate::Result<Sent> {
        host.run(|| self.send_from_here(to))
            .doing(|| format!("flooding {to} from host {}", host.name()))
    }

    fn send_from_here(&self, to: SocketAddr) -> io::Result<Sent> {
        let socket = Socket::new(Domain::for_address(to), Type::DGRAM, Some(Protocol::UDP))?;
        if to.is_ipv4() {
            socket.set_multicast_ttl_v4(1)?;
        } else {
            socket.set_multicast_hops_v6(1)?;
        }
        send_datagrams(&socket.into(), to, self.count, &self.valid, &self.filler)
    }
}

// The work per datagram is in functions that are not generic over the closure: they are
// compiled once, in this crate, instead of in every test that floods.

/// The `n`-th datagram of a flood whose valid messages `valid` makes and whose oversized
/// ones are padded with `filler` (the oversized size's worth of it).
fn datagram(n: u64, valid: &dyn Fn(u64, &str) -> Vec<u8>, filler: &str) -> Vec<u8> {
    match Kind::of(n) {
        Kind::Valid => valid(n, &format!("flood message {n}")),
        Kind::Malformed => malformed(n),
        Kind::Oversized => {
            // The text fills the datagram up to the size, whatever frame the protocol puts
            // around it: a heading, then the filler.
            let frame = valid(n, "").len();
            let wanted = filler.len().saturating_sub(frame);
            let mut text = format!("oversized message {n} ");
            let padding = wanted.saturating_sub(text.len());
            text.push_str(&filler[..padding]);
            text.truncate(wanted);
            valid(n, &text)
        }
        Kind::Escapes => valid(n, ESCAPES),
        Kind::Truncated => {
            let mut datagram = valid(n, &format!("truncated message {n}"));
            datagram.truncate(datagram.len() / 2);
            datagram
        }
    }
}

/// Sends datagrams 0 to `count` - 1 to `to`, one blocking send each.
fn send_datagrams(
    socket: &UdpSocket,
    to: SocketAddr,
    count: u64,
    valid: &dyn Fn(u64, &str) -> Vec<u8>,
    filler: &str,
) -> io::Result<Sent> {
    let mut sent = Sent::default();
    for n in 0..count {
        let datagram = datagram(n, valid, filler);
        socket.send_to(&datagram, to)?;
        sent.datagrams += 1;
        sent.bytes += datagram.len() as u64;
    }
    Ok(sent)
}

// ---- Watching a program through a flood ----

/// Upper bound for anything a flood test waits for; only reached when something is broken.
pub const WATCH_DEADLINE: Duration = Duration::from_secs(30);

/// What a watched program printed, in counts.
#[derive(Debug, Default, Clone)]
pub struct Printed {
    /// Lines printed.
    pub lines: u64,
    /// The first few lines that carried a control character (shown escaped).
    pub with_controls: Vec<String>,
}

/// A program started in a host, its stdout read by a thread (a [`Running`]) that counts
/// every line and keeps only the ones a test waits for.
pub struct Watched {
    running: Running,
    printed: Arc<Mutex<Printed>>,
    /// The highest resident memory seen by [`Watched::memory`] so far.
    pub peak: Option<Memory>,
}

impl Watched {
    /// Starts `command` in `host` with its stdin empty; lines for which `keep` is true are
    /// kept for [`Watched::wait_for`], the others are only counted and checked.
    pub fn start(host: &Host, command: &mut Command, keep: fn(&str) -> bool) -> Watched {
        Watched::watching(host, command.stdin(Stdio::null()), keep)
    }

    /// Starts `command` in `host` as [`Watched::start`] does, but with a pipe to its stdin,
    /// held open: for a program that ends at the end of its input (`chat --plain`).
    pub fn start_with_stdin(host: &Host, command: &mut Command, keep: fn(&str) -> bool) -> Watched {
        Watched::watching(host, command.stdin(Stdio::piped()), keep)
    }

    /// Starts this very executable again as `role ARGS` in `host` (see [`role`]): how a
    /// figures example measures the program under test as a process of its own.
    pub fn start_role(host: &Host, args: &[&str], keep: fn(&str) -> bool) -> Watched {
        let exe = std::env::current_exe().expect("the path of this executable");
        Watched::start(host, Command::new(exe).arg("role").args(args), keep)
    }

    fn watching(host: &Host, command: &mut Command, keep: fn(&str) -> bool) -> Watched {
        let printed = Arc::new(Mutex::new(Printed::default()));
        let count = Arc::clone(&printed);
        let running = Running::start_filtered(host, command, move |line| {
            let mut printed = count.lock().unwrap();
            printed.lines += 1;
            if printed.with_controls.len() < 5 && !control_characters(line).is_empty() {
                printed.with_controls.push(format!("{line:?}"));
            }
            keep(line)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        Watched {
            running,
            printed,
            peak: None,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.running.pid()
    }

    /// Waits for a kept line satisfying `wanted` (bounded by [`WATCH_DEADLINE`]).
    pub fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        self.wait_for_resending(wanted, || {})
    }

    /// Waits for a kept line satisfying `wanted`, calling `resend` at once and then every
    /// 100 ms until it comes: a datagram sent just after a flood may meet a full queue and
    /// be dropped, so the test sends it again until it shows (bounded by [`WATCH_DEADLINE`]).
    pub fn wait_for_resending(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        mut resend: impl FnMut(),
    ) -> String {
        let end = Instant::now() + WATCH_DEADLINE;
        resend();
        loop {
            let step = (Instant::now() + Duration::from_millis(100)).min(end);
            match self.running.wait_for(&wanted, step) {
                Ok(line) => return line,
                Err(not_seen) if !not_seen.ended && Instant::now() < end => resend(),
                Err(not_seen) => panic!(
                    "the program did not print the line expected; it printed {:?}; {not_seen}",
                    self.printed(),
                ),
            }
        }
    }

    /// What it printed so far, in counts.
    pub fn printed(&self) -> Printed {
        self.printed.lock().unwrap().clone()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.running.try_wait().expect("poll the child").is_none()
    }

    /// Its resident memory now (and the most it ever had), remembered in [`Watched::peak`].
    pub fn memory(&mut self) -> Memory {
        let memory = memory(self.pid()).expect("read /proc/PID/status");
        self.remember(memory);
        memory
    }

    fn remember(&mut self, memory: Memory) {
        if self
            .peak
            .is_none_or(|peak| peak.peak_kib <= memory.peak_kib)
        {
            self.peak = Some(memory);
        }
    }

    /// Waits for it to end (bounded by [`WATCH_DEADLINE`]), sampling its memory every 5 ms
    /// meanwhile: exit code.
    pub fn finish(&mut self) -> i32 {
        let end = Instant::now() + WATCH_DEADLINE;
        loop {
            if let Some(status) = self.running.try_wait().expect("poll the child") {
                return status.code().unwrap_or(-1);
            }
            if let Ok(memory) = memory(self.pid()) {
                self.remember(memory);
            }
            assert!(Instant::now() < end, "the program did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Everything it printed on stderr; call once it has ended (it is killed if not).
    pub fn stderr(&mut self) -> String {
        self.running.kill().join("\n")
    }
}

/// Bytes of no protocol: a length and content that vary with `n`, invalid UTF-8 included.
fn malformed(n: u64) -> Vec<u8> {
    let mut state = n
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let len = (state >> 56) as usize;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

/// Resident memory of a process, from `/proc/PID/status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Resident now (`VmRSS`), in KiB.
    pub resident_kib: u64,
    /// The most it was ever resident (`VmHWM`), in KiB.
    pub peak_kib: u64,
}

/// The resident memory of process `pid`.
pub fn memory(pid: u32) -> io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| io::Error::other(format!("no {name} in /proc/{pid}/status")))
    };
    Ok(Memory {
        resident_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

/// The header of a memory-figures table: what [`memory_figures_row`] prints under.
pub fn memory_figures_header() -> String {
    format!(
        "{:<22} {:>9} {:>10} {:>10} {:>7}",
        "program", "idle RSS", "after RSS", "peak RSS", "peak/idle"
    )
}

/// One row of a memory-figures table: the medians, over several runs, of a program's
/// resident memory idle, after a flood, and at its peak (KiB), and peak over idle. Each run
/// is `(idle, after)`.
pub fn memory_figures_row(program: &str, runs: &[(Memory, Memory)]) -> String {
    let median = |value: fn(&(Memory, Memory)) -> u64| {
        let mut values: Vec<u64> = runs.iter().map(value).collect();
        values.sort_unstable();
        values.get(values.len() / 2).copied().unwrap_or(0)
    };
    let idle = median(|(idle, _)| idle.resident_kib);
    let after = median(|(_, after)| after.resident_kib);
    let peak = median(|(_, after)| after.peak_kib);
    format!(
        "{program:<22} {idle:>9} {after:>10} {peak:>10} {:>8.2}",
        peak as f64 / idle.max(1) as f64
    )
}

// ---- Figures: what the `*_flood_figures` examples print ----

/// One run of a figures example: the program's `(idle, after)` memory.
pub type Measure = dyn Fn() -> (Memory, Memory);

/// The arguments after `role` when this process is a figures example started again by
/// [`Watched::start_role`] to play the program under test; `None` in the example itself.
pub fn role() -> Option<Vec<String>> {
    let mut args = std::env::args().skip(1);
    (args.next().as_deref() == Some("role")).then(|| args.collect())
}

/// Prints a memory-figures table: a title (`flood figures: DATAGRAMS datagrams FROM, medians
/// of RUNS runs (KiB)`), the header, and a row per program, each from RUNS calls of its
/// measure. RUNS is the example's first argument, 5 without one.
pub fn print_memory_figures(datagrams: u64, from: &str, programs: &[(&str, &Measure)]) {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    println!("flood figures: {datagrams} datagrams {from}, medians of {runs} runs (KiB)");
    println!("{}", memory_figures_header());
    for (program, measure) in programs {
        let figures: Vec<(Memory, Memory)> = (0..runs).map(|_| measure()).collect();
        println!("{}", memory_figures_row(program, &figures));
    }
}

/// Control characters in `output` that a line-mode program must never print: every C0
/// control but newline, tab and carriage return, DEL, and the C1 controls (U+0080-U+009F).
/// Returns each as its byte offset and the character.
pub fn control_characters(output: &str) -> Vec<(usize, char)> {
    // Most output is printable ASCII: a byte test settles it without decoding characters.
    if output
        .bytes()
        .all(|b| matches!(b, b' '..=b'~' | b'\n' | b'\t' | b'\r'))
    {
        return Vec::new();
    }
    output
        .char_indices()
        .filter(|&(_, c)| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        .collect()
}

/// The sequences of [`ESCAPES`] that reached `output` raw (for full-screen programs, which
/// print escape sequences of their own): the title change, the status request and the 8-bit
/// CSI.
pub fn injected_sequences(output: &[u8]) -> Vec<&'static str> {
    let raw = ["\u{1b}]0;FLOOD", "\u{1b}[6n", "\u{9b}31m"];
    raw.into_iter()
        .filter(|needle| {
            output
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flood() -> Flood<impl Fn(u64, &str) -> Vec<u8> + Sync> {
        Flood::new(10, |n, text| {
            format!("{{\"n\":{n},\"text\":{text:?}}}").into_bytes()
        })
    }

    #[test]
    fn the_kinds_rotate_in_a_fixed_order() {
        let kinds: Vec<Kind> = (0..6).map(Kind::of).collect();
        assert_eq!(
            kinds,
            [
                Kind::Valid,
                Kind::Malformed,
                Kind::Oversized,
                Kind::Escapes,
                Kind::Truncated,
                Kind::Valid
            ]
        );
    }

    #[test]
    fn oversized_datagrams_are_whole_valid_messages_of_the_stated_size() {
        let flood = flood().oversized(2000);
        let datagram = flood.datagram(2);
        assert!(
            datagram.len() <= 2000 && datagram.len() > 1900,
            "{}",
            datagram.len()
        );
        assert!(datagram.ends_with(b"\"}"), "still a whole message");
    }

    #[test]
    fn escape_datagrams_carry_the_escapes_and_truncated_ones_are_cut() {
        let flood = flood();
        let escapes = String::from_utf8(flood.datagram(3)).unwrap();
        assert!(escapes.contains("]0;FLOOD"), "{escapes}");
        let truncated = flood.datagram(4);
        assert!(!truncated.ends_with(b"}"));
    }

    #[test]
    fn control_characters_are_found_but_newlines_and_tabs_pass() {
        assert_eq!(control_characters("a\tb\nc\r\n"), []);
        assert_eq!(
            control_characters("x\u{1b}[2Jy\u{9b}"),
            [(1, '\u{1b}'), (6, '\u{9b}')]
        );
    }

    #[test]
    fn injected_sequences_are_found_raw_not_when_shown_escaped() {
        assert_eq!(injected_sequences(ESCAPES.as_bytes()).len(), 3);
        assert!(injected_sequences(b"\\u{1b}]0;FLOOD ^[]0;FLOOD").is_empty());
    }

    #[test]
    fn a_flood_reaches_a_unicast_port() {
        let host = crate::or_skip!(crate::Sandbox::new());
        let socket = host
            .run(|| UdpSocket::bind("127.0.0.1:0"))
            .expect("bind in the sandbox");
        let to = socket.local_addr().unwrap();
        let sent = flood().send_to(&host, to).unwrap();
        assert_eq!(sent.datagrams, 10);
        let mut buffer = [0u8; 65_536];
        let (length, _) = socket.recv_from(&mut buffer).unwrap();
        assert_eq!(&buffer[..length], &flood().datagram(0)[..]);
    }

    #[test]
    fn memory_of_this_process_is_read() {
        let memory = memory(std::process::id()).unwrap();
        assert!(memory.resident_kib > 0 && memory.peak_kib >= memory.resident_kib);
    }
}
