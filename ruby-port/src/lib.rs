//! # Multicast in Ruby, ported
//!
//! This crate ports the article *Multicast in Ruby: Building a Peer-to-Peer
//! Chat System* (John Pignata, 2012) to Rust. The article builds two tiny
//! scripts, `send.rb` and `receive.rb`, and then a serverless chat,
//! *backchannel*, where every client joins one multicast group and talks to
//! all the others through it.
//!
//! ## What you learn here
//!
//! - Sending to a group needs nothing but a UDP socket and a TTL
//!   ([`send()`]); receiving needs a membership and a bound port ([`Receiver`]).
//! - Which socket options do that, named the kernel's way, and what each one
//!   mirrors in the article ([`membership`](crate#layout), documented in
//!   `src/membership.rs`).
//! - Why several programs on one host can receive the same group
//!   (`SO_REUSEADDR` vs `SO_REUSEPORT`, see [`Reuse`]).
//! - A wire format shared with other implementations ([`Message`]), and what
//!   "peer to peer" means for trust: every datagram is untrusted input
//!   ([`Rejection`], [`sanitize()`]), and a handle is a claim while the source
//!   address is observed ([`Entry::line`]).
//! - Separating a terminal UI's state from its drawing, so it can be tested
//!   ([`Window`]).
//!
//! ## Layout
//!
//! | file | concept | in the article |
//! |---|---|---|
//! | `defaults.rs` | [`SEND_RECEIVE_GROUP`], [`BACKCHANNEL_GROUP`]: the article's groups | the constants at the top of each script |
//! | `reuse.rs` | [`Reuse`]: `SO_REUSEADDR`, `SO_REUSEPORT` or both | `receive.rb`'s `SO_REUSEPORT`, the gem's `SO_REUSEADDR` |
//! | `config.rs` | [`Config`]: group, interface, TTL and reuse, checked together | the scripts' socket setup, as values |
//! | `membership.rs` | the socket options for sending and joining | `setsockopt` lines |
//! | `send.rs` | [`send()`] | `send.rb` |
//! | `receive.rs` | [`Receiver`], [`Received`] | `receive.rb` |
//! | `message.rs` | [`Message`], [`ClientId`], [`Rejection`] | `message.rb` |
//! | `client.rs` | [`Client`], [`Event`], [`Stats`] | `client.rb` |
//! | `mcast_vocab::sanitize` | [`sanitize()`]: peer text made terminal-safe (shared with the lab's web view) | (missing in the original) |
//! | `window.rs` | [`Window`], [`Entry`]: the chat screen as state + render | `window.rb` |
//! | `terminal.rs` | [`run_window`] on a real terminal, [`run_plain`] line mode | `backchannel.rb` |
//! | `cli.rs` | [`cli::NetworkArgs`]: the shared command-line options; [`cli::exit_with`] | `ARGV` |
//! | `report.rs` | [`Sent`]: what `send --verbose` prints | (the scripts print nothing) |
//! | `ping.rs` | [`ping_group`]: one ICMP echo request to a group, its replies ([`ping_group_among`] where the hosts are known) | the article's `ping 224.0.0.251` |
//! | `src/bin/` | `send`, `receive`, `chat`: parse arguments, call the library, print | the scripts and the gem's executable |
//!
//! The words every crate here shares come from `mcast-vocab`, and this crate
//! re-exports the ones its API takes: a [`Group`] (checked multicast address
//! and port), an [`Interface`] (name and index), a [`Ttl`]. The plumbing calls
//! come from there too: decoding a datagram's arrival evidence (`receive.rs`)
//! and setting `IP_MULTICAST_IF` by index (`membership.rs`). What stays here is
//! the article's: its socket calls, in its order.
//!
//! ## Using it as a library
//!
//! ```no_run
//! use ruby_port::{Config, Receiver, send};
//!
//! let config = Config::send_receive();          // 224.0.0.1:3000, TTL 1
//! let receiver = Receiver::join(&config)?;      // joined and bound: ready
//! send(&config, b"hello")?;
//! let got = receiver.recv()?;                   // multicast loops back to us
//! assert_eq!(got.payload, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Run it only inside a network namespace of your own (`unshare -n`, see the
//! workspace README): joining a group makes the kernel announce it on the network.
//!
//! ## Left out on purpose
//!
//! - IGMP/MLD versions and multicast routing: the article stays on one network
//!   with TTL 1. (One step beyond it is here: `receive --source` joins for one
//!   sender, a source-specific join, [`Config::with_source`].)
//! - Reliability: a datagram that is lost is lost, as in the original.
//! - Authentication: anyone on the network can claim any handle or client id;
//!   showing the source address is the only help offered.
//! - Unicode width subtleties in the window: long messages wrap every so many
//!   characters, so a row of wide characters (CJK, emoji) is cut at the edge.

pub mod cli;
mod client;
mod config;
mod defaults;
mod entry;
mod error;
mod membership;
mod message;
mod ping;
mod plain;
mod receive;
mod report;
mod reuse;
mod send;
#[cfg(feature = "window")]
mod terminal;
#[cfg(feature = "window")]
mod window;

pub use client::{Client, Event, Stats};
pub use config::Config;
pub use defaults::{BACKCHANNEL_GROUP, SEND_RECEIVE_GROUP};
pub use entry::Entry;
pub use error::Error;
pub use mcast_vocab::sanitize::sanitize;
pub use mcast_vocab::{Group, Interface, Ttl};
pub use message::{CUT_MARKER, ClientId, MAX_DATAGRAM, Message, Rejection};
pub use ping::{EchoReply, ping_group, ping_group_among};
pub use plain::run_plain;
pub use receive::{DatagramLine, Received, Receiver};
pub use report::Sent;
pub use reuse::Reuse;
pub use send::send;
#[cfg(feature = "window")]
pub use terminal::{FRAME_INTERVAL, run_window};
#[cfg(feature = "window")]
pub use window::{Action, Window};
