//! The programs' tests but the floods (`tests/flood.rs`, `tests/flood_window.rs`), in one
//! binary: they spend their time waiting on the kernel and on terminals, so they run side by
//! side. Each module is one subject: the chat in line mode, ping, the chat on a terminal
//! (pty), the article's send and receive, source-specific joins, and the chat's window.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

#[path = "../common/mod.rs"]
mod common;

mod chat;
mod ping;
mod pty;
mod send_receive;
mod source_specific;
#[cfg(feature = "window")]
mod window;
