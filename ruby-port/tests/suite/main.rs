//! The programs' tests but the window's flood (`tests/flood_window.rs`), in one binary: they
//! spend their time waiting on the kernel and on terminals, or (the line-mode floods) on
//! the CPU, so they run side by side. Each module is one subject: the chat in line mode, the
//! line-mode programs under a flood, ping, the chat on a terminal (pty), the article's send
//! and receive, source-specific joins, and the chat's window. The window's flood is a binary
//! of its own, so that two floods' worth of CPU is not one binary's time.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

#[path = "../common/mod.rs"]
mod common;

mod chat;
mod flood;
mod ping;
mod pty;
mod send_receive;
mod source_specific;
#[cfg(feature = "window")]
mod window;
