//! The article's experiment in a sandbox: which send follows the group's route over `lo`.
//!
//! Each test builds a one-host LAN (default route `eth0`), adds the group's host route via
//! `lo` where the article does, and checks the library's verdicts against independent
//! witnesses from the harness: a listener joined on `lo` only and a capture on `eth0`.

use std::time::Duration;

use harness::{Direction, Group, Lan, Listen};
use loopback::group::{self, host_route, random_port};
use loopback::{Experiment, Fix, Outcome, SendMethod, Verdict};

const WAIT: Duration = Duration::from_secs(2);

/// A one-host LAN with `group`'s host route via `lo`, as the article's `run.sh` sets up
/// (its default route leaves through `eth0`); `None` where no sandbox can be built.
fn host_with_route(group: Group) -> Option<Lan> {
    let lan = harness::skip_unless_available(Lan::new(["host"]))?;
    lan.host("host")
        .add_route(&host_route(&group), "lo")
        .unwrap();
    Some(lan)
}

/// The article's group on a random port, and a host routing it via `lo`.
fn article_host() -> Option<(Group, Lan)> {
    let group = group::article(random_port()).unwrap();
    Some((group, host_with_route(group)?))
}

/// The article's main claim, half one: a datagram sent with sendto(2) follows the /32 route
/// and arrives on `lo`; a second listener of the harness, joined on `lo` only, agrees.
#[test]
fn sendto_follows_the_loopback_route() {
    let Some((group, lan)) = article_host() else {
        return;
    };
    let host = lan.host("host");
    let witness = host
        .listen_with(group, Listen::default().interface("lo"))
        .unwrap();

    let outcome = host.run(|| Experiment::article(group).run()).unwrap();

    let sendto = outcome.send(SendMethod::SendTo, Fix::None).unwrap();
    assert_eq!(
        sendto.verdict.interface().map(|i| i.name.as_str()),
        Some("lo"),
        "{outcome}"
    );
    assert!(
        matches!(sendto.verdict, Verdict::FollowedRoute { .. }),
        "{outcome}"
    );
    let seen = witness.expect(1).within(WAIT).unwrap();
    assert_eq!(
        (seen[0].text(), seen[0].interface.name.as_str()),
        ("sendto()".into(), "lo")
    );
}

/// The article's main claim, half two: the connect(2)ed socket's send(2) ignores the route
/// and leaves through the default interface. The harness's own capture sees it go out of
/// `eth0`, and its listener on `lo` never hears it.
#[test]
fn connected_send_leaks_to_default_interface() {
    let Some((group, lan)) = article_host() else {
        return;
    };
    let host = lan.host("host");
    let witness = host
        .listen_with(group, Listen::default().interface("lo"))
        .unwrap();
    let eth0 = host.capture("eth0").unwrap();

    let outcome = host.run(|| Experiment::article(group).run()).unwrap();

    let send = outcome
        .send(SendMethod::ConnectThenSend, Fix::None)
        .unwrap();
    assert!(
        matches!(&send.verdict, Verdict::LeftThrough { interface } if interface.name == "eth0"),
        "{outcome}"
    );
    // The connected socket took eth0's address as its source: the route lookup's doing.
    assert_eq!(send.local.ip(), host.ipv4());
    let frame = eth0
        .wait_for_udp(
            |u| u.payload == b"send()" && u.destination == group.socket_addr(),
            WAIT,
        )
        .unwrap();
    assert_eq!(frame.source.ip(), host.ipv4());
    let outgoing = eth0.frames().iter().any(|f| {
        f.direction == Direction::Outgoing && f.udp().is_some_and(|u| u.payload == b"send()")
    });
    assert!(outgoing, "send() should cross eth0 outgoing");
    let heard: Vec<String> = witness.received().iter().map(|d| d.text()).collect();
    assert!(!heard.contains(&"send()".to_string()), "lo heard {heard:?}");
}

