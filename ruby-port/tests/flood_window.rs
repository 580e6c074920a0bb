//! The flood suite for the chat's window (see `tests/suite/flood.rs` for the line-mode
//! programs, which it shares its helpers with): 100,000 hostile datagrams from another
//! host, after which the window still runs, shows a friend's message, stayed within its
//! memory bound, drew at most one frame per interval, let no peer escape sequence reach the
//! terminal, and ends on Esc during a flood.
//!
//! A test binary of its own, not a module of `tests/suite/`: the line-mode floods already run
//! there, and two floods' worth of CPU in one binary would make it the suite's longest.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;
use std::time::Instant;

use common::DEADLINE;
use common::hostile::{
    AFTER, FLOOD, READY, assert_within_memory_bound, hostile, memory, send_message,
};
use common::tmux::Tmux;
use harness::Lan;
use harness::flood;
use ruby_port::{BACKCHANNEL_GROUP, FRAME_INTERVAL};

const CHAT: &str = env!("CARGO_BIN_EXE_chat");

/// A file for a test's recorded terminal output, removed when the test ends
/// however it ends.
struct OutputFile(std::path::PathBuf);

impl OutputFile {
    fn new(lan: &Lan, name: &str) -> OutputFile {
        OutputFile(std::env::temp_dir().join(format!(
            "ruby-port-flood-{name}-{}-{}.out",
            std::process::id(),
            lan.host("b").namespace_inode()
        )))
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The chat window under a flood: still running and showing a friend's
/// message afterwards, memory under the bound (the history keeps only its
/// scrollback), no escape sequence from a peer written to the terminal, and
/// at most one frame drawn per frame interval however fast messages came.
#[test]
fn chat_window_survives_a_flood_bounded_and_clean() {
    let tmux_program = harness::or_skip!(harness::tool(harness::Capability::Tmux));
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let tmux = Tmux::start(lan.host("b"), tmux_program, &format!("{CHAT} bob"));
    tmux.until_screen_shows(" [backchannel]");
    let pid = tmux.program_pid();
    let recorded = OutputFile::new(&lan, "window");
    let started = Instant::now();
    tmux.record_output(&recorded.0);
    send_message(lan.host("a"), BACKCHANNEL_GROUP, READY);
    tmux.until_screen_shows(READY);
    let idle = memory(pid);

    let sent = hostile(FLOOD)
        .send(lan.host("a"), BACKCHANNEL_GROUP)
        .unwrap();
    assert_eq!(sent.datagrams, FLOOD);
    tmux.until(&format!("{AFTER:?} on the screen"), || {
        send_message(lan.host("a"), BACKCHANNEL_GROUP, AFTER);
        tmux.screen().contains(AFTER)
    });
    let elapsed = started.elapsed();
    let after = memory(pid);
    assert!(tmux.exit_status().is_empty(), "chat is still running");

    assert_within_memory_bound(idle, after);
    let output = std::fs::read(&recorded.0).unwrap_or_default();
    assert_eq!(
        flood::injected_sequences(&output),
        Vec::<&str>::new(),
        "escape sequences from a peer reached the terminal"
    );
    // ratatui shows the cursor once per frame it draws (`ESC [?25h`).
    let frames = output.windows(6).filter(|w| w == b"\x1b[?25h").count();
    let allowed = (elapsed.as_millis() / FRAME_INTERVAL.as_millis()) as usize + 2;
    assert!(frames >= 1, "the window drew during the flood");
    assert!(
        frames <= allowed,
        "{frames} frames in {elapsed:?}: more than one per {FRAME_INTERVAL:?}"
    );
}

/// Esc ends the window while a flood is still arriving, after a whole flood
/// of 100,000 datagrams has already been sent: keys are read before network
/// work and nothing queues up, so the exit does not wait for the backlog
/// (before the fixes it took over a minute).
#[test]
fn esc_ends_the_chat_window_during_a_flood() {
    let tmux_program = harness::or_skip!(harness::tool(harness::Capability::Tmux));
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let tmux = Tmux::start(lan.host("b"), tmux_program, &format!("{CHAT} bob"));
    tmux.until_screen_shows(" [backchannel]");
    let stop = AtomicBool::new(false);
    let (flooded, first_flood) = channel();
    /// Stops the flooder however the scope ends, so a failure cannot hang it.
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let _stop = Stop(&stop);
        // One whole flood, then more until told to stop: the Esc lands
        // during one, with the first one's worth already sent.
        scope.spawn(|| {
            hostile(FLOOD)
                .send(lan.host("a"), BACKCHANNEL_GROUP)
                .unwrap();
            let _ = flooded.send(());
            while !stop.load(Ordering::Relaxed) {
                hostile(FLOOD / 100)
                    .send(lan.host("a"), BACKCHANNEL_GROUP)
                    .unwrap();
            }
        });
        first_flood
            .recv_timeout(10 * DEADLINE)
            .expect("the first flood was sent");
        tmux.run(&["send-keys", "-t", "chat", "Escape"]);
        tmux.until_exited();
    });
    assert_eq!(tmux.exit_status(), "0");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the terminal is restored"
    );
}
