//! The Rust diary on the tour: its listener test over IPv4 and IPv6, fixed and as written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use harness::Lan;
use mcast_vocab::Interface;
use rust_diary::diary::{CLIENT_MESSAGE, NotifyServer};
use rust_diary::{GROUP_V4, ListenOptions, Responder, ask, group_v6};

use super::{Chapter, DEADLINE, Spec, Verdict, verdict, who};

/// This section's title and the book's chapter it belongs to.
pub const SECTION: (&str, &str) = ("A Rust diary: one test for IPv4 and IPv6", "rust-diary.md");

/// The claims this part checks, as the appendix states them.
pub const CLAIMS: &[Spec] = &[
    Spec {
        article: "diary",
        text: "the diary's IPv6 listener binds [ff02::123]:7645",
        test: "rust-diary/tests/suite/diary.rs::diary_ipv6_listener_cannot_bind_a_link_local_group_without_a_scope",
        expected: Verdict::Wrong,
    },
    Spec {
        article: "diary",
        text: "NotifyServer(..) as a statement stops the server at the end of the test",
        test: "rust-diary/src/diary.rs::a_guard_that_is_not_bound_sets_the_flag_at_once",
        expected: Verdict::Wrong,
    },
];

/// Runs the diary's round trip (listener answers with its name) across the LAN, over IPv4
/// and over IPv6 with the interface resolved by name, then tries the diary's own IPv6 join.
pub fn tour(lan: &Lan) -> Result<Chapter, String> {
    let mut chapter = Chapter::new(SECTION);
    let (a, b) = (lan.host("a"), lan.host("b"));

    for (name, group) in [("ipv4", GROUP_V4), ("ipv6", group_v6())] {
        let responder = b
            .run(|| -> Result<Responder, String> {
                let mut options = ListenOptions::default();
                if group.is_ipv6() {
                    options =
                        options.interface(Interface::named("eth0").map_err(|e| e.to_string())?);
                }
                Responder::start(name, &group, &options).map_err(|e| e.to_string())
            })
            .map_err(|e| format!("listener on b for {group}: {e}"))?;
        let reply = a
            .run(|| -> Result<rust_diary::Reply, String> {
                let eth0 = Interface::named("eth0").map_err(|e| e.to_string())?;
                let via = group.is_ipv6().then_some(&eth0);
                ask(&group, via, CLIENT_MESSAGE, DEADLINE).map_err(|e| e.to_string())
            })
            .map_err(|e| format!("asking {group} from a: {e}"))?;
        let heard = responder.stop().map_err(|e| e.to_string())?;
        chapter.say(format!(
            "{} asked {group} {:?}; {} heard {} datagram(s) and answered {:?}, which came back from {}",
            who(a),
            String::from_utf8_lossy(CLIENT_MESSAGE),
            who(b),
            heard.len(),
            reply.text,
            reply.from
        ));
    }

    let as_written = b.run(|| rust_diary::diary::join_multicast(group_v6().socket_addr()));
    let observed = verdict(as_written.is_ok(), Verdict::Wrong);
    let evidence = match as_written {
        Ok(socket) => format!("bound {:?}", socket.local_addr()),
        Err(e) => format!("bind failed on b: {e}"),
    };
    chapter.check(&CLAIMS[0], observed, evidence);

    let flag = Arc::new(AtomicBool::new(false));
    // The diary's line, as it wrote it: the guard is never bound to a name.
    NotifyServer(Arc::clone(&flag));
    let stopped_at_once = flag.load(Ordering::Relaxed);
    chapter.check(
        &CLAIMS[1],
        verdict(!stopped_at_once, Verdict::Wrong),
        if stopped_at_once {
            "the stop flag was already set on the next line: the guard was dropped at once"
        } else {
            "the stop flag was still clear"
        },
    );
    Ok(chapter)
}
