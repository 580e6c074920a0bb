//! Link impairment: loss, delay with jitter, rate limit, duplication and reordering on one
//! end of a host's cable, by the kernel's `netem` queueing discipline.
//!
//! `netem` acts on frames an interface *sends*, so where it sits decides what it changes:
//! - on the switch's end of a host's cable (`portK` in the switch's namespace), it changes
//!   only what that host **receives** ([`crate::Lan::impair`], [`crate::Routed::impair`]):
//!   on one multicast tree, host `b` can lose 20% of the stream while host `c`, on the same
//!   group, gets all of it;
//! - on the host's own end (its `eth0`), it changes what that host **sends**, to everyone at
//!   once ([`crate::Lan::impair_sending`]): a datagram it loses is lost for every receiver,
//!   while the host's own looped-back copy (`IP_MULTICAST_LOOP`) never crosses the cable
//!   and arrives at once.
//!
//! The qdisc is set over rtnetlink (`RTM_NEWQDISC` with create + replace, no `tc` binary), so
//! a test can change it between two datagrams; clearing deletes it and the interface is back
//! to the kernel's default. The kernel needs `CONFIG_NET_SCH_NETEM` (a rate alone:
//! `CONFIG_NET_SCH_TBF`); without it the call returns [`crate::Error::Unavailable`] saying so.
//! [`apply`], [`clear`] and [`wait_until_drained`] are the one place that talks to the kernel
//! about it; the topologies only say which interface in which namespace.
//!
//! The options are encoded as `tc qdisc replace ... netem` encodes them (the leading bytes are
//! checked against what `tc` sends, in the unit tests below), followed by the attributes that
//! make a change complete: every setting is sent every time, so a change to a link impaired
//! before leaves nothing of the earlier settings behind.

use std::io;
use std::time::{Duration, Instant};

use crate::error::{Context, Error};
use crate::netlink::Rtnl;
use crate::ready::READY_DEADLINE;

/// What to do to the frames one link delivers. Built up from [`Impairment::new`] (no effect)
/// with the methods below; probabilities are fractions from 0 to 1.
///
/// ```
/// use std::time::Duration;
/// let bad_wifi = harness::Impairment::new()
///     .loss(0.2)
///     .delay(Duration::from_millis(20), Duration::from_millis(5));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Impairment {
    loss: f64,
    delay: Duration,
    jitter: Duration,
    duplicate: f64,
    reorder: f64,
    rate: Option<u64>,
    limit: Option<u32>,
}

/// How many frames `netem` holds at most when no limit is given (as `tc`'s default).
const DEFAULT_LIMIT: u32 = 1000;

impl Impairment {
    /// No impairment: every frame passes at once.
    pub fn new() -> Impairment {
        Impairment::default()
    }

    /// Drops each frame with probability `fraction`, independently.
    pub fn loss(mut self, fraction: f64) -> Impairment {
        self.loss = fraction;
        self
    }

    /// Holds each frame for `delay`, plus or minus up to `jitter` (uniformly distributed).
    /// Jitter reorders frames sent closer together than it spans.
    pub fn delay(mut self, delay: Duration, jitter: Duration) -> Impairment {
        self.delay = delay;
        self.jitter = jitter;
        self
    }

    /// Sends each frame twice with probability `fraction`.
    pub fn duplicate(mut self, fraction: f64) -> Impairment {
        self.duplicate = fraction;
        self
    }

    /// Sends each frame at once, ahead of the delayed ones, with probability `fraction`.
    /// Needs a [`delay`](Impairment::delay): the others are held that long.
    pub fn reorder(mut self, fraction: f64) -> Impairment {
        self.reorder = fraction;
        self
    }

    /// Limits the link to `bits_per_second`: frames wait their turn. A rate with nothing else
    /// is kept by the token bucket filter (`tbf`, with a bucket of one full frame), which a
    /// kernel without netem may still have; with anything else, by netem.
    pub fn rate(mut self, bits_per_second: u64) -> Impairment {
        self.rate = Some(bits_per_second);
        self
    }

