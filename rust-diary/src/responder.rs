//! The fixed `multicast_listener`: ready when it returns, honest when it fails, and
//! impossible to forget to stop.
//!
//! The diary's listener joins inside its thread and uses a [`std::sync::Barrier`] to tell
//! the caller it is ready. That gets readiness right and failure wrong: a thread that
//! panics before the barrier leaves the caller waiting for ever. [`Responder::start`]
//! joins *before* it spawns the thread, on the caller's thread, so an error comes back as
//! an `Err` and success means the socket is joined and bound. The thread only reads and
//! answers.
//!
//! The diary stops its listener with a drop guard ([`crate::diary::NotifyServer`]) that
//! the caller must remember to bind to a name. A [`Responder`] is its own guard: dropping
//! it sets the stop flag and waits for the thread, and it is `#[must_use]`, so the
//! diary's `NotifyServer(..);` mistake becomes a compiler warning.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mcast_vocab::Group;

use crate::error::is_quiet;
use crate::listener::{ListenOptions, join};

/// One datagram a [`Responder`] answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// Who sent it.
    pub from: SocketAddr,
    /// Its bytes as text (lossy UTF-8).
    pub text: String,
}

/// A listener thread that answers every datagram sent to its group with a fixed response.
#[must_use = "dropping a Responder stops it at once"]
pub struct Responder {
    stop: Arc<AtomicBool>,
    heard: Arc<Log>,
    local: SocketAddr,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Responder {
    /// Joins `group` as `options` say, then starts a thread named `"{response}:server"`
    /// that answers each datagram with `response`, sent unicast to the datagram's source.
    ///
    /// When this returns `Ok` the socket is joined and bound: datagrams sent from then on
    /// are queued for the thread even if it has not been scheduled yet. A failed join or
    /// bind is returned here, not in the thread.
    pub fn start(
        response: impl Into<String>,
        group: &Group,
        options: &ListenOptions,
    ) -> io::Result<Self> {
        let response = response.into();
        let socket = join(group, options)?;
        let local = socket.local_addr()?;
        // One reply socket for the thread's lifetime, made here so its errors surface here.
        let unspecified: SocketAddr = if group.is_ipv6() {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        };
        let replies = UdpSocket::bind(unspecified)?;

        let stop = Arc::new(AtomicBool::new(false));
        let heard = Arc::new(Log::default());
        let thread = std::thread::Builder::new()
            .name(format!("{response}:server"))
            .spawn({
                let stop = Arc::clone(&stop);
                let heard = Arc::clone(&heard);
                move || serve(&socket, &replies, response.as_bytes(), &stop, &heard)
            })?;
        Ok(Self {
            stop,
            heard,
            local,
            thread: Some(thread),
        })
    }

    /// The address the listening socket is bound to: the group, or the wildcard.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Every datagram answered so far, oldest first.
    fn heard(&self) -> Vec<Heard> {
        self.heard.lock().clone()
    }

    /// Waits until at least `count` datagrams have been answered, or `within` has passed,
    /// and returns all answered so far. The wait ends as soon as the count is reached.
    fn wait_for(&self, count: usize, within: Duration) -> Vec<Heard> {
        let until = Instant::now() + within;
        let mut heard = self.heard.lock();
        while heard.len() < count {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            heard = self
                .heard
                .arrived
                .wait_timeout(heard, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        heard.clone()
    }

    /// Every datagram answered, oldest first, each as soon as it has been answered: an
    /// iterator that waits for the next one (take as many as you need).
    pub fn answers(&self) -> impl Iterator<Item = Heard> + '_ {
        (0..).map(|seen| {
            loop {
                if let Some(heard) = self
                    .wait_for(seen + 1, Duration::from_secs(3600))
                    .into_iter()
                    .nth(seen)
                {
                    break heard;
                }
            }
        })
    }

    /// Stops the thread and waits for it, returning an error if answering failed.
    pub fn stop(mut self) -> io::Result<Vec<Heard>> {
        self.halt()?;
        Ok(self.heard())
    }

    fn halt(&mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("responder thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// What the thread heard, and a condition variable to wait for more.
#[derive(Default)]
struct Log {
    heard: Mutex<Vec<Heard>>,
    arrived: Condvar,
}

impl Log {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Heard>> {
        self.heard.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn serve(
    socket: &UdpSocket,
    replies: &UdpSocket,
    response: &[u8],
    stop: &AtomicBool,
    heard: &Log,
) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((len, from)) => {
                // Record first, so a client holding the reply finds its datagram listed.
                heard.lock().push(Heard {
                    from,
                    text: String::from_utf8_lossy(&buf[..len]).into_owned(),
                });
                replies.send_to(response, from)?;
                heard.arrived.notify_all();
            }
            Err(err) if is_quiet(&err) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
