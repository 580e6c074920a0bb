//! # python-echo: a multicast sender that collects acknowledgements
//!
//! A port of the Python article on multicast (PyMOTW, `socket_multicast_sender.py` and
//! `socket_multicast_receiver.py`). A **sender** sends one datagram, `very important
//! data`, to the group 224.3.29.71 port 10000. Every **receiver** that joined the group
//! prints it and answers `ack` to the sender's own address. The sender prints each
//! answer and stops when none has come for 0.2 s (ours also after `--max-wait` in all).
//!
//! ## What you learn here
//!
//! - **The ack pattern.** Multicast goes one way: one send, many copies. The answers come
//!   back as ordinary unicast, each receiver to the one sender, so the sender ends up with
//!   one reply per listening host, from that host's own address.
//! - **Why the sender cannot know how many replies to expect.** It sends to a group, not to
//!   hosts. Each receiver joins by telling its own kernel (which tells the routers, with
//!   IGMP for IPv4 or MLD for IPv6); nothing tells the sender. So the sender waits with a
//!   timeout, and "quiet for 0.2 s" is the only end it can detect. A host that is slower
//!   than the timeout, or whose ack is lost, just is not counted. `--expect N` turns that
//!   into a check a script can use: fail when fewer than N distinct hosts answered.
//! - **TTL 1** (`IP_MULTICAST_TTL`): the datagram stays on the local segment.
//! - **Joining on "any" interface** (`IP_ADD_MEMBERSHIP` with `INADDR_ANY`) means the
//!   kernel picks one interface from the route to the group; it does not mean all of them.
//! - **One receiver per host and port**: the original binds without `SO_REUSEADDR`.
//!
//! ## Layout
//!
//! - `sender.rs`: send once, collect replies until a timeout ([`send`], [`SenderConfig`],
//!   [`SenderReport`], [`Shortfall`]).
//! - `receiver.rs`: join and acknowledge every datagram ([`Receiver`], [`ReceiverConfig`],
//!   [`ReceiverReport`]: counts, and only the latest [`RECENT_DATAGRAMS`] kept whole).
//! - `summary.rs`: counting acks by host; duplicates and non-acks, in O(1) each, with only
//!   the latest [`RECENT_REPLIES`] kept whole ([`AckSummary`]).
//! - `transcript.rs`: printing bytes and addresses the way Python does, so our output
//!   matches the original's line for line.
//! - `datagram.rs`: reading with a small buffer while learning the real length.
//! - `defaults.rs`: the article's group, port, message and timeout.
//! - [`cli`]: the flags both programs share, parsed once into checked values.
//! - `error.rs`: what the kernel can refuse, with hints ([`Error`]).
//! - `src/bin/sender.rs`, `src/bin/receiver.rs`: the two programs.
//!
//! The group, interface and TTL types are the workspace's shared ones, from
//! [`mcast_vocab`]: [`Group`](mcast_vocab::Group) (checked multicast, with the port),
//! [`Interface`](mcast_vocab::Interface) (resolved to its index), [`Ttl`](mcast_vocab::Ttl).
//!
//! ## The tests, as a tour
//!
//! Each runs in throwaway network namespaces built by the `harness` crate:
//!
//! - `tests/suite/article_example.rs`: the article's two-host example, snapshotted.
//! - `tests/suite/wire_compat.rs`: our programs against the originals (rewritten as Python
//!   fixtures in `tests/fixtures/`), both ways, and identical receiver transcripts.
//! - `tests/suite/silence_and_errors.rs`: nobody answers, `--expect`, refused options, no route.
//! - `tests/suite/bad_input.rs`: garbage and oversized datagrams, replies that are not `ack`.
//! - `tests/suite/options.rs`: TTLs and the outgoing interface as seen on the wire.
//! - `tests/suite/ipv6.rs`: the example over IPv6, site-local and link-local groups.
//! - `tests/suite/flood.rs`: 100,000 hostile datagrams at the receiver and at the sender's reply
//!   loop (bounded memory, still answering, nothing raw printed), and `--max-wait` against
//!   a peer that never stops replying.
//!
//! `examples/python_flood_figures.rs` prints the two programs' resident memory idle and after such
//! a flood (medians of several runs).
//!
//! ## Running it
//!
//! Never on a shared network; in a throwaway namespace:
//!
//! ```text
//! unshare -n sh -c 'ip link set lo up; ip addr add 10.0.0.1/24 dev lo;
//!   ip route add 224.0.0.0/4 dev lo; cargo run -p python-echo --bin receiver &
//!   sleep 1; cargo run -p python-echo --bin sender'
//! ```
//!
//! ## Differences from the original, on purpose
//!
//! - Our programs print the same lines, plus: a summary line after `closing socket`; a
//!   note after a reply that is not `ack` or is a second `ack` from the same host; a note
//!   when a datagram was longer than the buffer (the original truncates silently).
//! - Options (`--group`, `--port`, `--interface`, `--ttl`, `--message`, `--timeout`,
//!   `--max-wait`, `--expect`) and IPv6 groups; the original hard-codes everything and
//!   speaks IPv4. Timeouts under 1 ms are refused: the kernel would round them to 0, which
//!   means "wait for ever".
//! - The sender stops after `--max-wait` (10 s) in all, however many replies keep coming:
//!   the original's 0.2 s restarts with every reply, so a chatty peer could keep it running
//!   for ever. Both programs keep counts, not every datagram, so a flood cannot grow them,
//!   and both end quietly when the reader of their output goes away (`| head -1`).
//! - The receiver can stop (`--count`, `--idle`), so tests and tours can run it.
//! - The article gives the multicast range as 224.0.0.0 to 230.255.255.255; it is
//!   224.0.0.0/4, up to 239.255.255.255, and `--group` accepts all of it.
//!
//! Left out: retransmission (a lost datagram or ack is simply missing), authentication
//! of acks (anyone can answer `ack`), and source-specific joins.

pub mod cli;
mod datagram;
mod defaults;
mod error;
mod receiver;
mod sender;
mod summary;
mod transcript;

pub use defaults::{DEFAULT_GROUP, MIN_TIMEOUT};
pub use error::Error;
pub use receiver::{Handled, RECENT_DATAGRAMS, Receiver, ReceiverConfig, ReceiverReport, receive};
pub use sender::{SenderConfig, SenderReport, Shortfall, send};
pub use summary::{ACK, AckSummary, RECENT_REPLIES, Reply, Verdict};
