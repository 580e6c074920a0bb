//! `Client`: one socket that both sends and receives chat messages, and a
//! thread that hands each new message to listeners.
//!
//! The shape follows the Ruby class: a random `client_id` and the user's
//! handle, [`Client::transmit`] to send, [`Client::add_listener`] to be told
//! about messages, and a receive thread started by the first listener. Where it
//! differs, it is on purpose:
//!
//! - The socket is joined and bound in [`Client::new`], so the client is ready
//!   when it returns; datagrams that arrive before the first listener wait in
//!   the socket's queue.
//! - Bad input never stops the thread. Each datagram that is not a message is
//!   counted ([`Stats::rejected`]) and reported to listeners as
//!   [`Event::Rejected`], then the loop goes on.
//! - A datagram longer than [`MAX_DATAGRAM`] is read whole (the gem would read
//!   its first 1024 bytes): if it is a valid message, listeners get it cut to
//!   size with a visible marker ([`Message::cut`], counted in [`Stats::cut`]);
//!   if not, it is rejected as [`Rejection::Truncated`]. Either way a peer
//!   cannot make a listener hold more than about [`MAX_DATAGRAM`] bytes per
//!   message.
//! - Listeners also get the observed source address, since a handle is only a
//!   claim.
//! - Dropping the client stops and joins the thread: `shutdown(2)` wakes it
//!   from its `recvmsg` at once (it also wakes up every 200 ms to check, in
//!   case a kernel does not), so a program ends as soon as its user quits.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::Config;
use crate::error::Error;
use crate::message::{ClientId, MAX_DATAGRAM, Message, Rejection};
use crate::receive::Receiver;

/// What a listener is told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message from another client.
    Message {
        /// The message as the peer sent it (not yet sanitised).
        message: Message,
        /// Where the datagram came from, as the kernel saw it.
        source: SocketAddr,
    },
    /// A datagram on the chat port that was not a message; it was skipped.
    Rejected {
        /// Why.
        rejection: Rejection,
        /// Where it came from.
        source: SocketAddr,
    },
}

/// Counters kept by the receive thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages from other clients handed to listeners.
    pub messages: u64,
    /// This client's own messages, looped back by the kernel and skipped.
    pub own: u64,
    /// Datagrams that were not messages (see [`Rejection`]).
    pub rejected: u64,
    /// Messages longer than [`MAX_DATAGRAM`], handed on cut ([`Message::cut`]);
    /// also counted in `messages`.
    pub cut: u64,
}

/// How much of a datagram the receive thread reads: all of any UDP payload
/// (65,507 bytes over IPv4, 65,527 over IPv6), so an oversized message can be
/// parsed and shown cut rather than rejected as cut-off JSON.
const READ_BUFFER: usize = 65_536;

type Listener = Box<dyn Fn(&Event) + Send + Sync>;

struct Shared {
    receiver: Receiver,
    id: ClientId,
    listeners: Mutex<Vec<Listener>>,
    messages: AtomicU64,
    own: AtomicU64,
    rejected: AtomicU64,
    cut: AtomicU64,
    stop: AtomicBool,
}

