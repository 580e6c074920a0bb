//! How the sender reaches its receivers: one multicast send, or one unicast send each.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How the sender reaches its receivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One send per message to a group all receivers joined on `lo`.
    Multicast,
    /// One send per message per receiver, each to its own port on 127.0.0.1.
    Unicast,
}

impl Mode {
    /// Both modes, multicast first (the order of every sweep and report).
    pub const BOTH: [Mode; 2] = [Mode::Multicast, Mode::Unicast];
}

/// `multicast` or `unicast`, as on the command line; padded when a width is given.
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Mode::Multicast => "multicast",
            Mode::Unicast => "unicast",
        })
    }
}
