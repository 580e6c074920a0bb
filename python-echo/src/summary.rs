//! Counting acknowledgements: which hosts answered, which answered twice, and which
//! replies were not acknowledgements at all.
//!
//! The original sender prints every reply and counts nothing. To use it as a
//! connectivity check ("did at least 3 hosts hear me?") the replies have to be counted by
//! *host*: a host that answers twice is still one host, and a reply that is not `ack` is
//! no acknowledgement. This file holds that bookkeeping, with no sockets in it.
//!
//! Anyone can send the sender datagrams while it waits, so the tally keeps counts and a
//! short window of the latest replies, never every reply: its memory does not grow with
//! what a peer sends, and counting a reply costs the same however many came before.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The payload a receiver sends back: the three bytes `ack`.
pub const ACK: &[u8] = b"ack";

/// What one reply to the sender turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The first `ack` from this host.
    NewAck,
    /// Another `ack` from a host that already acknowledged; counted once.
    DuplicateAck,
    /// Anything that is not exactly `ack` (including an `ack` with more bytes after it).
    NotAnAck,
}

/// One reply the sender received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Where it came from (the receiver's address and port).
    pub source: SocketAddr,
    /// The bytes read, at most the sender's read size (16, as in the original).
    pub payload: Vec<u8>,
    /// The datagram's real length, which may be larger than `payload`.
    pub length: usize,
    /// How it was counted.
    pub verdict: Verdict,
}

/// How many of the latest replies an [`AckSummary`] keeps whole (older ones are only
/// counted).
pub const RECENT_REPLIES: usize = 64;

/// The tally of replies: counts by verdict, the acknowledging hosts, and the latest
/// [`RECENT_REPLIES`] replies in the order they arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckSummary {
    recent: VecDeque<Reply>,
    hosts: Vec<IpAddr>,
    known: HashSet<IpAddr>,
    duplicates: usize,
    others: usize,
}

impl AckSummary {
    /// An empty tally.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Counts one reply and says what it was. A host is identified by its address alone:
    /// the port a reply comes from does not make it a different host.
    ///
    /// `length` is the datagram's real size; when it is larger than `payload` the reply
    /// was cut short and cannot be a plain `ack`.
    pub(crate) fn record(&mut self, source: SocketAddr, payload: &[u8], length: usize) -> Verdict {
        let verdict = if payload != ACK || length != payload.len() {
            self.others += 1;
            Verdict::NotAnAck
        } else if self.known.insert(source.ip()) {
            self.hosts.push(source.ip());
            Verdict::NewAck
        } else {
            self.duplicates += 1;
            Verdict::DuplicateAck
        };
        if self.recent.len() == RECENT_REPLIES {
            self.recent.pop_front();
        }
        self.recent.push_back(Reply {
            source,
            payload: payload.to_vec(),
            length,
            verdict,
        });
        verdict
    }

    /// The latest replies (at most [`RECENT_REPLIES`]), oldest first.
    pub fn replies(&self) -> &VecDeque<Reply> {
        &self.recent
    }

    /// How many replies arrived in all.
    pub fn total(&self) -> usize {
        self.hosts.len() + self.duplicates + self.others
    }

    /// The distinct hosts that acknowledged, in the order their first `ack` arrived.
    pub fn hosts(&self) -> &[IpAddr] {
        &self.hosts
    }

