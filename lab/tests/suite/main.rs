//! The lab's tests, in one binary: the lab driven as a person drives it (`commands`), and its
//! web view in a browser and as JSON (`web`).

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

// The harness tests' capture helpers: reading a pcap file, and a scratch directory.
#[path = "../../../harness/tests/common/pcap.rs"]
mod pcap;

mod commands;
mod web;