/// A chat participant: sends with [`Client::transmit`], receives through listeners.
pub struct Client {
    config: Config,
    handle: String,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Client {
    /// How often the receive thread checks whether the client was dropped.
    const POLL: Duration = Duration::from_millis(200);

    /// Joins `config`'s group on one socket (TTL, membership, address reuse,
    /// bound to the wildcard address and the group's port, as the original
    /// does) and picks a fresh random [`ClientId`].
    pub fn new(handle: impl Into<String>, config: &Config) -> Result<Client, Error> {
        let receiver = Receiver::join(config)?.with_buffer_size(READ_BUFFER);
        receiver.set_timeout(Some(Self::POLL))?;
        Ok(Client {
            config: config.clone(),
            handle: handle.into(),
            shared: Arc::new(Shared {
                receiver,
                id: ClientId::random(),
                listeners: Mutex::new(Vec::new()),
                messages: AtomicU64::new(0),
                own: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                cut: AtomicU64::new(0),
                stop: AtomicBool::new(false),
            }),
            thread: Mutex::new(None),
        })
    }

    /// This client's random id.
    pub fn id(&self) -> &ClientId {
        &self.shared.id
    }

    /// The handle this client puts on its messages.
    pub fn handle(&self) -> &str {
        &self.handle
    }

    /// Sends `content` as a message from this client and returns it, so the
    /// caller can show it locally (the client never hears itself: its own
    /// looped-back copy is skipped by id).
    ///
    /// Fails with [`Error::MessageTooLong`] if the JSON would not fit in
    /// [`MAX_DATAGRAM`] bytes.
    pub fn transmit(&self, content: &str) -> Result<Message, Error> {
        let message = Message::new(self.shared.id.clone(), self.handle.clone(), content);
        let json = message.to_json();
        if json.len() > MAX_DATAGRAM {
            return Err(Error::MessageTooLong {
                encoded: json.len(),
                limit: MAX_DATAGRAM,
            });
        }
        self.shared
            .receiver
            .send_to(&self.config, json.as_bytes())?;
        Ok(message)
    }

    /// Registers `listener` to be called, on the receive thread, with every
    /// [`Event`]. The first registration starts the thread.
    pub fn add_listener(&self, listener: impl Fn(&Event) + Send + Sync + 'static) {
        self.shared
            .listeners
            .lock()
            .expect("a listener panicked")
            .push(Box::new(listener));
        let mut thread = self.thread.lock().expect("a listener panicked");
        if thread.is_none() {
            let shared = Arc::clone(&self.shared);
            *thread = Some(
                std::thread::Builder::new()
                    .name(format!("backchannel:{}", self.shared.id))
                    .spawn(move || receive_loop(&shared))
                    .expect("spawning the receive thread"),
            );
        }
    }

    /// A snapshot of the receive thread's counters.
    pub fn stats(&self) -> Stats {
        Stats {
            messages: self.shared.messages.load(Ordering::Relaxed),
            own: self.shared.own.load(Ordering::Relaxed),
            rejected: self.shared.rejected.load(Ordering::Relaxed),
            cut: self.shared.cut.load(Ordering::Relaxed),
        }
    }
}

/// Who this client is to others: `<alice> (client id 3f9a0c11de)`.
impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}> (client id {})", self.handle, self.shared.id)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.receiver.wake();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

fn receive_loop(shared: &Shared) {
    let mut scratch = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let datagram = match shared.receiver.recv_reusing(&mut scratch) {
            // Woken by `Drop`: what came is no datagram.
            Ok(_) if shared.stop.load(Ordering::Relaxed) => return,
            Ok(datagram) => datagram,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => {
                eprintln!("backchannel: receiving stopped: {e}");
                return;
            }
        };
        let source = datagram.source;
        let truncated = Rejection::Truncated {
            length: datagram.length,
        };
        let parsed = if datagram.truncated() {
            Err(truncated)
        } else {
            match Message::from_datagram(&datagram.payload) {
                // Too long for a peer and not a message either: say the length.
                Err(_) if datagram.length > MAX_DATAGRAM => Err(truncated),
                parsed => parsed,
            }
        };
        let event = match parsed {
            Ok(message) if message.client_id == shared.id => {
                shared.own.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Ok(mut message) => {
                shared.messages.fetch_add(1, Ordering::Relaxed);
                if message.cut() {
                    shared.cut.fetch_add(1, Ordering::Relaxed);
                }
                Event::Message { message, source }
            }
            Err(rejection) => {
                shared.rejected.fetch_add(1, Ordering::Relaxed);
                Event::Rejected { rejection, source }
            }
        };
        for listener in shared.listeners.lock().expect("a listener panicked").iter() {
            listener(&event);
        }
    }
}
