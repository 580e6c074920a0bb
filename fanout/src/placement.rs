//! Which CPUs the sender and the receivers run on.
//!
//! On two CPUs, where a process runs decides what a wake-up costs: on the same CPU about
//! 3 µs (a ping-pong round trip of 4-10 µs), on the other CPU while it is idle 15-25 µs
//! (a round trip of 40-50 µs), onto a CPU busy with something else about 100 µs; and whether
//! a receiver's work is billed to the sender. Round-trip figures are meaningless without it,
//! so `fanout pingpong` prints the placement beside each one
//! ([`Placement::round_trip_label`]).

use std::io;

use serde::{Deserialize, Serialize};

/// Which CPUs the processes may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// Let the scheduler decide.
    None,
    /// Everything on CPU 0: no cross-CPU wake-ups, but no parallelism either.
    Same,
    /// Sender on CPU 0, receivers spread over the other CPUs.
    Split,
}

impl Placement {
    /// The CPU for the sender, if pinned.
    pub fn sender_cpu(self) -> Option<usize> {
        match self {
            Placement::None => None,
            Placement::Same | Placement::Split => Some(0),
        }
    }

    /// The CPU for receiver `index`, if pinned.
    pub fn receiver_cpu(self, index: usize) -> Option<usize> {
        match self {
            Placement::None => None,
            Placement::Same => Some(0),
            Placement::Split => {
                let cpus = cpu_count();
                Some(if cpus < 2 { 0 } else { 1 + index % (cpus - 1) })
            }
        }
    }
}

impl Placement {
    /// Where a ping-pong's client and echo run, in words: `same CPU (client 0, echo 0)`,
    /// `other CPU (client 0, echo 1)` or `unpinned`.
    pub fn round_trip_label(self) -> String {
        match (self.sender_cpu(), self.receiver_cpu(0)) {
            (Some(client), Some(echo)) => {
                let which = if client == echo { "same" } else { "other" };
                format!("{which} CPU (client {client}, echo {echo})")
            }
            _ => "unpinned".into(),
        }
    }
}

/// Pins the calling thread to one CPU (`sched_setaffinity(2)`).
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).map_err(io::Error::from)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(io::Error::from)
}

/// How many CPUs this process may run on.
fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `split` keeps CPU 0 for the sender whenever there is another CPU for the receivers.
    #[test]
    fn split_keeps_cpu_zero_for_the_sender() {
        assert_eq!(Placement::None.receiver_cpu(3), None);
        assert_eq!(Placement::Same.receiver_cpu(3), Some(0));
        let receivers: Vec<usize> = (0..4)
            .filter_map(|i| Placement::Split.receiver_cpu(i))
            .collect();
        assert_eq!(receivers.contains(&0), cpu_count() < 2, "{receivers:?}");
    }
}
