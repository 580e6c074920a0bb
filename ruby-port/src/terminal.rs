//! Running a [`Window`] on a real terminal with crossterm (the line mode for pipes and
//! scripts is [`crate::plain`]).
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

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::Event as TermEvent;

use crate::client::Client;
use crate::entry::Entry;
use crate::window::{Action, Window};

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
