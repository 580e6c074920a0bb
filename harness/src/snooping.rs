//! The timers of a snooping switch: how long the bridge keeps a membership nobody renews, how
//! often its querier asks, how long hosts have to answer, and how it drops a port after a
//! leave. A test that watches one of them run out sets it short instead of waiting out the
//! kernel's default (a membership lasts 260 s on a Linux bridge).
//!
//! They are the bridge's `IFLA_BR_MCAST_*` attributes, what `ip link set br0 type bridge
//! mcast_membership_interval 100 ...` sends, set over rtnetlink before the bridge becomes
//! the querier. The kernel takes intervals in hundredths of a second (`USER_HZ` clock ticks,
//! which it converts to its own jiffies), so each interval here must be a whole number of
//! 10 ms. What the kernel refuses or quietly raises is refused here, by name:
//! - the query and startup query intervals are at least 1 s (Linux raises anything shorter
//!   to 1 s, since 5.19, and says so only in the kernel log);
//! - the query response and last member intervals are at least 100 ms: a query carries them
//!   in tenths of a second, and a query that says 0 is an IGMPv1 query, after which hosts
//!   send no leaves.

use std::fmt;
use std::time::Duration;

use netlink_packet_route::link::InfoBridge;

use crate::error::Error;

/// The timers a snooping switch runs with. Built up from [`SnoopingTimers::new`] with the
/// methods below, and given to [`crate::Lan::with_snooping_timers`]; a timer not set keeps
/// what [`crate::Lan::with_snooping`] gives it: the kernel's default, except the query
/// response and last member intervals, 100 ms (10 s and 1 s by default).
///
/// ```
/// use std::time::Duration;
/// // A membership nobody renews is forgotten after 300 ms (260 s by default).
/// let quick = harness::SnoopingTimers::new().membership_interval(Duration::from_millis(300));
/// assert_eq!(quick.to_string(), "membership interval 300ms");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnoopingTimers {
    membership: Option<Duration>,
    query: Option<Duration>,
    query_response: Option<Duration>,
    startup_query: Option<Duration>,
    startup_query_count: Option<u32>,
    last_member: Option<Duration>,
    last_member_count: Option<u32>,
}

/// The shortest query and startup query intervals Linux accepts (`BR_MULTICAST_QUERY_INTVL_MIN`).
const QUERY_MIN: Duration = Duration::from_secs(1);
/// The shortest interval a query can carry as a maximum response time (in tenths of a second).
const RESPONSE_MIN: Duration = Duration::from_millis(100);

impl SnoopingTimers {
    /// No timer set: the switch runs as [`crate::Lan::with_snooping`] builds it.
    pub fn new() -> SnoopingTimers {
        SnoopingTimers::default()
    }

    /// `mcast_membership_interval` (260 s by default): how long the switch keeps a port's
    /// membership after the last report that renewed it. When it runs out the switch forgets
    /// the member, although the host may still be joined.
    pub fn membership_interval(mut self, interval: Duration) -> SnoopingTimers {
        self.membership = Some(interval);
        self
    }

    /// `mcast_query_interval` (125 s by default, at least 1 s): how often the querier asks
    /// every host to report its groups again, once its startup queries are done.
    pub fn query_interval(mut self, interval: Duration) -> SnoopingTimers {
        self.query = Some(interval);
        self
    }

    /// `mcast_query_response_interval` (10 s by default, at least 100 ms; the harness's
    /// switches use 100 ms): how long hosts have to answer a query, and how long the switch
    /// waits after becoming querier before it filters.
    pub fn query_response_interval(mut self, interval: Duration) -> SnoopingTimers {
        self.query_response = Some(interval);
        self
    }

    /// `mcast_startup_query_interval` (a quarter of the query interval by default, at least
    /// 1 s) and `mcast_startup_query_count` (2 by default): the queries a new querier sends
    /// first, `count` of them (at least 1), `interval` apart.
    pub fn startup_queries(mut self, count: u32, interval: Duration) -> SnoopingTimers {
        self.startup_query_count = Some(count);
        self.startup_query = Some(interval);
        self
    }

    /// `mcast_last_member_count` (2 by default) and `mcast_last_member_interval` (1 s by
    /// default, at least 100 ms; the harness's switches use 100 ms): after a leave, the
    /// querier asks the port `count` times (at least 1), `interval` apart, before it drops
    /// the group from it.
    pub fn last_member_queries(mut self, count: u32, interval: Duration) -> SnoopingTimers {
        self.last_member_count = Some(count);
        self.last_member = Some(interval);
        self
    }

    /// Whether every timer is left as it is.
    pub(crate) fn is_default(&self) -> bool {
        *self == SnoopingTimers::default()
    }

