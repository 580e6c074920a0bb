//! The kernel's reason for each verdict, as the demo prints it after each trial.
//!
//! A reason belongs to what was observed, not to what was expected: where a kernel behaves
//! otherwise than Linux 6.18 did, the demo says what that means instead of repeating the
//! article.

use crate::experiment::{Outcome, SendReport, Verdict};
use crate::send::{Fix, SendMethod};

const CONNECT_LEFT: &str = "connect() picked eth0's address as the source, and a multicast \
route lookup with a source address uses that address's interface";
const CONNECT_FOLLOWED: &str = "connect()+send() followed the route too: the source address \
connect() picked did not select another interface";
const SENDTO_LEFT: &str = "sendto() ignored the route too: is the group's host route via lo \
in place?";
const FIX_HELD: &str = "both options name lo before the route lookup, so nothing is guessed";
const FIX_FAILED: &str = "an option that names lo did not keep the datagram on lo";
const IPV6_LOCAL_TABLE: &str = "IPv6 reads the local table first, where `multicast ff00::/8 \
dev eth0` matches, so the /128 via lo is never used";
const IPV6_FOLLOWED: &str = "the /128 via lo was followed: this kernel delivers IPv6 \
multicast over lo";
const REJECT_ROUTE_V6: &str = "pinned to lo, the kernel treats a route through lo as a reject \
route and drops the datagram (Ip6OutNoRoutes)";
const REJECT_ROUTE_V4: &str = "pinned to lo, the kernel found no usable route and dropped \
the datagram (OutNoRoutes)";
const UNSEEN: &str = "neither the listener nor the capture saw it in time (try a longer \
--patience-ms)";

/// The reason for one send's verdict; `None` where the verdict needs none (an IPv4
/// sendto(2) following the route, as routes are meant to be followed).
pub fn reason(send: &SendReport, ipv6: bool) -> Option<&'static str> {
    let fixed = send.fix != Fix::None;
    let connected = send.method == SendMethod::ConnectThenSend;
    Some(match (&send.verdict, ipv6, fixed) {
        (Verdict::FollowedRoute { .. }, _, true) => FIX_HELD,
        (Verdict::FollowedRoute { .. }, true, false) => IPV6_FOLLOWED,
        (Verdict::FollowedRoute { .. }, false, false) if connected => CONNECT_FOLLOWED,
        (Verdict::FollowedRoute { .. }, false, false) => return None,
        (Verdict::LeftThrough { .. }, _, true) => FIX_FAILED,
        (Verdict::LeftThrough { .. }, true, false) => IPV6_LOCAL_TABLE,
        (Verdict::LeftThrough { .. }, false, false) if connected => CONNECT_LEFT,
        (Verdict::LeftThrough { .. }, false, false) => SENDTO_LEFT,
        (Verdict::DroppedNoRoute, true, _) => REJECT_ROUTE_V6,
        (Verdict::DroppedNoRoute, false, _) => REJECT_ROUTE_V4,
        (Verdict::Unseen, ..) => UNSEEN,
    })
}

/// The reasons for every send of `outcome`, each once, in the order first met, joined
/// with `; `; empty when no verdict needs one.
pub fn reasons(outcome: &Outcome) -> String {
    let ipv6 = outcome.group.is_ipv6();
    let mut reasons: Vec<&str> = Vec::new();
    for reason in outcome.sends.iter().filter_map(|send| reason(send, ipv6)) {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    reasons.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcast_vocab::Interface;

    fn report(method: SendMethod, fix: Fix, verdict: Verdict) -> SendReport {
        SendReport {
            method,
            fix,
            payload: method.payload().into(),
            local: "10.0.0.1:4000".parse().unwrap(),
            verdict,
        }
    }

    fn on(name: &str) -> Interface {
        Interface {
            index: 2,
            name: name.into(),
        }
    }

    /// The article's result gets the article's reason; the same sends with another result
    /// get another reason, so the demo never explains what did not happen.
    #[test]
    fn the_reason_follows_the_observed_verdict() {
        let leaked = report(
            SendMethod::ConnectThenSend,
            Fix::None,
            Verdict::LeftThrough {
                interface: on("eth0"),
            },
        );
        assert_eq!(reason(&leaked, false), Some(CONNECT_LEFT));
        let stayed = report(
            SendMethod::ConnectThenSend,
            Fix::None,
            Verdict::FollowedRoute {
                interface: on("lo"),
            },
        );
        assert_eq!(reason(&stayed, false), Some(CONNECT_FOLLOWED));
        let sendto = report(
            SendMethod::SendTo,
            Fix::None,
            Verdict::FollowedRoute {
                interface: on("lo"),
            },
        );
        assert_eq!(reason(&sendto, false), None);
        let dropped = report(
            SendMethod::SendTo,
            Fix::MulticastIf,
            Verdict::DroppedNoRoute,
        );
        assert_eq!(reason(&dropped, true), Some(REJECT_ROUTE_V6));
        let unseen = report(SendMethod::SendTo, Fix::BindToDevice, Verdict::Unseen);
        assert_eq!(reason(&unseen, false), Some(UNSEEN));
    }
}