    /// How many frames may wait in the link at once (1000 unless given); more are dropped.
    pub fn limit(mut self, frames: u32) -> Impairment {
        self.limit = Some(frames);
        self
    }

    /// Checks the settings make sense together.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::Invalid(format!(
                    "impairment: {name} must be a fraction from 0 to 1, got {p}"
                )));
            }
        }
        if self.reorder > 0.0 && self.delay.is_zero() {
            return Err(Error::Invalid(
                "impairment: reordering needs a delay (the frames not sent at once wait that long)"
                    .into(),
            ));
        }
        if self.rate == Some(0) {
            return Err(Error::Invalid(
                "impairment: a rate of 0 bits per second passes nothing".into(),
            ));
        }
        Ok(())
    }

    /// The queueing discipline that does this, and its `TCA_OPTIONS` payload: `tbf` for a
    /// rate alone, `netem` for anything else.
    pub(crate) fn qdisc(&self) -> (&'static str, Vec<u8>) {
        let rate_alone = self.loss == 0.0
            && self.duplicate == 0.0
            && self.reorder == 0.0
            && self.delay.is_zero()
            && self.jitter.is_zero();
        match self.rate {
            Some(bits) if rate_alone => ("tbf", tbf_options(bits, self.limit)),
            _ => ("netem", self.netem_options()),
        }
    }

    /// The `TCA_OPTIONS` payload for a `netem` qdisc: `struct tc_netem_qopt`, then nested
    /// attributes (see `include/uapi/linux/pkt_sched.h`).
    pub(crate) fn netem_options(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        // struct tc_netem_qopt: latency and jitter in scheduler ticks of 64 ns.
        put_u32(&mut out, ticks(self.delay));
        put_u32(&mut out, self.limit.unwrap_or(DEFAULT_LIMIT));
        put_u32(&mut out, probability(self.loss));
        // gap 1: "every frame may be sent ahead", weighed by the reorder probability.
        put_u32(&mut out, u32::from(self.reorder > 0.0));
        put_u32(&mut out, probability(self.duplicate));
        put_u32(&mut out, ticks(self.jitter));
        // TCA_NETEM_REORDER: probability, correlation.
        let mut reorder = Vec::new();
        put_u32(&mut reorder, probability(self.reorder));
        put_u32(&mut reorder, 0);
        attribute(&mut out, TCA_NETEM_REORDER, &reorder);
        // TCA_NETEM_RATE: bytes per second, packet overhead, cell size, cell overhead.
        let bytes = self.rate.map_or(0, |bits| bits / 8);
        let mut rate = Vec::new();
        put_u32(&mut rate, u32::try_from(bytes).unwrap_or(u32::MAX));
        rate.extend_from_slice(&[0; 12]);
        attribute(&mut out, TCA_NETEM_RATE, &rate);
        // From here on, what `tc` leaves out when it is zero, but a change must reset.
        attribute(&mut out, TCA_NETEM_CORR, &[0; 12]);
        if bytes > u64::from(u32::MAX) {
            attribute(&mut out, TCA_NETEM_RATE64, &bytes.to_ne_bytes());
        }
        attribute(
            &mut out,
            TCA_NETEM_LATENCY64,
            &nanos(self.delay).to_ne_bytes(),
        );
        attribute(
            &mut out,
            TCA_NETEM_JITTER64,
            &nanos(self.jitter).to_ne_bytes(),
        );
        out
    }
}

/// Puts `impairment` on interface `index` of the namespace `rtnl` speaks for, replacing any
/// impairment there was: in effect for the next frame the interface sends. `link` names the
/// link in errors ("the link to host b").
pub(crate) fn apply(
    rtnl: &mut Rtnl,
    index: u32,
    impairment: &Impairment,
    link: &str,
) -> crate::Result<()> {
    impairment.validate()?;
    let (kind, options) = impairment.qdisc();
    match rtnl.replace_root_qdisc(index, kind, options) {
        // The kernel's answer to an unknown qdisc kind (the module absent and not loadable).
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            let capability = if kind == "netem" {
                crate::Capability::Netem
            } else {
                crate::Capability::Tbf
            };
            Err(capability.missing(format!("impairing {link}, the kernel said: {e}")))
        }
        other => other.doing(|| format!("impairing {link} ({impairment:?})")),
    }
}

