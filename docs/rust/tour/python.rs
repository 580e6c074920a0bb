//! The Python article on the tour: the sender on a, receivers on a and b, acks counted.

use std::net::{IpAddr, Ipv4Addr};

use harness::{Host, Lan};
use mcast_vocab::{Group, Ttl};
use python_echo::{DEFAULT_GROUP, Receiver, ReceiverConfig, SenderConfig};

use super::{Chapter, Spec, Verdict, verdict, who};

/// This section's title and the book's chapter it belongs to.
pub const SECTION: (&str, &str) = (
    "Python: a sender that counts acknowledgements",
    "python-echo.md",
);

/// The claims this part checks, as the appendix states them.
pub const CLAIMS: &[Spec] = &[
    Spec {
        article: "Python",
        text: "the sender gets one acknowledgement per receiving host, then times out",
        test: "python-echo/tests/suite/article_example.rs::two_receivers_each_acknowledge_once",
        expected: Verdict::Holds,
    },
    Spec {
        article: "Python",
        text: "TTL 1 stays on the segment, a larger TTL crosses a multicast router",
        test: "docs/tests/kernel/claims.rs::ttl_1_stays_on_the_segment_while_ttl_2_crosses_a_multicast_router",
        expected: Verdict::Holds,
    },
    Spec {
        article: "Python",
        text: "multicast groups end at 230.255.255.255",
        test: "docs/tests/kernel/claims.rs::multicast_range_ends_at_239_255_255_255_not_230",
        expected: Verdict::Wrong,
    },
];

/// Starts a receiver on `host` that handles `count` datagrams, serving on a thread;
/// returns the thread, which yields what the receiver printed.
fn start_receiver(
    host: &Host,
    config: ReceiverConfig,
) -> Result<std::thread::JoinHandle<String>, String> {
    let receiver = host
        .run(|| Receiver::bind(config))
        .map_err(|e| format!("receiver on {}: {e}", host.name()))?;
    Ok(std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Err(e) = receiver.serve(&mut out) {
            out.extend_from_slice(format!("error: {e}\n").as_bytes());
        }
        String::from_utf8_lossy(&out).into_owned()
    }))
}

/// The first `received ...` line a receiver printed, for narration.
fn first_received(output: &str) -> &str {
    output
        .lines()
        .find(|l| l.starts_with("received"))
        .unwrap_or("(nothing received)")
}

/// Runs one exchange: receivers on `receivers`, the sender on `sender`; returns the
/// hosts that acknowledged, in the order the sender printed them.
fn exchange(
    chapter: &mut Chapter,
    sender: &Host,
    receivers: &[&Host],
    group: Group,
) -> Result<Vec<IpAddr>, String> {
    let receiving = ReceiverConfig {
        group,
        count: Some(1),
        idle: Some(super::DEADLINE),
        ..ReceiverConfig::default()
    };
    let threads = receivers
        .iter()
        .map(|host| start_receiver(host, receiving.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let sending = SenderConfig {
        group,
        ..SenderConfig::default()
    };
    let hosts = send_and_print(chapter, sender, &sending)?;
    for (host, thread) in receivers.iter().zip(threads) {
        let output = thread.join().map_err(|_| "a receiver thread panicked")?;
        chapter.say(format!(
            "{}'s receiver: {}",
            who(host),
            first_received(&output)
        ));
    }
    Ok(hosts)
}

/// Runs the sender on `sender`, narrating what it printed; returns who acknowledged.
fn send_and_print(
    chapter: &mut Chapter,
    sender: &Host,
    sending: &SenderConfig,
) -> Result<Vec<IpAddr>, String> {
    let mut printed = Vec::new();
    let report = sender
        .run(|| python_echo::send(sending, &mut printed))
        .map_err(|e| format!("sender on {}: {e}", sender.name()))?;
    chapter.say(format!(
        "{} ran the sender to {}; it printed:",
        who(sender),
        sending.destination()
    ));
    for line in String::from_utf8_lossy(&printed).lines() {
        chapter.say(format!("  | {line}"));
    }
    Ok(report.hosts().to_vec())
}

/// Runs the Python article's example on the LAN, then the same to a group above 230/8.
pub fn tour(lan: &Lan) -> Result<Chapter, String> {
    let mut chapter = Chapter::new(SECTION);
    let (a, b) = (lan.host("a"), lan.host("b"));

    let hosts = exchange(&mut chapter, a, &[a, b], DEFAULT_GROUP)?;
    let mut sorted = hosts.clone();
    sorted.sort();
    let both = sorted == [IpAddr::V4(a.ipv4()), IpAddr::V4(b.ipv4())];
    chapter.check(
        &CLAIMS[0],
        verdict(both, Verdict::Wrong),
        format!("acknowledged by {hosts:?}"),
    );

    ttl_across_a_router(&mut chapter)?;

    let above = Group::new(
        Ipv4Addr::new(239, 255, 255, 250).into(),
        DEFAULT_GROUP.port(),
    )
    .map_err(|e| e.to_string())?;
    let hosts = exchange(&mut chapter, a, &[b], above)?;
    let delivered = hosts == [IpAddr::V4(b.ipv4())];
    chapter.check(
        &CLAIMS[2],
        verdict(!delivered, Verdict::Wrong),
        format!("239.255.255.250 was joined and acknowledged by {hosts:?}"),
    );
    Ok(chapter)
}

/// The article's TTL explanation on two segments joined by a multicast router: one receiver
/// on the far segment, the sender sends with TTL 1, then with TTL 2. Where the kernel has no
/// multicast routing the router cannot be built: the claim is recorded as not checked, with
/// the reason, and the chapter goes on (its LAN claims never need the router).
fn ttl_across_a_router(chapter: &mut Chapter) -> Result<(), String> {
    let IpAddr::V4(group) = DEFAULT_GROUP.ip() else {
        return Err("the article's group is IPv4".into());
    };
    let routed = harness::Routed::new(["a1"], ["b1"]).and_then(|net| {
        net.forward(net.host("a1").ipv4(), group)?;
        Ok(net)
    });
    let Some(net) = chapter
        .needs(&CLAIMS[1], routed)
        .map_err(|e| format!("routed topology: {e}"))?
    else {
        return Ok(());
    };
    let (a1, b1) = (net.host("a1"), net.host("b1"));
    let receiving = ReceiverConfig {
        count: Some(1),
        idle: Some(super::DEADLINE),
        ..ReceiverConfig::default()
    };
    let receiver = start_receiver(b1, receiving)?;
    let mut acks = Vec::new();
    for ttl in [1, 2] {
        let sending = SenderConfig {
            ttl: Ttl(ttl),
            ..SenderConfig::default()
        };
        let report = a1
            .run(|| python_echo::send(&sending, &mut std::io::sink()))
            .map_err(|e| format!("sender on a1: {e}"))?;
        acks.push(report.hosts().to_vec());
    }
    receiver
        .join()
        .map_err(|_| "the receiver thread panicked")?;
    let holds = acks[0].is_empty() && acks[1] == [IpAddr::V4(b1.ipv4())];
    chapter.check(
        &CLAIMS[1],
        verdict(holds, Verdict::Wrong),
        format!(
            "{} behind a router forwarding {group} from {}: TTL 1 acknowledged by {:?}, TTL 2 by {:?}",
            who(b1),
            who(a1),
            acks[0],
            acks[1]
        ),
    );
    Ok(())
}
