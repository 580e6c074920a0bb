//! The Ruby article on the tour: `send` to all hosts, receivers everywhere, and a ping.

use std::net::Ipv4Addr;
use std::sync::mpsc;

use harness::Lan;
use ruby_port::{Client, Config, Event, Receiver, sanitize};

use super::{Chapter, DEADLINE, Spec, Verdict, verdict, who};

/// This section's title and the book's chapter it belongs to.
pub const SECTION: (&str, &str) = (
    "Ruby: send, receive and a chat without a server",
    "ruby-port.md",
);

/// The claims this part checks, as the appendix states them.
pub const CLAIMS: &[Spec] = &[
    Spec {
        article: "Ruby",
        text: "a datagram to 224.0.0.1 reaches every member host of the segment",
        test: "ruby-port/tests/suite/send_receive.rs::send_on_one_host_reaches_receive_on_another",
        expected: Verdict::Holds,
    },
    Spec {
        article: "Ruby",
        text: "the sender hears its own datagram",
        test: "docs/tests/kernel/claims.rs::sender_hears_itself_unless_multicast_loop_is_off",
        expected: Verdict::Holds,
    },
    Spec {
        article: "Ruby",
        text: "two receivers share the port with address reuse, each gets a copy",
        test: "docs/tests/kernel/claims.rs::receivers_share_a_port_only_with_reuse_and_each_gets_every_datagram",
        expected: Verdict::Holds,
    },
    Spec {
        article: "Ruby",
        text: "ping 224.0.0.1 is answered by every member with the same sequence number",
        test: "ruby-port/tests/suite/ping.rs::ping_to_a_group_is_answered_by_every_host_only_when_linux_allows_it",
        expected: Verdict::Partly,
    },
];

