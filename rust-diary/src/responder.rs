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
//!
//! A group is open to anyone on the segment, so the responder treats what arrives as
//! hostile: a reply the kernel refuses (a spoofed or unroutable source, source port 0) is
//! counted and reported, and the thread goes on answering; what it heard is kept as counts
//! plus a window of the latest [`RECENT`] datagrams, so its memory does not grow with a
//! flood; and nothing waits on the thread for ever: [`Responder::answers`] ends when the
//! thread has ended, and [`Responder::stop`] gives up after [`STOP_DEADLINE`] with an error
//! naming the thread.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mcast_vocab::Group;

use crate::error::is_quiet;
use crate::listener::{ListenOptions, join};

/// How many of the latest datagrams a [`Responder`] keeps; older ones are only counted.
pub const RECENT: usize = 64;

/// How long [`Responder::stop`] waits for the thread to notice the stop flag (it looks
/// every 100 ms) before it gives up on it with an error.
pub const STOP_DEADLINE: Duration = Duration::from_secs(2);

/// One datagram a [`Responder`] heard, and whether its answer went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// Who sent it.
    pub from: SocketAddr,
    /// Its bytes as text (lossy UTF-8, at most 1024 bytes of it).
    pub text: String,
    /// Why the answer could not be sent (the kernel's error), or `None` when it was.
    pub failure: Option<String>,
}

/// What a [`Responder`] has done so far, in counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Datagrams heard.
    pub heard: u64,
    /// Of those, how many could not be answered.
    pub failed: u64,
    /// The latest reason an answer could not be sent.
    pub last_failure: Option<String>,
}

/// A listener thread that answers every datagram sent to its group with a fixed response.
#[must_use = "dropping a Responder stops it at once"]
pub struct Responder {
    name: String,
    stop: Arc<AtomicBool>,
    log: Arc<Log>,
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
        let name = format!("{response}:server");
        Self::spawn(name, local, move |stop, log| {
            serve(&socket, &replies, response.as_bytes(), stop, log)
        })
    }

    /// Starts the thread: `body` runs with the stop flag and the log, and whatever way it
    /// ends (an error, a panic), the log is told, so nobody waits on it for ever.
    fn spawn(
        name: String,
        local: SocketAddr,
        body: impl FnOnce(&AtomicBool, &Log) -> io::Result<()> + Send + 'static,
    ) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Log::default());
        let thread = std::thread::Builder::new().name(name.clone()).spawn({
            let stop = Arc::clone(&stop);
            let log = Arc::clone(&log);
            move || {
                let _ended = Ended(&log);
                body(&stop, &log)
            }
        })?;
        Ok(Self {
            name,
            stop,
            log,
            local,
            thread: Some(thread),
        })
    }

    /// The address the listening socket is bound to: the group, or the wildcard.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// What the thread has done so far, in counts.
    pub fn tally(&self) -> Tally {
        self.log.lock().tally.clone()
    }

    /// Every datagram heard, oldest first, each as soon as it has been answered (or the
    /// answer failed): an iterator that waits for the next one (take as many as you need).
    ///
    /// It ends when the thread has ended (see [`Responder::stop`] for why). A reader that
    /// falls more than [`RECENT`] datagrams behind skips the ones no longer kept; the
    /// [`Responder::tally`] still counts them.
    pub fn answers(&self) -> impl Iterator<Item = Heard> + '_ {
        let mut next = 0u64;
        std::iter::from_fn(move || {
            let mut state = self.log.lock();
            loop {
                if let Some((seq, heard)) = state.recent.iter().find(|(seq, _)| *seq >= next) {
                    next = seq + 1;
                    return Some(heard.clone());
                }
                if state.ended {
                    return None;
                }
                state = self
                    .log
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
        })
    }

    /// Stops the thread and waits for it, at most [`STOP_DEADLINE`]; returns the latest
    /// datagrams heard (at most [`RECENT`], oldest first), or an error naming the thread
    /// when it failed, panicked or did not stop in time.
    pub fn stop(self) -> io::Result<Vec<Heard>> {
        self.stop_within(STOP_DEADLINE)
    }

    /// [`Responder::stop`], giving up after `deadline` instead of [`STOP_DEADLINE`].
    pub fn stop_within(mut self, deadline: Duration) -> io::Result<Vec<Heard>> {
        self.halt(deadline)?;
        Ok(self
            .log
            .lock()
            .recent
            .iter()
            .map(|(_, h)| h.clone())
            .collect())
    }

    fn halt(&mut self, deadline: Duration) -> io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let until = Instant::now() + deadline;
        let mut state = self.log.lock();
        while !state.ended {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // The thread is left to end on its own; nobody waits for it.
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("thread `{}` did not stop within {deadline:?}", self.name),
                ));
            }
            state = self
                .log
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(state);
        // Ended: the join returns at once.
        match thread.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(io::Error::new(
                error.kind(),
                format!("thread `{}` failed: {error}", self.name),
            )),
            Err(_) => Err(io::Error::other(format!("thread `{}` panicked", self.name))),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.halt(STOP_DEADLINE);
    }
}

