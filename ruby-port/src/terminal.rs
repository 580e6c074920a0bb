//! Running a [`Window`] on a real terminal with crossterm, and the plain line
//! mode for pipes and scripts.
//!
//! Two threads feed one channel: the client's receive thread (through a
//! listener) and a thread reading key and resize events. The main thread owns
//! the [`Window`], so no lock is needed around it: it takes the next input,
//! updates the window, and redraws.
//!
//! The terminal is put in raw mode on the alternate screen and restored on
//! every way out: Esc, Ctrl-C (in raw mode a key, not a signal), an error, or a
//! panic (ratatui's `init` installs a hook that restores first). A `SIGKILL`
//! or `SIGTERM` from outside leaves it raw; `reset` fixes that.

use std::io::{self, BufRead, Write};
use std::sync::mpsc;

use crossterm::event::Event as TermEvent;

use crate::client::{Client, Event};
use crate::window::{Action, Entry, Window};

enum Input {
    Network(Event),
    Terminal(TermEvent),
}

/// Runs the chat screen until the user quits; restores the terminal on return.
pub fn run_window(client: &Client, show_source: bool) -> io::Result<()> {
    let (tx, rx) = mpsc::channel();
    let network = tx.clone();
    client.add_listener(move |event| {
        let _ = network.send(Input::Network(event.clone()));
    });
    let mut terminal = ratatui::try_init()?;
    // Reads keys until the channel closes; it is left blocked in `read()`
    // when the window quits, and ends with the process.
    std::thread::Builder::new()
        .name("keys".into())
        .spawn(move || {
            while let Ok(event) = crossterm::event::read() {
                if tx.send(Input::Terminal(event)).is_err() {
                    break;
                }
            }
        })?;

    let mut window = Window::new(show_source);
    let result = (|| -> io::Result<()> {
        loop {
            terminal.draw(|frame| window.render(frame))?;
            let Ok(input) = rx.recv() else {
                return Ok(());
            };
            match input {
                Input::Network(event) => window.on_event(&event),
                Input::Terminal(TermEvent::Key(key)) => match window.handle_key(key) {
                    Action::None => {}
                    Action::Quit => return Ok(()),
                    Action::Send(line) => match client.transmit(&line) {
                        Ok(message) => window.push(Entry::sent(&message)),
                        Err(e) => window.push(Entry {
                            handle: "!".into(),
                            content: e.to_string(),
                            source: None,
                        }),
                    },
                },
                // Resize and everything else: just redraw.
                Input::Terminal(_) => {}
            }
        }
    })();
    ratatui::try_restore()?;
    result
}

/// The line mode: every message from a peer is written to `output` as one
/// line, every line read from `input` is sent; returns at the end of `input`.
///
/// Datagrams that were not messages are reported on `errors` with a running
/// count. Both outputs are flushed per line so the mode works in pipes.
pub fn run_plain(
    client: &Client,
    input: impl BufRead,
    output: impl Write + Send + 'static,
    errors: impl Write + Send + 'static,
    show_source: bool,
) -> io::Result<()> {
    let output = std::sync::Mutex::new(output);
    let errors = std::sync::Arc::new(std::sync::Mutex::new(errors));
    let report = std::sync::Arc::clone(&errors);
    let ignored = std::sync::atomic::AtomicU64::new(0);
    client.add_listener(move |event| match event {
        Event::Message { message, source } => {
            let line = Entry::received(message, *source).line(show_source);
            let mut out = output.lock().expect("plain output");
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
        Event::Rejected { rejection, source } => {
            let n = ignored.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let mut err = report.lock().expect("plain errors");
            let _ = writeln!(
                err,
                "ignored a datagram from {source}: {rejection} ({n} so far)"
            )
            .and_then(|()| err.flush());
        }
    });
    for line in input.lines() {
        let line = line?;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        if let Err(e) = client.transmit(line) {
            let mut err = errors.lock().expect("plain errors");
            writeln!(err, "not sent: {e}")?;
            err.flush()?;
        }
    }
    Ok(())
}