/// Without the article's /32 route both sends take the default route: the route is what
/// makes sendto(2) use `lo`, so the verdicts above are about routing, not about sendto.
#[test]
fn without_the_route_both_sends_leave_through_eth0() {
    let group = group::article(random_port()).unwrap();
    let lan = harness::or_skip!(Lan::new(["host"]));
    let host = lan.host("host");

    let outcome = host.run(|| Experiment::article(group).run()).unwrap();

    for send in &outcome.sends {
        assert!(
            matches!(&send.verdict, Verdict::LeftThrough { interface } if interface.name == "eth0"),
            "{outcome}"
        );
    }
    assert!(outcome.heard.is_empty(), "{outcome}");
}

/// Runs the article's two sends with `fix` in `host` and checks that both followed the route
/// to `lo`.
fn both_sends_with_fix(host: &harness::Host, group: Group, fix: Fix) -> Outcome {
    let outcome = host
        .run(|| Experiment::article(group).with_fixes([fix]).run())
        .unwrap();
    for send in &outcome.sends {
        assert!(
            matches!(&send.verdict, Verdict::FollowedRoute { interface } if interface.name == "lo"),
            "{outcome}"
        );
    }
    outcome
}

/// The first fix: `IP_MULTICAST_IF` set to 127.0.0.1 names `lo` before connect(2) looks the
/// route up, so the connected send arrives on `lo` too, with 127.0.0.1 as its source.
#[test]
fn multicast_if_keeps_connected_send_on_loopback() {
    let Some((group, lan)) = article_host() else {
        return;
    };
    let host = lan.host("host");
    let eth0 = host.capture("eth0").unwrap();

    let outcome = both_sends_with_fix(host, group, Fix::MulticastIf);
    let connected = outcome
        .send(SendMethod::ConnectThenSend, Fix::MulticastIf)
        .unwrap();
    assert_eq!(connected.local.ip().to_string(), "127.0.0.1");
    let heard = outcome
        .heard
        .iter()
        .find(|a| a.payload == connected.payload.as_bytes())
        .unwrap();
    assert_eq!(heard.source, connected.local);
    assert!(
        eth0.udp()
            .iter()
            .all(|u| u.destination.port() != group.port()),
        "eth0 saw it"
    );
}

/// The second fix: `SO_BINDTODEVICE` to `lo` ties every packet of the socket to `lo`; the
/// connected send arrives there even though its source address is still eth0's.
#[test]
fn bind_to_device_keeps_connected_send_on_loopback() {
    let Some((group, lan)) = article_host() else {
        return;
    };
    let host = lan.host("host");

    let outcome = both_sends_with_fix(host, group, Fix::BindToDevice);
    let connected = outcome
        .send(SendMethod::ConnectThenSend, Fix::BindToDevice)
        .unwrap();
    assert_eq!(connected.local.ip(), host.ipv4());
}

/// IPv6 does not do the article's trick at all on this kernel. The local routing table, read
/// first, holds `multicast ff00::/8` for every interface, so a /128 route via `lo` in the main
/// table is never consulted and both unpinned sends leave through `eth0`. Pinned to `lo`
/// (either fix), the send succeeds but the kernel drops the datagram, counting it in
/// `Ip6OutNoRoutes`: it treats a route through `lo` as a reject route (without the route,
/// the send would fail with ENETUNREACH instead). The listener on `lo` hears nothing.
#[test]
fn ipv6_route_via_loopback_is_not_followed() {
    let group = group::ipv6_trial(random_port()).unwrap();
    let Some(lan) = host_with_route(group) else {
        return;
    };
    let host = lan.host("host");

    let outcome = host
        .run(|| Experiment::article(group).with_fixes(Fix::ALL).run())
        .unwrap();

    for send in &outcome.sends {
        let expected = match send.fix {
            Fix::None => {
                matches!(&send.verdict, Verdict::LeftThrough { interface } if interface.name == "eth0")
            }
            Fix::MulticastIf | Fix::BindToDevice => send.verdict == Verdict::DroppedNoRoute,
        };
        assert!(
            expected,
            "{:?} {:?}: {}\n{outcome}",
            send.method, send.fix, send.verdict
        );
    }
    assert!(outcome.heard.is_empty(), "{outcome}");
}