/// Takes any impairment off interface `index`: frames pass at once again. No error when
/// there was none.
pub(crate) fn clear(rtnl: &mut Rtnl, index: u32, link: &str) -> crate::Result<()> {
    match rtnl.delete_root_qdisc(index) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other.doing(|| format!("clearing the impairment on {link}")),
    }
}

/// Returns once interface `index` holds no frames: everything it was given so far has been
/// sent on or dropped by the impairment. Waits at most [`READY_DEADLINE`].
pub(crate) fn wait_until_drained(rtnl: &mut Rtnl, index: u32, link: &str) -> crate::Result<()> {
    let until = Instant::now() + READY_DEADLINE;
    loop {
        let queued = rtnl
            .root_qdisc_queue(index)
            .doing(|| format!("reading the queue of {link}"))?;
        if queued == 0 {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(Error::Io {
                doing: format!("waiting for {link} to drain"),
                cause: io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{queued} frames still queued after {READY_DEADLINE:?}"),
                ),
            });
        }
        std::thread::yield_now();
    }
}

/// The `TCA_OPTIONS` payload for a `tbf` qdisc limited to `bits_per_second`, with a bucket of
/// [`TBF_BURST`] bytes and room for `limit` full-size frames (1000 unless given):
/// `TCA_TBF_PARMS` (`struct tc_tbf_qopt`), then `TCA_TBF_BURST`, as `tc` encodes them.
pub(crate) fn tbf_options(bits_per_second: u64, limit: Option<u32>) -> Vec<u8> {
    let bytes = bits_per_second / 8;
    let mut parms = Vec::with_capacity(40);
    // struct tc_ratespec: cell_log, linklayer (1: Ethernet, so no rate table is needed),
    // overhead, cell_align, mpu, rate in bytes per second.
    parms.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    put_u32(&mut parms, u32::try_from(bytes).unwrap_or(u32::MAX));
    parms.extend_from_slice(&[0; 12]); // no peak rate
    put_u32(
        &mut parms,
        limit.unwrap_or(DEFAULT_LIMIT).saturating_mul(FULL_FRAME),
    );
    let burst_time = Duration::from_secs_f64(f64::from(TBF_BURST) / bytes as f64);
    put_u32(&mut parms, ticks(burst_time));
    put_u32(&mut parms, 0); // mtu: only for a peak rate
    let mut out = Vec::with_capacity(64);
    attribute(&mut out, TCA_TBF_PARMS, &parms);
    if bytes > u64::from(u32::MAX) {
        attribute(&mut out, TCA_TBF_RATE64, &bytes.to_ne_bytes());
    }
    attribute(&mut out, TCA_TBF_BURST, &TBF_BURST.to_ne_bytes());
    out
}

/// The token bucket's size in bytes: one full-size Ethernet frame passes at once, after that
/// the rate holds.
const TBF_BURST: u32 = 1600;
/// A full-size frame on a veth (1500 bytes of MTU and an Ethernet header), for byte limits.
const FULL_FRAME: u32 = 1514;

const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TCA_NETEM_CORR: u16 = 1;
const TCA_NETEM_REORDER: u16 = 3;
const TCA_NETEM_RATE: u16 = 6;
const TCA_NETEM_RATE64: u16 = 8;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_ne_bytes());
}