    /// How many replies had a given verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::NewAck => self.hosts.len(),
            Verdict::DuplicateAck => self.duplicates,
            Verdict::NotAnAck => self.others,
        }
    }

    /// Whether at least `expected` distinct hosts acknowledged.
    pub(crate) fn meets(&self, expected: usize) -> bool {
        self.hosts.len() >= expected
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// The summary line the sender prints after `closing socket`, e.g.
/// `summary: acknowledged by 2 hosts: 10.0.0.1, 10.0.0.2`. Hosts are listed in address
/// order, since the order in which replies arrive is a race between the receivers.
impl fmt::Display for AckSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hosts = self.hosts.clone();
        hosts.sort();
        write!(
            f,
            "summary: acknowledged by {}",
            plural(hosts.len(), "host", "hosts")
        )?;
        if !hosts.is_empty() {
            let list: Vec<String> = hosts.iter().map(IpAddr::to_string).collect();
            write!(f, ": {}", list.join(", "))?;
        }
        let duplicates = self.count(Verdict::DuplicateAck);
        if duplicates > 0 {
            write!(
                f,
                "; {} counted once",
                plural(duplicates, "duplicate ack", "duplicate acks")
            )?;
        }
        let others = self.count(Verdict::NotAnAck);
        if others > 0 {
            write!(
                f,
                "; {} ignored",
                plural(
                    others,
                    "reply that was not an ack",
                    "replies that were not acks"
                )
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records each `(source, payload, length)` in order; returns the tally and the verdicts.
    fn tally(replies: &[(&str, &[u8], usize)]) -> (AckSummary, Vec<Verdict>) {
        let mut summary = AckSummary::new();
        let verdicts = replies
            .iter()
            .map(|&(source, payload, length)| {
                summary.record(source.parse().unwrap(), payload, length)
            })
            .collect();
        (summary, verdicts)
    }

    /// Two hosts acknowledging once each are two hosts, listed in address order.
    #[test]
    fn acks_from_two_hosts_count_two() {
        let (summary, verdicts) =
            tally(&[("10.0.0.2:10000", b"ack", 3), ("10.0.0.1:10000", b"ack", 3)]);
        assert_eq!(verdicts, [Verdict::NewAck, Verdict::NewAck]);
        assert_eq!(summary.hosts().len(), 2);
        assert!(summary.meets(2) && !summary.meets(3));
        assert_eq!(
            summary.to_string(),
            "summary: acknowledged by 2 hosts: 10.0.0.1, 10.0.0.2"
        );
    }

    /// A second ack from the same address, even from another port, is one host.
    #[test]
    fn duplicate_acks_are_counted_once_and_reported() {
        let (summary, verdicts) = tally(&[
            ("10.0.0.1:10000", b"ack", 3),
            ("10.0.0.1:10000", b"ack", 3),
            ("10.0.0.1:20000", b"ack", 3),
        ]);
        assert_eq!(
            verdicts,
            [
                Verdict::NewAck,
                Verdict::DuplicateAck,
                Verdict::DuplicateAck
            ]
        );
        assert_eq!(summary.hosts(), ["10.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(
            summary.to_string(),
            "summary: acknowledged by 1 host: 10.0.0.1; 2 duplicate acks counted once"
        );
    }

    /// Only exactly `ack` counts: other text, other case, or `ack` cut from a longer
    /// datagram are replies but not acknowledgements.
    #[test]
    fn replies_other_than_ack_are_ignored_and_reported() {
        let (summary, verdicts) = tally(&[
            ("10.0.0.3:9", b"nak", 3),
            ("10.0.0.3:9", b"ACK", 3),
            ("10.0.0.3:9", b"ack", 40),
        ]);
        assert_eq!(verdicts, [Verdict::NotAnAck; 3]);
        assert!(summary.hosts().is_empty());
        assert!(!summary.meets(1));
        assert!(summary.meets(0));
        assert_eq!(
            summary.to_string(),
            "summary: acknowledged by 0 hosts; 3 replies that were not acks ignored"
        );
        assert_eq!(summary.replies().len(), 3);
    }

    /// A peer that keeps replying fills only the window: the counts go on, the kept
    /// replies stop at [`RECENT_REPLIES`], the latest last.
    #[test]
    fn a_flood_of_replies_is_counted_but_only_the_latest_are_kept() {
        let mut summary = AckSummary::new();
        for n in 0..10_000u32 {
            let source = SocketAddr::from(([10, 0, (n >> 8) as u8, n as u8], 9));
            summary.record(source, &n.to_le_bytes(), 4);
            summary.record("10.0.0.7:9".parse().unwrap(), b"ack", 3);
        }
        assert_eq!(summary.total(), 20_000);
        assert_eq!(summary.count(Verdict::NotAnAck), 10_000);
        assert_eq!(summary.count(Verdict::NewAck), 1);
        assert_eq!(summary.count(Verdict::DuplicateAck), 9_999);
        assert_eq!(summary.replies().len(), RECENT_REPLIES);
        assert_eq!(
            summary.replies().back().unwrap().verdict,
            Verdict::DuplicateAck
        );
    }

    /// With no replies at all the summary still says so plainly.
    #[test]
    fn silence_is_summarised_as_zero_hosts() {
        assert_eq!(
            AckSummary::new().to_string(),
            "summary: acknowledged by 0 hosts"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any reply (bytes, claimed length, source) is counted without a panic, and only
        /// exactly `ack`, whole, is an acknowledgement.
        #[test]
        fn any_reply_is_classified(
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            extra in 0usize..70_000,
            port in any::<u16>(),
            host in any::<[u8; 4]>(),
        ) {
            let mut summary = AckSummary::new();
            let source = SocketAddr::from((host, port));
            let length = payload.len() + extra;
            let verdict = summary.record(source, &payload, length);
            let is_ack = payload == ACK && extra == 0;
            prop_assert_eq!(verdict == Verdict::NewAck, is_ack);
            prop_assert_eq!(summary.total(), 1);
            prop_assert!(!summary.to_string().is_empty());
        }
    }
}
