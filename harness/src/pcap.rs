//! Captured frames as a classic libpcap file, which tcpdump, tshark and Wireshark read.
//!
//! The format (see `pcap-savefile(5)`) is a 24-byte file header followed by one 16-byte record
//! header and the frame's bytes per frame, all in the writer's byte order, which the reader
//! learns from the magic number. We write little-endian, microsecond timestamps, link type
//! `LINKTYPE_ETHERNET` (1): every frame a [`crate::Capture`] sees starts with an Ethernet
//! header (on `lo`, a fake one of zeros, as `tcpdump -i lo` records too).

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// Magic number of a microsecond-resolution pcap file.
const MAGIC: u32 = 0xa1b2_c3d4;
/// `LINKTYPE_ETHERNET`.
const ETHERNET: u32 = 1;
/// Longest frame a record holds.
const SNAPLEN: u32 = 262_144;

/// Writes frames to a pcap file, one record per [`PcapWriter::write`].
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut out: W) -> io::Result<PcapWriter<W>> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&MAGIC.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // time zone: UTC
        header.extend_from_slice(&0u32.to_le_bytes()); // timestamp accuracy
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out })
    }

    /// Appends one frame, captured at `time`.
    pub fn write(&mut self, time: SystemTime, frame: &[u8]) -> io::Result<()> {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let kept = &frame[..frame.len().min(SNAPLEN as usize)];
        let mut record = Vec::with_capacity(16 + kept.len());
        record.extend_from_slice(&(since.as_secs() as u32).to_le_bytes());
        record.extend_from_slice(&since.subsec_micros().to_le_bytes());
        record.extend_from_slice(&(kept.len() as u32).to_le_bytes());
        record.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        record.extend_from_slice(kept);
        self.out.write_all(&record)
    }

    /// Flushes what was written to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