/// One netlink attribute: length, type, value, padded to 4 bytes.
fn attribute(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let length = u16::try_from(4 + value.len()).expect("a short attribute");
    out.extend_from_slice(&length.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// A fraction as netem's probability: 0 is never, `u32::MAX` always (as `tc` rounds it).
fn probability(fraction: f64) -> u32 {
    (fraction.clamp(0.0, 1.0) * f64::from(u32::MAX)).round() as u32
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// Packet-scheduler ticks (64 ns each), saturating; `TCA_NETEM_LATENCY64` carries the exact value.
fn ticks(duration: Duration) -> u32 {
    u32::try_from(duration.as_nanos() >> 6).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `tc qdisc replace dev lo root netem delay 20ms 5ms loss 20% duplicate 5%
    /// reorder 25% rate 1mbit limit 1000` put in `TCA_OPTIONS` (iproute2 6.x, seen with
    /// strace, on x86-64): the same settings here must start with exactly these.
    #[test]
    fn options_start_as_tc_encodes_them() {
        let tc: [u8; 56] = [
            0xb4, 0xc4, 0x04, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x33, 0x33, 0x33, 0x33, 0x01, 0x00,
            0x00, 0x00, 0xcd, 0xcc, 0xcc, 0x0c, 0x2d, 0x31, 0x01, 0x00, 0x0c, 0x00, 0x03, 0x00,
            0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x06, 0x00, 0x48, 0xe8,
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let ours = Impairment::new()
            .delay(Duration::from_millis(20), Duration::from_millis(5))
            .loss(0.2)
            .duplicate(0.05)
            .reorder(0.25)
            .rate(1_000_000)
            .limit(1000)
            .netem_options();
        assert_eq!(ours[..tc.len()], tc);
        // Then correlations (all 0), and the delay and jitter in nanoseconds.
        let rest = &ours[tc.len()..];
        assert_eq!(rest[..4], [16, 0, 1, 0]);
        assert_eq!(rest[4..16], [0; 12]);
        assert_eq!(rest[16..20], [12, 0, 10, 0]);
        assert_eq!(rest[20..28], 20_000_000i64.to_ne_bytes());
        assert_eq!(rest[28..32], [12, 0, 11, 0]);
        assert_eq!(rest[32..40], 5_000_000i64.to_ne_bytes());
        assert_eq!(rest.len(), 40);
    }

    /// The bytes `tc qdisc replace dev lo root tbf rate 1mbit burst 1600 limit 1514000` put
    /// in `TCA_OPTIONS`, less the rate table `tc` adds (the kernel needs none for a rate
    /// marked as Ethernet's) and `tc`'s cell_log and cell_align (only for that table).
    #[test]
    fn a_rate_alone_is_a_token_bucket_encoded_as_tc_does() {
        let (kind, options) = Impairment::new().rate(1_000_000).qdisc();
        assert_eq!(kind, "tbf");
        let mut expected = vec![40, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x48, 0xe8, 1, 0];
        expected.extend_from_slice(&[0; 12]);
        expected.extend_from_slice(&1_514_000u32.to_ne_bytes());
        expected.extend_from_slice(&[0x40, 0x0d, 0x03, 0x00, 0, 0, 0, 0]);
        expected.extend_from_slice(&[8, 0, 6, 0, 0x40, 0x06, 0, 0]);
        assert_eq!(options, expected);
        let (kind, _) = Impairment::new().rate(1_000_000).loss(0.1).qdisc();
        assert_eq!(kind, "netem");
    }

    #[test]
    fn rates_beyond_32_bits_of_bytes_go_in_rate64() {
        let options = Impairment::new().rate(40_000_000_000).netem_options();
        let rate = &options[24 + 12..24 + 12 + 20];
        assert_eq!(rate[4..8], u32::MAX.to_ne_bytes());
        let rate64 = &options[24 + 12 + 20 + 16..][..12];
        assert_eq!(rate64[..4], [12, 0, 8, 0]);
        assert_eq!(rate64[4..], 5_000_000_000u64.to_ne_bytes());
    }

    #[test]
    fn nonsense_is_refused_with_the_reason() {
        let error = |i: Impairment| i.validate().unwrap_err().to_string();
        assert!(error(Impairment::new().loss(1.5)).contains("loss must be a fraction"));
        assert!(error(Impairment::new().reorder(0.1)).contains("reordering needs a delay"));
        assert!(error(Impairment::new().rate(0)).contains("passes nothing"));
        Impairment::new()
            .loss(1.0)
            .reorder(0.5)
            .delay(Duration::from_millis(1), Duration::ZERO)
            .validate()
            .unwrap();
    }
}