/// Runs the Ruby article's `send` and `receive` on the LAN and pings the all-hosts group.
pub fn tour(lan: &Lan) -> Result<Chapter, String> {
    let mut chapter = Chapter::new(SECTION);
    let config = Config::send_receive();
    let (a, b, c) = (lan.host("a"), lan.host("b"), lan.host("c"));

    // Receivers first: each is joined and bound when `join` returns.
    let mut receivers = Vec::new();
    for (host, copies) in [(a, 1), (b, 1), (c, 2)] {
        for _ in 0..copies {
            let receiver = host
                .run(|| Receiver::join(&config))
                .map_err(|e| format!("receive on {}: {e}", host.name()))?;
            receiver
                .set_timeout(Some(DEADLINE))
                .map_err(|e| e.to_string())?;
            receivers.push((host, receiver));
        }
    }
    chapter.say(format!(
        "receive runs on a, b and twice on c: each joined {} with SO_REUSEADDR and SO_REUSEPORT",
        config.group()
    ));

    let text = "hello from a";
    a.run(|| ruby_port::send(&config, text.as_bytes()))
        .map_err(|e| format!("send on a: {e}"))?;
    chapter.say(format!(
        "a sent {text:?} to {} with TTL {}",
        config.group(),
        config.ttl()
    ));

    let mut heard = Vec::new();
    for (host, receiver) in &receivers {
        // Inside the host: the arrival interface's index is turned into a name there.
        match host.run(|| receiver.recv()) {
            Ok(datagram) if datagram.payload == text.as_bytes() => {
                let on = datagram
                    .interface
                    .as_ref()
                    .map_or_else(|| "?".to_string(), ToString::to_string);
                chapter.say(format!(
                    "{} heard {text:?} from {} on {on}",
                    who(host),
                    datagram.source
                ));
                heard.push(host.name().to_owned());
            }
            Ok(other) => chapter.say(format!(
                "{} heard something else: {:?}",
                who(host),
                other.text()
            )),
            Err(e) => chapter.say(format!("{} heard nothing: {e}", who(host))),
        }
    }
    let count = |name: &str| heard.iter().filter(|h| *h == name).count();

    let others = count("b") == 1 && count("c") >= 1;
    chapter.check(
        &CLAIMS[0],
        verdict(others, Verdict::Wrong),
        format!(
            "b heard it {} time(s), c {} time(s)",
            count("b"),
            count("c")
        ),
    );
    chapter.check(
        &CLAIMS[1],
        verdict(count("a") == 1, Verdict::Wrong),
        format!("a's own receiver heard it {} time(s)", count("a")),
    );
    chapter.check(
        &CLAIMS[2],
        verdict(count("c") == 2, Verdict::Wrong),
        format!(
            "the two receivers on c heard it {} time(s) in all",
            count("c")
        ),
    );

    // ping: by default Linux ignores echo requests to a group; then allow them everywhere.
    // Every reply there is, known once each host has answered a unicast ping sent after it.
    let all_hosts = Ipv4Addr::new(224, 0, 0, 1);
    let hosts: Vec<Ipv4Addr> = lan.hosts().iter().map(|h| h.ipv4()).collect();
    let before = a
        .run(|| ruby_port::ping_group_among(all_hosts, 1, &hosts, DEADLINE))
        .map_err(|e| format!("ping on a: {e}"))?;
    chapter.say(format!(
        "a pinged {all_hosts}: {} replies (net.ipv4.icmp_echo_ignore_broadcasts is 1 by default)",
        before.len()
    ));
    for host in lan.hosts() {
        host.run(|| std::fs::write("/proc/sys/net/ipv4/icmp_echo_ignore_broadcasts", "0"))
            .map_err(|e| format!("allowing group pings on {}: {e}", host.name()))?;
    }
    let mut after = a
        .run(|| ruby_port::ping_group_among(all_hosts, 2, &hosts, DEADLINE))
        .map_err(|e| format!("ping on a: {e}"))?;
    after.sort();
    let from: Vec<String> = after.iter().map(|r| r.from.to_string()).collect();
    let sequences: Vec<u16> = after.iter().map(|r| r.sequence).collect();
    chapter.say(format!(
        "with the setting at 0 on every host: replies from {} with sequence numbers {sequences:?}",
        from.join(", ")
    ));
    let every_host = after.len() == lan.hosts().len() && sequences.iter().all(|&s| s == 2);
    let observed = match (before.is_empty(), every_host) {
        (true, true) => Verdict::Partly,
        (false, true) => Verdict::Holds,
        _ => Verdict::Wrong,
    };
    chapter.check(
        &CLAIMS[3],
        observed,
        format!(
            "{} replies by default, {} after icmp_echo_ignore_broadcasts=0",
            before.len(),
            after.len()
        ),
    );

    chat(lan, &mut chapter)?;
    Ok(chapter)
}

/// The chat, as `chat --plain` runs it: alice on a and bob on b join the backchannel group;
/// alice says one line, bob's client hands it on with the source its kernel saw.
fn chat(lan: &Lan, chapter: &mut Chapter) -> Result<(), String> {
    let config = Config::backchannel();
    let join = |host: &str, handle: &str| {
        lan.host(host)
            .run(|| Client::new(handle, &config))
            .map_err(|e| format!("{handle} joining on {host}: {e}"))
    };
    let alice = join("a", "alice")?;
    let bob = join("b", "bob")?;
    let (heard, arrived) = mpsc::channel();
    bob.add_listener(move |event| {
        if let Event::Message { message, source } = event {
            let _ = heard.send((sanitize(&message.handle), message.content.clone(), *source));
        }
    });
    let line = "hi bob, no server needed";
    alice
        .transmit(line)
        .map_err(|e| format!("alice sending: {e}"))?;
    chapter.say(format!(
        "alice (a) and bob (b) joined the chat group {}; alice said {line:?}",
        config.group()
    ));
    match arrived.recv_timeout(DEADLINE) {
        Ok((handle, content, source)) => chapter.say(format!(
            "bob (b) got <{handle}> {content:?} from {source}: the handle is what the datagram \
             claims, the source what b's kernel saw"
        )),
        Err(_) => chapter.say(format!("bob (b) got nothing within {DEADLINE:?}")),
    }
    Ok(())
}
