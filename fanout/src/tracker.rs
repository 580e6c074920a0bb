//! Loss, duplicate and reorder accounting over sequence numbers.
//!
//! A receiver feeds every sequence number it gets to a [`SequenceTracker`]. At the end, the
//! sender says how many sequence numbers it used, and [`SequenceTracker::tally`] gives exact
//! counts: nothing is estimated from rates or timing.
//!
//! - *lost*: sequence numbers the sender used that never arrived (each counted once);
//! - *duplicates*: arrivals of a sequence number that had already arrived;
//! - *reordered*: first arrivals of a number lower than the highest seen before it;
//! - *gaps*: places where the next new number jumped ahead, i.e. runs of missing numbers
//!   (at the time they were noticed; a late arrival may fill one in), plus a missing tail.

use serde::{Deserialize, Serialize};

/// Which sequence numbers arrived, as a growing bitmap, plus running counts.
#[derive(Clone, Debug, Default)]
pub struct SequenceTracker {
    seen: Vec<u64>,
    unique: u64,
    arrivals: u64,
    duplicates: u64,
    reordered: u64,
    gaps: u64,
    next_expected: u64,
}

/// The counts for one receiver at the end of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Sequence numbers the sender used.
    pub sent: u64,
    /// Datagrams that arrived, duplicates included.
    pub arrivals: u64,
    /// Distinct sequence numbers that arrived.
    pub unique: u64,
    /// `sent - unique`: sequence numbers that never arrived.
    pub lost: u64,
    /// Arrivals of a number already seen.
    pub duplicates: u64,
    /// First arrivals of a number lower than one seen earlier.
    pub reordered: u64,
    /// Jumps over missing numbers, as noticed while receiving.
    pub gaps: u64,
    /// Arrivals with a number at or beyond `sent` (should be zero).
    pub out_of_range: u64,
}

/// How many sequence numbers a tracker counts (64 Mi, an 8 MiB bitmap at most); arrivals
/// at or above this are treated as garbage rather than grown into, so a run may not use more.
pub const MAX_MESSAGES: u64 = 1 << 26;

impl SequenceTracker {
    /// An empty tracker.
    pub fn new() -> SequenceTracker {
        SequenceTracker::default()
    }

    /// Records one arrival of `seq`.
    pub fn record(&mut self, seq: u64) {
        self.arrivals += 1;
        if seq >= MAX_MESSAGES {
            return;
        }
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return;
        }
        self.seen[word] |= 1 << bit;
        self.unique += 1;
        if seq < self.next_expected {
            self.reordered += 1;
        } else {
            if seq > self.next_expected {
                self.gaps += 1;
            }
            self.next_expected = seq + 1;
        }
    }

    /// The counts, given that the sender used sequence numbers `0..sent`.
    pub fn tally(&self, sent: u64) -> Tally {
        let in_range = self.count_below(sent);
        Tally {
            sent,
            arrivals: self.arrivals,
            unique: in_range,
            lost: sent - in_range,
            duplicates: self.duplicates,
            reordered: self.reordered,
            // A run of missing numbers at the very end is noticed only now.
            gaps: self.gaps + u64::from(self.next_expected < sent),
            out_of_range: self.unique - in_range + (self.arrivals - self.duplicates - self.unique),
        }
    }

    fn count_below(&self, limit: u64) -> u64 {
        let full_words = (limit / 64) as usize;
        let mut count: u64 = self
            .seen
            .iter()
            .take(full_words)
            .map(|w| u64::from(w.count_ones()))
            .sum();
        if let Some(word) = self.seen.get(full_words) {
            let mask = (1u64 << (limit % 64)) - 1;
            count += u64::from((word & mask).count_ones());
        }
        count
    }
}

/// Copies that arrived per receiver per second, for a sender that sent `sent` messages at
/// `rate` per second to `receivers` receivers of which `lost` copies never arrived: what a
/// fan-out moved, whichever tool measured it. A run that lost nothing moved its rate.
pub fn delivered_rate(rate: f64, sent: u64, lost: u64, receivers: usize) -> f64 {
    let copies = sent as f64 * receivers as f64;
    if copies == 0.0 {
        return 0.0;
    }
    rate * (1.0 - (lost as f64 / copies).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(arrivals: &[u64], sent: u64) -> Tally {
        let mut tracker = SequenceTracker::new();
        arrivals.iter().for_each(|&seq| tracker.record(seq));
        tracker.tally(sent)
    }

    /// A clean run: everything once, in order.
    #[test]
    fn in_order_arrivals_count_nothing_wrong() {
        let counts = tally(&(0..1000).collect::<Vec<_>>(), 1000);
        assert_eq!(
            (
                counts.unique,
                counts.lost,
                counts.duplicates,
                counts.reordered,
                counts.gaps
            ),
            (1000, 0, 0, 0, 0)
        );
    }

    /// Each kind of trouble is counted once and kept apart from the others: 2 and 6 missing,
    /// 1 duplicated, 3 late (after 4), and the last two numbers never sent out at all.
    #[test]
    fn loss_duplicates_and_reordering_are_told_apart() {
        let counts = tally(&[0, 1, 1, 4, 3, 5, 7], 10);
        assert_eq!(counts.arrivals, 7);
        assert_eq!(counts.unique, 6);
        assert_eq!(counts.lost, 4, "2, 6, 8, 9");
        assert_eq!(counts.duplicates, 1);
        assert_eq!(counts.reordered, 1, "3 after 4");
        assert_eq!(counts.gaps, 3, "1->4, 5->7 and the missing tail 8, 9");
        assert_eq!(counts.out_of_range, 0);
    }

    /// A number the sender never used is not counted as received.
    #[test]
    fn numbers_beyond_the_run_are_out_of_range() {
        let counts = tally(&[0, 1, 70, 1 << 40], 2);
        assert_eq!((counts.unique, counts.lost, counts.out_of_range), (2, 0, 2));
    }

    /// A lost copy takes its share off the rate; nothing sent moved nothing.
    #[test]
    fn delivered_rate_takes_off_the_lost_share() {
        assert_eq!(delivered_rate(1000.0, 100, 0, 4), 1000.0);
        assert_eq!(delivered_rate(1000.0, 100, 100, 4), 750.0);
        assert_eq!(delivered_rate(1000.0, 100, 900, 4), 0.0);
        assert_eq!(delivered_rate(1000.0, 0, 0, 4), 0.0);
    }
}