    /// Checks each timer against what the kernel honours (see the module docs).
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let invalid = |what: String| Err(Error::Invalid(format!("snooping timers: {what}")));
        for (name, value, minimum) in [
            (
                "membership interval",
                self.membership,
                Duration::from_millis(10),
            ),
            ("query interval", self.query, QUERY_MIN),
            ("query response interval", self.query_response, RESPONSE_MIN),
            ("startup query interval", self.startup_query, QUERY_MIN),
            ("last member interval", self.last_member, RESPONSE_MIN),
        ] {
            let Some(value) = value else { continue };
            if value < minimum {
                return invalid(format!(
                    "the {name} must be at least {minimum:?}, got {value:?}"
                ));
            }
            if value.as_nanos() % 10_000_000 != 0 {
                return invalid(format!(
                    "the {name} must be a whole number of 10 ms (the kernel counts hundredths \
                     of a second), got {value:?}"
                ));
            }
        }
        for (name, count) in [
            ("startup query count", self.startup_query_count),
            ("last member count", self.last_member_count),
        ] {
            if count == Some(0) {
                return invalid(format!("the {name} must be at least 1, got 0"));
            }
        }
        Ok(())
    }

    /// The bridge attributes that set these timers (`IFLA_BR_MCAST_*`), intervals in
    /// hundredths of a second.
    pub(crate) fn attributes(&self) -> Vec<InfoBridge> {
        let ticks = |d: Duration| (d.as_millis() / 10) as u64;
        let mut attributes = Vec::new();
        if let Some(d) = self.membership {
            attributes.push(InfoBridge::MulticastMembershipInterval(ticks(d)));
        }
        if let Some(d) = self.query {
            attributes.push(InfoBridge::MulticastQueryInterval(ticks(d)));
        }
        if let Some(d) = self.query_response {
            attributes.push(InfoBridge::MulticastQueryResponseInterval(ticks(d)));
        }
        if let Some(d) = self.startup_query {
            attributes.push(InfoBridge::MulticastStartupQueryInterval(ticks(d)));
        }
        if let Some(n) = self.startup_query_count {
            attributes.push(InfoBridge::MulticastStartupQueryCount(n));
        }
        if let Some(d) = self.last_member {
            attributes.push(InfoBridge::MulticastLastMemberInterval(ticks(d)));
        }
        if let Some(n) = self.last_member_count {
            attributes.push(InfoBridge::MulticastLastMemberCount(n));
        }
        attributes
    }
}

/// The timers that are set, as `membership interval 300ms, query interval 1s`; `kernel
/// defaults` when none is.
impl fmt::Display for SnoopingTimers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut interval = |name: &str, value: Option<Duration>| {
            if let Some(value) = value {
                parts.push(format!("{name} {value:?}"));
            }
        };
        interval("membership interval", self.membership);
        interval("query interval", self.query);
        interval("query response interval", self.query_response);
        if let (Some(count), Some(every)) = (self.startup_query_count, self.startup_query) {
            parts.push(format!("{count} startup queries {every:?} apart"));
        }
        if let (Some(count), Some(every)) = (self.last_member_count, self.last_member) {
            parts.push(format!("{count} last member queries {every:?} apart"));
        }
        if parts.is_empty() {
            f.write_str("kernel defaults")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// Intervals go to the kernel in hundredths of a second, counts as they are, and only
    /// what was set is sent.
    #[test]
    fn timers_become_bridge_attributes_in_hundredths_of_a_second() {
        let timers = SnoopingTimers::new()
            .membership_interval(MS(300))
            .query_interval(Duration::from_secs(60))
            .startup_queries(1, Duration::from_secs(1))
            .last_member_queries(2, MS(100));
        assert_eq!(
            timers.attributes(),
            [
                InfoBridge::MulticastMembershipInterval(30),
                InfoBridge::MulticastQueryInterval(6000),
                InfoBridge::MulticastStartupQueryInterval(100),
                InfoBridge::MulticastStartupQueryCount(1),
                InfoBridge::MulticastLastMemberInterval(10),
                InfoBridge::MulticastLastMemberCount(2),
            ]
        );
        assert!(timers.validate().is_ok());
        assert_eq!(SnoopingTimers::new().attributes(), []);
        assert!(SnoopingTimers::new().is_default());
    }

    /// What the kernel would raise, misread or refuse is refused here, naming the timer.
    #[test]
    fn timers_the_kernel_would_not_honour_are_refused_by_name() {
        let refused = |timers: SnoopingTimers| timers.validate().unwrap_err().to_string();
        assert_eq!(
            refused(SnoopingTimers::new().query_interval(MS(500))),
            "snooping timers: the query interval must be at least 1s, got 500ms"
        );
        assert_eq!(
            refused(SnoopingTimers::new().query_response_interval(MS(50))),
            "snooping timers: the query response interval must be at least 100ms, got 50ms"
        );
        assert_eq!(
            refused(SnoopingTimers::new().membership_interval(MS(305))),
            "snooping timers: the membership interval must be a whole number of 10 ms \
             (the kernel counts hundredths of a second), got 305ms"
        );
        assert_eq!(
            refused(SnoopingTimers::new().last_member_queries(0, MS(100))),
            "snooping timers: the last member count must be at least 1, got 0"
        );
    }

    #[test]
    fn timers_read_as_a_sentence() {
        let timers = SnoopingTimers::new()
            .membership_interval(Duration::from_millis(1500))
            .query_interval(Duration::from_secs(1))
            .startup_queries(1, Duration::from_secs(1));
        assert_eq!(
            timers.to_string(),
            "membership interval 1.5s, query interval 1s, 1 startup queries 1s apart"
        );
        assert_eq!(SnoopingTimers::new().to_string(), "kernel defaults");
    }
}
