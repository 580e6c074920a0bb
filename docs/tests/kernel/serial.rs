//! The diary chapter's lesson on `serial_test`: two tests on one group and port in one
//! network namespace hear each other; `#[serial]` makes them take turns; a sandbox per test
//! lets them run at the same time without hearing each other.
//!
//! Each "diary test" here is the diary's IPv4 round trip, fixed (`rust_diary::Responder` and
//! `rust_diary::ask`): a responder on 224.0.0.123:7645 that answers with the test's name,
//! one `Hello from client!`, the first reply. The fixed listener sets `SO_REUSEADDR`, so a
//! second one on the same port binds too; the diary's own code (no reuse) would fail the
//! second bind with `EADDRINUSE` instead, and hang at its barrier.

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use harness::{Group, Sandbox};
use rust_diary::diary::CLIENT_MESSAGE;
use rust_diary::{ListenOptions, Responder, ask};
use serial_test::serial;

fn diary_group() -> Group {
    Group::parse("224.0.0.123:7645").expect("the diary's group")
}

/// One diary test in the current namespace: the reply the client got first, and how many
/// datagrams the responder heard.
fn diary_round_trip(name: &'static str) -> (String, usize) {
    let group = diary_group();
    let responder = Responder::start(name, &group, &ListenOptions::default()).expect("join");
    let reply = ask(&group, None, CLIENT_MESSAGE, Duration::from_secs(2)).expect("a reply");
    let heard = responder.stop().expect("the responder ran");
    (reply.text, heard.len())
}

/// Two diary tests running at the same time in one namespace: each responder is up before
/// either client speaks, so each client's hello reaches both responders and each client gets
/// two answers, its own test's and the other's (which may well come first).
#[test]
fn diary_tests_sharing_a_namespace_hear_each_other() {
    let sandbox = harness::or_skip!(Sandbox::new());
    let group = diary_group();
    let (both_listening, both_done) = (Barrier::new(2), Barrier::new(2));
    let answers: Vec<BTreeSet<String>> = std::thread::scope(|scope| {
        let tests: Vec<_> = ["ipv4-a", "ipv4-b"]
            .into_iter()
            .map(|name| {
                let (sandbox, both_listening, both_done) = (&sandbox, &both_listening, &both_done);
                scope.spawn(move || {
                    sandbox.run(|| {
                        let responder =
                            Responder::start(name, &group, &ListenOptions::default()).unwrap();
                        both_listening.wait();
                        let answers = answers_to_one_hello(&group);
                        // Keep answering until the other test has its answers too.
                        both_done.wait();
                        responder.stop().unwrap();
                        answers
                    })
                })
            })
            .collect();
        tests.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let both: BTreeSet<String> = ["ipv4-a".into(), "ipv4-b".into()].into();
    assert_eq!(answers, [both.clone(), both]);
}

/// Sends one hello to `group` and collects the distinct answers: until two have come, or two
/// seconds (which only bound a failure) have passed.
fn answers_to_one_hello(group: &Group) -> BTreeSet<String> {
    let socket = rust_diary::sender(group, None).unwrap();
    socket.send_to(CLIENT_MESSAGE, group.socket_addr()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut answers = BTreeSet::new();
    let mut buffer = [0u8; 64];
    while answers.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left)).unwrap();
        if let Ok((len, _)) = socket.recv_from(&mut buffer) {
            answers.insert(String::from_utf8_lossy(&buffer[..len]).into_owned());
        }
    }
    answers
}

lazy_static::lazy_static! {
    /// One namespace shared by the tests that take turns, as tests on a real host share it.
    static ref SHARED: Option<Sandbox> = harness::skip_unless_available(Sandbox::new());
}

/// With `#[serial]`, the two diary tests share one namespace and take turns: each hears
/// only its own client and gets its own answer.
#[test]
#[serial(diary_port)]
fn taking_turns_in_one_namespace_ipv4_a() {
    let Some(shared) = &*SHARED else { return };
    assert_eq!(
        shared.run(|| diary_round_trip("ipv4-a")),
        ("ipv4-a".into(), 1)
    );
}

/// The other half of the pair above.
#[test]
#[serial(diary_port)]
fn taking_turns_in_one_namespace_ipv4_b() {
    let Some(shared) = &*SHARED else { return };
    assert_eq!(
        shared.run(|| diary_round_trip("ipv4-b")),
        ("ipv4-b".into(), 1)
    );
}

/// With a sandbox each, the two diary tests run at the same time and still hear only
/// themselves: no `#[serial]` needed.
#[test]
fn a_sandbox_each_ipv4_a() {
    let sandbox = harness::or_skip!(Sandbox::new());
    assert_eq!(
        sandbox.run(|| diary_round_trip("ipv4-a")),
        ("ipv4-a".into(), 1)
    );
}

/// The other half of the pair above.
#[test]
fn a_sandbox_each_ipv4_b() {
    let sandbox = harness::or_skip!(Sandbox::new());
    assert_eq!(
        sandbox.run(|| diary_round_trip("ipv4-b")),
        ("ipv4-b".into(), 1)
    );
}
