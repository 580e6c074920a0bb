//! The diary's tests, in one binary: they spend their time waiting on the kernel (and the
//! flood on the CPU), so they run side by side. Each module is one subject: the two bind
//! styles, the command line, the diary's own test as the article wrote it, the responder
//! under a flood, the guard against the host's network, hostile input, the IPv6 interface,
//! the all-hosts groups, and the fixed round trip.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

mod common;

mod bind_styles;
mod cli;
mod diary;
mod flood;
mod guard;
mod hostile;
mod ipv6_interface;
mod multicast_all;
mod round_trip;