/// What the thread heard, and a condition variable to wait for more (or for its end).
#[derive(Default)]
struct Log {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The latest datagrams with their sequence numbers (0 for the first heard).
    recent: VecDeque<(u64, Heard)>,
    tally: Tally,
    /// The thread has ended, however it did.
    ended: bool,
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn record(&self, heard: Heard) {
        let state = self.lock();
        self.record_locked(state, heard);
    }

    /// Records `heard` under a lock already held, then lets waiters see it.
    fn record_locked(&self, mut state: MutexGuard<'_, State>, heard: Heard) {
        let seq = state.tally.heard;
        state.tally.heard += 1;
        if let Some(failure) = &heard.failure {
            state.tally.failed += 1;
            state.tally.last_failure = Some(failure.clone());
        }
        if state.recent.len() == RECENT {
            state.recent.pop_front();
        }
        state.recent.push_back((seq, heard));
        drop(state);
        self.changed.notify_all();
    }
}

/// Tells the log the thread has ended when dropped: on return and on a panic alike.
struct Ended<'a>(&'a Log);

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        self.0.lock().ended = true;
        self.0.changed.notify_all();
    }
}

fn serve(
    socket: &UdpSocket,
    replies: &UdpSocket,
    response: &[u8],
    stop: &AtomicBool,
    log: &Log,
) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((len, from)) => {
                // The log is locked before the answer goes out and released once the
                // datagram is recorded, so a client holding the answer finds its datagram
                // counted.
                let state = log.lock();
                // One refused answer (a source port 0, an unroutable or spoofed source)
                // is that datagram's problem, not the responder's: count it, go on.
                let failure = replies
                    .send_to(response, from)
                    .err()
                    .map(|error| error.to_string());
                let heard = Heard {
                    from,
                    text: String::from_utf8_lossy(&buf[..len]).into_owned(),
                    failure,
                };
                log.record_locked(state, heard);
            }
            Err(err) if is_quiet(&err) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listener::POLL_INTERVAL;

    fn local() -> SocketAddr {
        "127.0.0.1:7645".parse().unwrap()
    }

    /// A thread that ignores the stop flag is given up on after the deadline (100 ms here,
    /// [`STOP_DEADLINE`] for `stop`), with an error naming it, instead of being waited for
    /// for ever.
    #[test]
    fn stop_gives_up_on_a_thread_that_does_not_stop() {
        let release = Arc::new(AtomicBool::new(false));
        let stuck = Responder::spawn("stuck:server".into(), local(), {
            let release = Arc::clone(&release);
            move |_, _| {
                while !release.load(Ordering::Relaxed) {
                    std::thread::sleep(POLL_INTERVAL);
                }
                Ok(())
            }
        })
        .unwrap();
        let started = Instant::now();
        let error = stuck.stop_within(Duration::from_millis(100)).unwrap_err();
        release.store(true, Ordering::Relaxed);
        assert!(started.elapsed() < STOP_DEADLINE, "{:?}", started.elapsed());
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            error.to_string(),
            "thread `stuck:server` did not stop within 100ms"
        );
    }

    /// A thread that dies ends the iterator of answers (which would otherwise wait for
    /// ever), and `stop` names it and says how it died.
    #[test]
    fn a_dead_thread_ends_the_answers_and_is_named() {
        let failing = Responder::spawn("broken:server".into(), local(), |_, log| {
            log.record(Heard {
                from: local(),
                text: "one".into(),
                failure: None,
            });
            Err(io::Error::other("the socket went away"))
        })
        .unwrap();
        assert_eq!(failing.answers().count(), 1);
        assert_eq!(
            failing.stop().unwrap_err().to_string(),
            "thread `broken:server` failed: the socket went away"
        );

        let panicking = Responder::spawn("panicky:server".into(), local(), |_, _| {
            panic!("on purpose")
        })
        .unwrap();
        assert_eq!(panicking.answers().count(), 0);
        assert_eq!(
            panicking.stop().unwrap_err().to_string(),
            "thread `panicky:server` panicked"
        );
    }

    /// However many datagrams arrive, the log keeps counts of all and only the latest
    /// [`RECENT`]; failures are counted with the latest reason.
    #[test]
    fn the_log_counts_everything_and_keeps_the_latest() {
        let log = Log::default();
        for n in 0..10_000u64 {
            log.record(Heard {
                from: local(),
                text: n.to_string(),
                failure: (n % 10 == 0).then(|| format!("refused {n}")),
            });
        }
        let state = log.lock();
        assert_eq!(state.tally.heard, 10_000);
        assert_eq!(state.tally.failed, 1_000);
        assert_eq!(state.tally.last_failure.as_deref(), Some("refused 9990"));
        assert_eq!(state.recent.len(), RECENT);
        assert_eq!(
            state.recent.back().unwrap(),
            &(
                9_999,
                Heard {
                    from: local(),
                    text: "9999".into(),
                    failure: None,
                }
            )
        );
    }
}
