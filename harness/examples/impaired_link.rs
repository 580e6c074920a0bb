//! Impaired links: what one host receives is degraded while another member of the same group,
//! on the same switch, gets everything at once. Three hosts: `a` sends to a group, `b` and `c`
//! are members; only b's link is impaired ([`Lan::impair`] acts on the switch's end of b's
//! cable, so it changes what b receives and nothing else).
//!
//! 1. **Rate.** b's link is limited to 1 Mbit/s (the kernel's `tbf`, which needs no `netem`).
//!    a sends 40 datagrams of 1000 bytes at once, then an end marker of the same size; it
//!    prints how many each of b and c received and when the end marker reached them, and the
//!    floor the rate implies for b: every byte but the token bucket's first 1600 waits its
//!    turn at 1 Mbit/s.
//! 2. **Loss** (needs the kernel's `netem`). 20% loss on b's link, 2000 datagrams: it prints
//!    b's count beside the range accepted (five standard deviations around 1600) and c's.
//!    On a kernel without netem it prints one line saying so instead, and the example still
//!    succeeds: that is the kernel, not the example.
//!
//! Why end markers rather than "wait for all 40": on a busy machine the kernel may drop a
//! frame on its way into a host, outside any impairment (each CPU's receive backlog,
//! `net.core.netdev_max_backlog`, is shared by every namespace, and another program's flood
//! can fill it). So each phase counts what arrived, allows a stray loss or two, and times
//! the marker a sent last: when it is in, the link has carried everything before it.
//!
//! Exits with status 1 and one `error:` line if b got the end marker sooner than the rate
//! allows, c was slowed, b's count in the loss phase is out of range, or a receiver lost
//! more than strays.
//!
//! Run it as: `cargo run -p harness --example impaired_link`

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use harness::{Error, Group, Impairment, Lan, Listen, Listener};

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
/// ... sent in batches of this many, each followed by a marker that c must get before the
/// next (so no socket buffer overflows) ...
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
    for k in 0..=COUNT {
        let mut payload = if k < COUNT {
            format!("rate {k} ").into_bytes()
        } else {
            b"end of rate".to_vec()
        };
        payload.resize(PAYLOAD, b'.');
        send(&payload)?;
    }
    // c first: nothing slows it, so it has them all long before b.
    let (c_got, c_took) = count_until(&on_c, "end of rate", "rate ", start)?;
    let (b_got, b_took) = count_until(&on_b, "end of rate", "rate ", start)?;
    // The end marker is a frame too: every byte of the 41 but the bucket's first
    // 1600 waits its turn at RATE before the marker is through.
    let bits = ((COUNT + 1) * FRAME - BUCKET) as f64 * 8.0;
    let floor = Duration::from_secs_f64(bits / RATE as f64);
    // ANCHOR_END: rate
    println!(
        "b's link limited to 1 Mbit/s; a sent {COUNT} datagrams of {PAYLOAD} bytes at once, \
         then an end marker"
    );
    println!(
        "b received {b_got} of {COUNT}, the end marker after {:.1} ms (the rate allows no less \
         than {:.1} ms)",
        millis(b_took),
        millis(floor)
    );
    println!(
        "c received {c_got} of {COUNT}, the end marker after {:.1} ms",
        millis(c_took)
    );
    if b_took < floor {
        return Err(format!(
            "b got the end marker after {b_took:?}, sooner than {RATE} bit/s allows ({floor:?})"
        ));
    }
    if c_took > floor / 2 {
        return Err(format!(
            "c got the end marker after {c_took:?}, half the floor or more: b's rate limit \
             slowed c too"
        ));
    }
    for (host, got) in [("b", b_got), ("c", c_got)] {
        if got + strays(COUNT) < COUNT {
            return Err(format!(
                "{host} received {got} of {COUNT}: a rate limit delays, it does not drop"
            ));
        }
    }
    lan.clear("b").map_err(|e| e.to_string())?;

    // ANCHOR: loss
    match lan.impair("b", &Impairment::new().loss(LOSS)) {
        Err(Error::Unavailable(_)) => {
            println!(
                "this kernel has no netem (CONFIG_NET_SCH_NETEM): loss and delay \
                 need it, a rate alone does not"
            );
            return Ok(());
        }
        other => other.map_err(|e| e.to_string())?,
    }
    let mut c_got = 0;
    for batch in 0..LOSS_COUNT / BATCH {
        for k in batch * BATCH..(batch + 1) * BATCH {
            send(format!("loss {k}").as_bytes())?;
        }
        // c is not impaired: once it has the marker, b's copies have left the
        // switch too.
        let marker = format!("end of batch {batch}");
        send(marker.as_bytes())?;
        c_got += count_until(&on_c, &marker, "loss ", start)?.0;
    }
    // Whatever b's link still holds goes through; then an end marker, without loss.
    lan.wait_until_drained("b").map_err(|e| e.to_string())?;
    lan.clear("b").map_err(|e| e.to_string())?;
    send(b"end of loss")?;
    let (b_got, _) = count_until(&on_b, "end of loss", "loss ", start)?;
    // ANCHOR_END: loss
    let (mean, deviation) = (
        LOSS_COUNT as f64 * (1.0 - LOSS),
        (LOSS_COUNT as f64 * LOSS * (1.0 - LOSS)).sqrt(),
    );
    let range = (mean - 5.0 * deviation).ceil() as usize..=(mean + 5.0 * deviation) as usize;
    println!(
        "{}% loss on b's link: b received {b_got} of {LOSS_COUNT} ({} to {} expected), \
         c {c_got}",
        LOSS * 100.0,
        range.start(),
        range.end()
    );
    if !range.contains(&b_got) {
        return Err(format!(
            "b received {b_got} of {LOSS_COUNT}, outside {} to {} for {}% loss",
            range.start(),
            range.end(),
            LOSS * 100.0
        ));
    }
    if c_got + strays(LOSS_COUNT) < LOSS_COUNT {
        return Err(format!(
            "c, not impaired, received only {c_got} of {LOSS_COUNT}"
        ));
    }
    Ok(())
}

/// Takes `listener`'s datagrams one by one until the one whose text is `marker`: how many of
/// them began with `prefix`, and how long after `start` the marker was taken.
fn count_until(
    listener: &Listener,
    marker: &str,
    prefix: &str,
    start: Instant,
) -> Result<(usize, Duration), String> {
    let mut count = 0;
    loop {
        let got = listener
            .expect(1)
            .within(DEADLINE)
            .map_err(|unmet| format!("waiting for {marker:?}: {}", summary(&unmet)))?;
        let text = got[0].text();
        if text.trim_end_matches('.') == marker {
            return Ok((count, start.elapsed()));
        }
        count += usize::from(text.starts_with(prefix));
    }
}

/// Datagrams out of `sent` that a busy machine may lose outside any impairment (see the
/// module docs): two, and one in a hundred.
fn strays(sent: usize) -> usize {
    2 + sent / 100
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The first line of an unmet expectation (what was expected and what came), for a one-line
/// `error:`; the rest of it lists every datagram and the host's state, for a test's failure.
fn summary(unmet: &harness::Unmet) -> String {
    unmet
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
