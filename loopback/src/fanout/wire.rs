//! The message on the wire: a sequence number, a send time, and padding to the chosen size.
//!
//! ```text
//!  0        8        16                    size
//!  +--------+--------+---------------------+
//!  |  seq   | stamp  | zero padding ...    |    both little-endian u64
//!  +--------+--------+---------------------+
//! ```
//! The sequence number is what loss, duplicate and reorder accounting rests on. The stamp is
//! the sender's `CLOCK_MONOTONIC` in nanoseconds (ping-pong uses it). The last message of a
//! run is an end marker: sequence [`END`], the number of sequence numbers the run used in
//! the stamp field (so a receiver learns how many there were), and the marker's own index in
//! bytes 16..24. Markers are repeated until every receiver has reported; a receiver whose
//! first marker has index k knows that k earlier markers met a full queue, which tells the
//! kernel's drop counter apart from data loss.

/// The smallest message: sequence number and stamp.
pub const HEADER: usize = 16;

/// The sequence number that marks the end of a run.
pub const END: u64 = u64::MAX;

/// Length of an end marker: header plus the marker's index.
pub const END_LENGTH: usize = HEADER + 8;

/// Writes end marker number `index` for a run that used `sent` sequence numbers.
pub fn encode_end(buffer: &mut [u8; END_LENGTH], sent: u64, index: u64) {
    encode(buffer, END, sent);
    buffer[HEADER..].copy_from_slice(&index.to_le_bytes());
}

/// Reads an end marker: `(sent, index)`, or `None` if the datagram is not one.
pub fn decode_end(datagram: &[u8]) -> Option<(u64, u64)> {
    let (END, sent) = decode(datagram)? else {
        return None;
    };
    let index = u64::from_le_bytes(datagram.get(HEADER..END_LENGTH)?.try_into().ok()?);
    Some((sent, index))
}

/// Writes `seq` and `stamp` into the first [`HEADER`] bytes of `buffer` (which must be at
/// least that long); the rest is left as it is.
pub fn encode(buffer: &mut [u8], seq: u64, stamp: u64) {
    buffer[..8].copy_from_slice(&seq.to_le_bytes());
    buffer[8..16].copy_from_slice(&stamp.to_le_bytes());
}

/// Reads sequence number and stamp; `None` if the datagram is too short to be ours.
pub fn decode(datagram: &[u8]) -> Option<(u64, u64)> {
    let seq = u64::from_le_bytes(datagram.get(..8)?.try_into().ok()?);
    let stamp = u64::from_le_bytes(datagram.get(8..16)?.try_into().ok()?);
    Some((seq, stamp))
}

/// `CLOCK_MONOTONIC` in nanoseconds: comparable between processes on one host.
pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// CPU time the calling thread has used, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
/// On loopback this includes the kernel's delivery work done on the sender's behalf.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process has used, in nanoseconds (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into; the clocks used always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is encoded decodes unchanged; a short datagram is not a message.
    #[test]
    fn header_round_trips_and_short_datagrams_are_refused() {
        let mut buffer = [0u8; 64];
        encode(&mut buffer, 42, 7_000_000_001);
        assert_eq!(decode(&buffer), Some((42, 7_000_000_001)));
        assert_eq!(decode(&buffer[..15]), None);
        let mut end = [0u8; END_LENGTH];
        encode_end(&mut end, 9_000, 3);
        assert_eq!(decode_end(&end), Some((9_000, 3)));
        assert_eq!(decode_end(&buffer), None);
    }
}
