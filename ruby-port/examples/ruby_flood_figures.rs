//! Figures for issue 11: how much resident memory `chat` (window and line
//! mode) and `receive` use idle and after a flood of 100,000 hostile
//! datagrams from another host, and how long the chat window takes to end
//! after Esc while a flood is arriving, next to the same time when idle (the
//! floor: tmux, the key's way in, the terminal restored, the process reaped).
//!
//! Everything runs on a harness LAN of two hosts (`a` floods, `b` listens),
//! so nothing reaches the real network. It prints figures and asserts
//! nothing; the flood suite (`tests/suite/flood.rs`, `tests/flood_window.rs`) holds the assertions. Needs
//! tmux, and the programs built next to it:
//!
//! ```text
//! cargo build -p ruby-port --release --bins --examples
//! target/release/examples/ruby_flood_figures [RUNS]
//! ```

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::flood::{self, Watched};
use harness::{Group, Lan};
use ruby_port::{BACKCHANNEL_GROUP, SEND_RECEIVE_GROUP};

/// How long a step that should happen at once may take before it is a failure.
const DEADLINE: Duration = Duration::from_secs(20);

#[allow(dead_code)]
#[path = "../tests/common/hostile.rs"]
mod hostile;
#[allow(dead_code)]
#[path = "../tests/common/tmux.rs"]
mod tmux;

use hostile::{hostile, memory, send_message};
use tmux::Tmux;

const FLOOD: u64 = 100_000;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("RUNS is a number"))
        .unwrap_or(5);
    let bin = std::env::current_exe()
        .expect("the example's path")
        .parent()
        .and_then(Path::parent)
        .expect("target/PROFILE/examples")
        .to_path_buf();
    let chat = bin.join("chat");
    let receive = bin.join("receive");
    for program in [&chat, &receive] {
        if !program.exists() {
            eprintln!(
                "error: {} is missing: build it first (cargo build -p ruby-port --bins, with the same profile)",
                program.display()
            );
            std::process::exit(1);
        }
    }
    let Some(tmux) = tmux_program() else {
        eprintln!("skipped: tmux is not installed");
        return;
    };
    let lan = match Lan::new(["a", "b"]) {
        Ok(lan) => lan,
        Err(e) => {
            eprintln!("skipped: no sandbox: {e}");
            return;
        }
    };

    println!("resident memory, idle and after a flood of {FLOOD} hostile datagrams (KiB):");
    println!(
        "{:<14} {:>8} {:>8} {:>8} {:>7}",
        "program", "idle", "after", "peak", "peak/idle"
    );
    let window = memory_of_window(&lan, &tmux, &chat);
    print_memory("chat (window)", window);
    let plain = memory_of_line_mode(&lan, &chat, &["--plain", "bob"], BACKCHANNEL_GROUP);
    print_memory("chat --plain", plain);
    let receive = memory_of_line_mode(&lan, &receive, &[], SEND_RECEIVE_GROUP);
    print_memory("receive", receive);

    println!();
    println!("Esc to exit of the chat window, median of {runs} runs (ms):");
    let idle: Vec<f64> = (0..runs)
        .map(|_| esc_to_exit(&lan, &tmux, &chat, false))
        .collect();
    let flooded: Vec<f64> = (0..runs)
        .map(|_| esc_to_exit(&lan, &tmux, &chat, true))
        .collect();
    println!(
        "  idle (floor)     {:>7.1}   runs: {}",
        median(&idle),
        list(&idle)
    );
    println!(
        "  during a flood   {:>7.1}   runs: {}",
        median(&flooded),
        list(&flooded)
    );
}

fn tmux_program() -> Option<PathBuf> {
    harness::tool(harness::Capability::Tmux).ok()
}

fn print_memory(name: &str, (idle, after): (flood::Memory, flood::Memory)) {
    println!(
        "{name:<14} {:>8} {:>8} {:>8} {:>7.2}x",
        idle.resident_kib,
        after.resident_kib,
        after.peak_kib,
        after.peak_kib as f64 / idle.resident_kib as f64
    );
}

/// The chat window: idle once it shows a message, then after the flood once
/// it shows a message sent afterwards.
fn memory_of_window(lan: &Lan, tmux: &Path, chat: &Path) -> (flood::Memory, flood::Memory) {
    let session = Tmux::start(
        lan.host("b"),
        tmux.to_path_buf(),
        &format!("{} bob", chat.display()),
    );
    session.until_screen_shows(" [backchannel]");
    let pid = session.program_pid();
    send_message(lan.host("a"), BACKCHANNEL_GROUP, "ready");
    session.until_screen_shows("ready");
    let idle = memory(pid);
    hostile(FLOOD)
        .send(lan.host("a"), BACKCHANNEL_GROUP)
        .expect("flooding");
    session.until("the message after the flood", || {
        send_message(lan.host("a"), BACKCHANNEL_GROUP, "after");
        session.screen().contains("<friend> after")
    });
    (idle, memory(pid))
}

/// A line-mode program: idle once it printed a line, then after the flood
/// once it printed a line sent afterwards. Only its `mark:` lines are kept.
fn memory_of_line_mode(
    lan: &Lan,
    program: &Path,
    args: &[&str],
    group: Group,
) -> (flood::Memory, flood::Memory) {
    let mut watched =
        Watched::start_with_stdin(lan.host("b"), Command::new(program).args(args), |line| {
            line.contains("mark:")
        });
    let shown = |watched: &mut Watched, text: &str| {
        watched.wait_for_resending(
            |line| line.contains(text),
            || send_message(lan.host("a"), group, text),
        )
    };
    shown(&mut watched, "mark: ready");
    let idle = watched.memory();
    hostile(FLOOD).send(lan.host("a"), group).expect("flooding");
    shown(&mut watched, "mark: after");
    (idle, watched.memory())
}

/// Milliseconds from sending Esc to the chat process being gone, with or
/// without a flood arriving (after a whole flood of 100,000 has been sent).
fn esc_to_exit(lan: &Lan, tmux: &Path, chat: &Path, flooded: bool) -> f64 {
    let session = Tmux::start(
        lan.host("b"),
        tmux.to_path_buf(),
        &format!("{} bob", chat.display()),
    );
    session.until_screen_shows(" [backchannel]");
    let pid = session.program_pid();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (first_done, first_flood) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let _stop = Stop(&stop);
        if flooded {
            scope.spawn(|| {
                hostile(FLOOD)
                    .send(lan.host("a"), BACKCHANNEL_GROUP)
                    .expect("flooding");
                let _ = first_done.send(());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    hostile(FLOOD / 100)
                        .send(lan.host("a"), BACKCHANNEL_GROUP)
                        .expect("flooding");
                }
            });
            first_flood.recv().expect("the first flood was sent");
        }
        let pressed = Instant::now();
        session.run(&["send-keys", "-t", "chat", "Escape"]);
        let proc = format!("/proc/{pid}/stat");
        let end = pressed + DEADLINE;
        // Gone, or a zombie the shell has yet to reap.
        while std::fs::read_to_string(&proc).is_ok_and(|stat| !stat.contains(") Z ")) {
            assert!(
                Instant::now() < end,
                "chat did not exit within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        pressed.elapsed().as_secs_f64() * 1000.0
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stops a flooder however its scope ends, so a failure cannot hang it.
struct Stop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
