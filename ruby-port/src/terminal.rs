//! Running a [`Window`] on a real terminal with crossterm, and the plain line
//! mode for pipes and scripts.
//!
//! The window is shared by two threads. The client's receive thread puts each
//! event into it (a short lock per datagram) and marks it changed; the main
//! thread waits for keys with `poll`, handles every key as soon as it comes,
//! and draws at most one frame per [`FRAME_INTERVAL`], and only when something changed.
//! So however fast datagrams arrive, nothing queues up between the network and
//! the screen: the history is bounded ([`Window::with_scrollback`]), redraws
//! are coalesced, and Esc is read within one frame even during a flood. What
//! the receive thread cannot take in time waits in, and is dropped by, the
//! kernel's socket buffer.
//!
//! The terminal is put in raw mode on the alternate screen and restored on
//! every way out: Esc, Ctrl-C (in raw mode a key, not a signal), an error, or a
//! panic (ratatui's `init` installs a hook that restores first). A `SIGKILL`
//! or `SIGTERM` from outside leaves it raw; `reset` fixes that.

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crossterm::event::Event as TermEvent;

use crate::client::{Client, Event};
use crate::window::{Action, Entry, Window};
use mcast_vocab::sanitize::sanitize;

/// The shortest time between two frames: at most 40 frames per second.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(25);

/// The window and whether it changed since it was last drawn.
struct Screen {
    window: Mutex<Window>,
    changed: AtomicBool,
}

impl Screen {
    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        // A panic while holding the lock leaves a window that is still
        // consistent enough to draw: take it back.
        self.window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs `window` as the chat screen until the user quits; restores the
/// terminal on return.
pub fn run_window(client: &Client, window: Window) -> io::Result<()> {
    let screen = Arc::new(Screen {
        window: Mutex::new(window),
        changed: AtomicBool::new(true),
    });
    let network = Arc::clone(&screen);
    client.add_listener(move |event| {
        network.window().on_event(event);
        network.changed.store(true, Ordering::Release);
    });
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> io::Result<()> {
        let mut next_frame = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_frame && screen.changed.swap(false, Ordering::AcqRel) {
                let window = screen.window();
                terminal.draw(|frame| window.render(frame))?;
                next_frame = now + FRAME_INTERVAL;
            }
            // Until the next frame is due, or one frame when nothing is.
            let wait = next_frame
                .checked_duration_since(Instant::now())
                .unwrap_or(FRAME_INTERVAL);
            if !crossterm::event::poll(wait)? {
                continue;
            }
            // Every key already typed is handled before anything is drawn.
            loop {
                if let TermEvent::Key(key) = crossterm::event::read()? {
                    let mut window = screen.window();
                    match window.handle_key(key) {
                        Action::None => {}
                        Action::Quit => return Ok(()),
                        // Sent and shown under one lock, so a reply cannot
                        // be shown above the line it answers.
                        Action::Send(line) => window.push(match client.transmit(&line) {
                            Ok(message) => Entry::sent(&message),
                            Err(e) => Entry {
                                handle: "!".into(),
                                content: e.to_string(),
                                source: None,
                            },
                        }),
                    }
                }
                // A key changed the input; a resize needs a full redraw.
                screen.changed.store(true, Ordering::Release);
                if !crossterm::event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
    })();
    ratatui::try_restore()?;
    result
}

/// What the line mode's main thread waits for.
enum Next {
    /// A line read from the input, to send.
    Line(String),
    /// The input ended (or failed).
    End(io::Result<()>),
    /// Writing a message to the output failed; a closed pipe is a quiet end.
    OutputFailed(io::Error),
}

/// The line mode: every message from a peer is written to `output` as one
/// line, every line read from `input` is sent; returns at the end of `input`,
/// or as soon as `output` is closed (`chat --plain | head -1`) with `Ok`.
///
/// Datagrams that were not messages are reported on `errors` with a running
/// count. Both outputs are flushed per line so the mode works in pipes. Lines
/// are written as they arrive, never queued, and every peer string is passed
/// through [`sanitize`], so nothing a peer sends reaches `output` as a
/// control character. `input` is read on a thread of its own, which is left
/// waiting for input if the output closes first (it ends with the process).
pub fn run_plain(
    client: &Client,
    input: impl BufRead + Send + 'static,
    output: impl Write + Send + 'static,
    errors: impl Write + Send + 'static,
    show_source: bool,
) -> io::Result<()> {
    let (next, waiting) = mpsc::sync_channel(16);
    let failed = Mutex::new(Some(next.clone()));
    let output = Mutex::new(output);
    let errors = Arc::new(Mutex::new(errors));
    let report = Arc::clone(&errors);
    let ignored = AtomicU64::new(0);
    client.add_listener(move |event| match event {
        Event::Message { message, source } => {
            let line = Entry::received(message, *source).line(show_source);
            let mut out = output.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
                // Said once; the main thread ends on it.
                if let Some(tell) = failed.lock().ok().and_then(|mut f| f.take()) {
                    let _ = tell.send(Next::OutputFailed(e));
                }
            }
        }
        Event::Rejected { rejection, source } => {
            let n = ignored.fetch_add(1, Ordering::Relaxed) + 1;
            let mut err = report.lock().unwrap_or_else(|p| p.into_inner());
            let reason = sanitize(&rejection.to_string());
            let _ = writeln!(
                err,
                "ignored a datagram from {source}: {reason} ({n} so far)"
            )
            .and_then(|()| err.flush());
        }
    });
    std::thread::Builder::new()
        .name("plain input".into())
        .spawn(move || {
            for line in input.lines() {
                let line = match line {
                    Ok(line) => line,
                    Err(e) => {
                        let _ = next.send(Next::End(Err(e)));
                        return;
                    }
                };
                if next.send(Next::Line(line)).is_err() {
                    return;
                }
            }
            let _ = next.send(Next::End(Ok(())));
        })?;
    for step in waiting {
        match step {
            Next::Line(line) => {
                let line = line.trim_end_matches('\r');
                if line.is_empty() {
                    continue;
                }
                if let Err(e) = client.transmit(line) {
                    let mut err = errors.lock().unwrap_or_else(|p| p.into_inner());
                    writeln!(err, "not sent: {e}")?;
                    err.flush()?;
                }
            }
            Next::End(result) => return result,
            Next::OutputFailed(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Next::OutputFailed(e) => return Err(e),
        }
    }
    Ok(())
}
