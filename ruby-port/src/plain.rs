//! The line mode (`chat --plain`, or stdin not a terminal): one line per message, for pipes
//! and scripts. It needs no terminal crate, so it is built without the `window` feature.

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::client::{Client, Event};
use crate::entry::Entry;
use mcast_vocab::sanitize::sanitize;

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
