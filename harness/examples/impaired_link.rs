//! Impaired links: what one host receives is degraded while another member of the same group,
//! on the same switch, gets everything at once. Three hosts: `a` sends to a group, `b` and `c`
//! are members; only b's link is impaired ([`Lan::impair`] acts on the switch's end of b's
//! cable, so it changes what b receives and nothing else).
//!
//! 1. **Rate.** b's link is limited to 1 Mbit/s (the kernel's `tbf`, which needs no `netem`).
//!    a sends 40 datagrams of 1000 bytes at once; it prints how long b and c took to receive
//!    them all, and the floor the rate implies for b: every byte but the token bucket's first
//!    1600 waits its turn at 1 Mbit/s.
//! 2. **Loss** (needs the kernel's `netem`). 20% loss on b's link, 2000 datagrams: it prints
//!    b's count beside the range accepted (five standard deviations around 1600) and c's,
//!    which must be all of them. On a kernel without netem it prints one line saying so
//!    instead, and the example still succeeds: that is the kernel, not the example.
//!
//! Exits with status 1 and one `error:` line if b received the stream faster than the rate
//! allows, c was slowed, c missed a datagram, or b's count is out of range.
//!
//! Run it as: `cargo run -p harness --example impaired_link`

use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use harness::{Error, Group, Impairment, Lan, Listen};

/// Bounds every wait; only a failure takes this long.
const DEADLINE: Duration = Duration::from_secs(10);
/// The rate limit on b's link, in bits per second.
const RATE: u64 = 1_000_000;
/// The rate phase's stream: this many datagrams...
const COUNT: usize = 40;
/// ... of this many bytes of payload.
const PAYLOAD: usize = 1000;
/// What `Impairment::rate`'s token bucket lets through at once (one full-size frame).
const BUCKET: usize = 1600;
/// What each datagram of the rate phase is on the wire: Ethernet, IPv4 and UDP headers.
const FRAME: usize = 14 + 20 + 8 + PAYLOAD;
/// The loss phase: this many datagrams...
const LOSS_COUNT: usize = 2000;
/// ... sent in batches of this many (each waits until c has the one before) ...
const BATCH: usize = 50;
/// ... and this fraction of them lost on b's link.
const LOSS: f64 = 0.2;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let lan = Lan::new(["a", "b", "c"]).map_err(|e| format!("building the LAN: {e}"))?;
    let group = Group::parse("239.1.2.3:5000").expect("a multicast group");
    // Roomy receive buffers: a sends in bursts (all 40 of the rate phase at once).
    let listen = |host: &str| {
        lan.host(host)
            .listen_with(group, Listen::default().receive_buffer(1 << 20))
            .map_err(|e| e.to_string())
    };
    let (on_b, on_c) = (listen("b")?, listen("c")?);
    // A socket of host a, used from this thread: it stays in a's network.
    let sender = lan
        .host("a")
        .run(|| UdpSocket::bind("0.0.0.0:0"))
        .map_err(|e| format!("a socket in a: {e}"))?;
    let send = |payload: &[u8]| {
        sender
            .send_to(payload, group.socket_addr())
            .map_err(|e| format!("sending from a: {e}"))
    };
    println!(
        "a = {}, b = {}, c = {} on one switch, b and c members of {group}",
        lan.host("a").ipv4(),
        lan.host("b").ipv4(),
        lan.host("c").ipv4()
    );

    // ANCHOR: rate
    lan.impair("b", &Impairment::new().rate(RATE))
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    for k in 0..COUNT {
        let mut payload = format!("rate {k} ").into_bytes();
        payload.resize(PAYLOAD, b'.');
        send(&payload)?;
    }
    // c first: nothing slows it, so it has them all long before b.
    on_c.expect(COUNT)
        .within(DEADLINE)
        .map_err(|unmet| format!("c, not impaired, should get all {COUNT}:\n{unmet}"))?;
    let c_took = start.elapsed();
    on_b.expect(COUNT)
        .within(DEADLINE)
        .map_err(|unmet| format!("b, rate-limited, should get all {COUNT}:\n{unmet}"))?;
    let b_took = start.elapsed();
    // Every byte but the bucket's first 1600 waits its turn at RATE.
    let floor = Duration::from_secs_f64((COUNT * FRAME - BUCKET) as f64 * 8.0 / RATE as f64);
    // ANCHOR_END: rate
    println!("b's link limited to 1 Mbit/s; a sent {COUNT} datagrams of {PAYLOAD} bytes at once");
    println!(
        "b received all {COUNT} in {:.1} ms (the rate allows no less than {:.1} ms)",
        millis(b_took),
        millis(floor)
    );
    println!("c received all {COUNT} in {:.1} ms", millis(c_took));
    if b_took < floor {
        return Err(format!(
            "b got the stream in {b_took:?}, faster than {RATE} bit/s allows ({floor:?})"
        ));
    }
    if c_took > floor / 2 {
        return Err(format!(
            "c took {c_took:?}, half the floor or more: b's rate limit slowed c too"
        ));
    }
    lan.clear("b").map_err(|e| e.to_string())?;

    // ANCHOR: loss
    match lan.impair("b", &Impairment::new().loss(LOSS)) {
        Err(Error::Unavailable(_)) => {
            println!(
                "this kernel has no netem (CONFIG_NET_SCH_NETEM): loss and delay need it, \
                 a rate alone does not"
            );
            return Ok(());
        }
        other => other.map_err(|e| e.to_string())?,
    }
    for k in 0..LOSS_COUNT {
        send(format!("loss {k}").as_bytes())?;
        // c is unimpaired: once it has the batch, b's copies have left the switch too.
        if (k + 1) % BATCH == 0 {
            on_c.expect(BATCH)
                .within(DEADLINE)
                .map_err(|u| u.to_string())?;
        }
    }
    // Whatever b's link still holds goes through, then an end marker without loss.
    lan.wait_until_drained("b").map_err(|e| e.to_string())?;
    lan.clear("b").map_err(|e| e.to_string())?;
    send(b"end")?;
    let mut b_count = 0;
    while on_b.expect(1).within(DEADLINE).map_err(|u| u.to_string())?[0].text() != "end" {
        b_count += 1;
    }
    // ANCHOR_END: loss
    let (mean, deviation) = (
        LOSS_COUNT as f64 * (1.0 - LOSS),
        (LOSS_COUNT as f64 * LOSS * (1.0 - LOSS)).sqrt(),
    );
    let range = (mean - 5.0 * deviation).ceil() as usize..=(mean + 5.0 * deviation) as usize;
    println!(
        "{}% loss on b's link: b received {b_count} of {LOSS_COUNT} ({} to {} expected), \
         c all {LOSS_COUNT}",
        LOSS * 100.0,
        range.start(),
        range.end()
    );
    if !range.contains(&b_count) {
        return Err(format!(
            "b received {b_count} of {LOSS_COUNT}, outside {} to {} for {}% loss",
            range.start(),
            range.end(),
            LOSS * 100.0
        ));
    }
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
