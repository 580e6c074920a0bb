//! The message on the wire: a sequence number, a count word, and padding to the chosen size.
//!
//! ```text
//!  0        8        16                    size
//!  +--------+--------+---------------------+
//!  |  seq   | count  | zero padding ...    |    both little-endian u64
//!  +--------+--------+---------------------+
//! ```
//! The sequence number is what loss, duplicate and reorder accounting rests on. Data
//! messages carry 0 in the count word: nothing is timed from the message itself (ping-pong
//! times each round trip with the client's own clock), so no clock is read in the sending
//! loop, where it would count as sending CPU.
//!
//! The last message of a run is an end marker: sequence `u64::MAX`, the number of sequence
//! numbers the run used in the count word (so a receiver learns how many there were), and
//! the marker's own index in bytes 16..24. Markers are repeated until every receiver has
//! reported; a receiver whose first marker has index k knows that k earlier markers met a
//! full queue, which tells the kernel's drop counter apart from data loss.

/// The smallest message: sequence number and count word.
pub const HEADER: usize = 16;

/// The sequence number that marks the end of a run.
const END: u64 = u64::MAX;

/// Length of an end marker: header plus the marker's index.
pub const END_LENGTH: usize = HEADER + 8;

/// Writes data message `seq` into the first [`HEADER`] bytes of `buffer` (which must be at
/// least that long), with 0 in the count word; the rest is left as it is.
pub fn encode(buffer: &mut [u8], seq: u64) {
    write_header(buffer, seq, 0);
}

/// Writes end marker number `index` for a run that used `sent` sequence numbers.
pub fn encode_end(buffer: &mut [u8; END_LENGTH], sent: u64, index: u64) {
    write_header(buffer, END, sent);
    buffer[HEADER..].copy_from_slice(&index.to_le_bytes());
}

/// Reads a datagram's sequence number (`u64::MAX` for an end marker); `None` if it is too
/// short to be ours.
pub fn decode(datagram: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(datagram.get(..8)?.try_into().ok()?))
}

/// Reads an end marker: `(sent, index)`, or `None` if the datagram is not one.
pub fn decode_end(datagram: &[u8]) -> Option<(u64, u64)> {
    if decode(datagram)? != END {
        return None;
    }
    let sent = u64::from_le_bytes(datagram.get(8..HEADER)?.try_into().ok()?);
    let index = u64::from_le_bytes(datagram.get(HEADER..END_LENGTH)?.try_into().ok()?);
    Some((sent, index))
}

fn write_header(buffer: &mut [u8], seq: u64, count: u64) {
    buffer[..8].copy_from_slice(&seq.to_le_bytes());
    buffer[8..HEADER].copy_from_slice(&count.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is encoded decodes unchanged, with a zero count word in data messages; a short
    /// datagram is not a message, and a data message is not an end marker.
    #[test]
    fn header_round_trips_and_short_datagrams_are_refused() {
        let mut buffer = [0xffu8; 64];
        encode(&mut buffer, 42);
        assert_eq!(decode(&buffer), Some(42));
        assert_eq!(&buffer[8..16], &[0; 8]);
        assert_eq!(decode(&buffer[..7]), None);
        let mut end = [0u8; END_LENGTH];
        encode_end(&mut end, 9_000, 3);
        assert_eq!(decode(&end), Some(END));
        assert_eq!(decode_end(&end), Some((9_000, 3)));
        assert_eq!(decode_end(&end[..HEADER]), None);
        assert_eq!(decode_end(&buffer), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No datagram makes the decoders panic; a sequence number needs 8 bytes, an end
        /// marker all 24 and the end sequence number.
        #[test]
        fn any_bytes_decode_without_panic(datagram in proptest::collection::vec(any::<u8>(), 0..64)) {
            let seq = decode(&datagram);
            prop_assert_eq!(seq.is_some(), datagram.len() >= 8);
            let end = decode_end(&datagram);
            prop_assert_eq!(end.is_some(), datagram.len() >= END_LENGTH && seq == Some(END));
        }

        /// What is encoded decodes unchanged, for every sequence number and marker.
        #[test]
        fn messages_and_markers_round_trip(seq in 0..END, sent in any::<u64>(), index in any::<u64>()) {
            let mut message = [0u8; HEADER];
            encode(&mut message, seq);
            prop_assert_eq!(decode(&message), Some(seq));
            prop_assert_eq!(decode_end(&message), None);
            let mut marker = [0u8; END_LENGTH];
            encode_end(&mut marker, sent, index);
            prop_assert_eq!(decode_end(&marker), Some((sent, index)));
        }
    }
}
