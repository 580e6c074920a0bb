//! The harness's tests of the networks it builds, in one binary: they spend their time
//! waiting on the kernel, so they run side by side, each in networks of its own. Each module
//! is one subject. The tests that look at the process itself (`leak`, `privileges`,
//! `userns_move`, `userns_opt_in`) stay binaries of their own: they count its descriptors,
//! change its credentials or leave out the user namespace on purpose. So does the 256-host
//! LAN (`scale`): building it holds the kernel's network locks for about a second, and
//! started last among these tests (libtest starts them in name order) it made this binary
//! half as long again.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/pcap.rs"]
mod pcap;

mod capture;
mod impair;
mod lan;
mod multihomed;
mod parallel;
mod routed;
mod sandbox;
mod snooping;
mod tokio;
