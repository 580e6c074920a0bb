//! The flood the tests and `examples/ruby_flood_figures.rs` send: `harness::flood`'s
//! hostile mix, whose valid datagrams are chat messages of about 900 bytes.

use harness::Host;
use harness::flood::{self, Flood};
use ruby_port::{ClientId, Message};

/// A valid flood message as a real peer writes it: about 900 bytes of JSON,
/// the size of the messages in issue 11's report.
///
/// It is [`Message::to_json`]'s output (`tests/suite/flood.rs`,
/// `flood_messages_are_the_crates_own_json`, checks every kind), made from a template per handle: in the unoptimised
/// test build, serialising 100,000 messages afresh took 9 of the flood's 10
/// seconds. The flood's texts are printable ASCII without quotes or
/// backslashes, so they go into the template as they are, except
/// [`flood::ESCAPES`], which needs JSON escapes and is serialised once.
pub(crate) fn chat_message(n: u64, text: &str) -> Vec<u8> {
    const HOLE: &str = "@@TEXT@@";
    thread_local! {
        static TEMPLATES: Vec<(String, String, Vec<u8>)> = (0..7)
            .map(|k| {
                let json = slow_chat_message(k, HOLE);
                let json = String::from_utf8(json).expect("JSON is UTF-8");
                let (before, after) = json.split_once(HOLE).expect("the hole is in the JSON");
                (before.to_string(), after.to_string(), slow_chat_message(k, flood::ESCAPES))
            })
            .collect();
    }
    TEMPLATES.with(|templates| {
        let (before, after, escapes) = &templates[(n % 7) as usize];
        if text == flood::ESCAPES {
            escapes.clone()
        } else {
            [before.as_bytes(), text.as_bytes(), after.as_bytes()].concat()
        }
    })
}

/// [`chat_message`] the straightforward way.
pub(crate) fn slow_chat_message(n: u64, text: &str) -> Vec<u8> {
    Message::new(
        ClientId::from("f100dde5f1"),
        format!("flooder{}", n % 7),
        format!("{text} {}", "-".repeat(820)),
    )
    .to_json()
    .into_bytes()
}

/// A flood of `count` datagrams whose valid ones are [`chat_message`]s and
/// whose oversized ones are 2 KiB: twice what a peer reads, and cheap enough
/// to make 20,000 of in an unoptimised build.
pub(crate) fn hostile(count: u64) -> Flood<fn(u64, &str) -> Vec<u8>> {
    Flood::new(count, chat_message as fn(u64, &str) -> Vec<u8>).oversized(2048)
}

// ---- Shared by the flood suites (`tests/suite/flood.rs`, `tests/flood_window.rs`) ----

/// Datagrams per flood.
pub(crate) const FLOOD: u64 = 100_000;

/// What the test's own messages start with; the output watcher keeps only
/// lines that contain it.
pub(crate) const MARK: &str = "mark:";

/// The message sent before a flood, to see the program ready.
pub(crate) const READY: &str = "mark: ready";

/// The message sent after each flood, to show the program still works.
pub(crate) const AFTER: &str = "mark: still here after the flood";

/// The most resident memory a program may reach during a flood: twice what it
/// used idle, plus 8 MiB of slack (allocator arenas, the 64 KiB read buffer,
/// a terminal frame). Before the fixes `chat` grew by about 36 bytes of
/// memory per byte of valid message it ever received.
pub(crate) fn memory_bound(idle_kib: u64) -> u64 {
    2 * idle_kib + 8 * 1024
}

/// Asserts that the peak resident memory `after` a flood stayed within [`memory_bound`] of
/// the `idle` figure.
pub(crate) fn assert_within_memory_bound(idle: flood::Memory, after: flood::Memory) {
    let bound = memory_bound(idle.resident_kib);
    assert!(
        after.peak_kib <= bound,
        "peak resident memory {} KiB, over the bound {bound} KiB (2 x idle {} KiB + 8 MiB)",
        after.peak_kib,
        idle.resident_kib
    );
}

pub(crate) fn send_message(host: &Host, group: harness::Group, text: &str) {
    let message = Message::new(ClientId::from("0a0b0c0d0e"), "friend", text);
    let config = ruby_port::Config::new(group, None).unwrap();
    host.run(|| ruby_port::send(&config, message.to_json().as_bytes()))
        .unwrap();
}

/// Resident memory of `pid` in KiB, now and at its peak.
pub(crate) fn memory(pid: u32) -> flood::Memory {
    flood::memory(pid).unwrap_or_else(|e| panic!("reading the memory of {pid}: {e}"))
}
