//! A switch that snoops IGMP: hosts `a`, `b` and `c` behind a Linux bridge that is also the
//! segment's querier ([`Snooping::WithQuerier`]). `b` joins a group, the example waits until
//! the switch's own membership table lists b's port ([`Lan::wait_for_membership`]), `a` sends
//! a stream, and it prints where the stream went: `b`, the member, received all of it; `c`,
//! plugged into the same switch but not a member, saw none of it on its cable.
//!
//! "None" is shown without waiting for silence: `c` records its `eth0` ([`harness::Capture`],
//! as `tcpdump -i eth0` would), and after the stream `a` sends one marker to 224.0.0.99, a
//! link-local group that a snooping switch floods to every port. The switch forwards a's
//! frames to c's port in the order a sent them, so once c's capture holds the marker it would
//! already hold the stream, had the switch sent it there.
//!
//! Exits with status 1 and one `error:` line if any of that does not hold.
//!
//! Run it as: `cargo run -p harness --example snooping_switch`

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use harness::{Group, Lan, Snooping};

/// Datagrams in the stream.
const COUNT: usize = 20;
/// In 224.0.0.0/24: a snooping switch floods it to every port, members or not.
const MARKER: (Ipv4Addr, u16) = (Ipv4Addr::new(224, 0, 0, 99), 9);
/// Bounds every wait; only a failure takes this long.
const DEADLINE: Duration = Duration::from_secs(5);

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
    // ANCHOR: join
    // Returns once the switch filters: a group goes only to ports with a member.
    let lan = Lan::with_snooping(["a", "b", "c"], Snooping::WithQuerier)
        .map_err(|e| format!("building the LAN: {e}"))?;
    let group = Group::parse("239.1.2.3:5000").expect("a multicast group");
    let on_c_cable = lan.host("c").capture("eth0").map_err(|e| e.to_string())?;
    let on_b = lan.host("b").listen(group).map_err(|e| e.to_string())?;
    // b's kernel has sent its IGMP report; wait until the switch has learnt it.
    lan.wait_for_membership("b", group)
        .map_err(|e| e.to_string())?;
    // ANCHOR_END: join
    println!(
        "a switch that snoops IGMP and is the querier; a = {}, b = {}, c = {}",
        lan.host("a").ipv4(),
        lan.host("b").ipv4(),
        lan.host("c").ipv4()
    );
    let members: Vec<String> = lan
        .memberships()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|(_, ip)| *ip == group.ip())
        .map(|(host, _)| host)
        .collect();
    if members != ["b"] {
        return Err(format!(
            "the switch should list b alone as a member of {}, it lists {members:?}",
            group.ip()
        ));
    }
    println!(
        "b joined {group}; the switch lists {} on b's port only",
        group.ip()
    );

    // ANCHOR: stream
    let marker = "marker: every port gets this";
    lan.host("a")
        .run(|| {
            let socket = UdpSocket::bind("0.0.0.0:0")?;
            for k in 0..COUNT {
                let datagram = format!("stream {k}");
                socket.send_to(datagram.as_bytes(), group.socket_addr())?;
            }
            socket.send_to(marker.as_bytes(), SocketAddr::from(MARKER))
        })
        .map_err(|e| format!("sending from a: {e}"))?;
    println!(
        "a sent {COUNT} datagrams to {group}, then a marker to {} that every \
         port gets",
        MARKER.0
    );

    // b, the member: its program gets the whole stream.
    let got = on_b.expect(COUNT).within(DEADLINE).map_err(|unmet| {
        format!(
            "b, a member, should receive all {COUNT} datagrams: {}",
            summary(&unmet)
        )
    })?;
    println!("b (member) received {} of {COUNT}", got.len());

    // c, not a member: once the marker has crossed its cable, the stream would have
    // too.
    on_c_cable
        .wait_for_udp(|u| u.payload == marker.as_bytes(), DEADLINE)
        .map_err(|unmet| format!("the marker never reached c: {}", summary(&unmet)))?;
    let seen = on_c_cable
        .udp()
        .iter()
        .filter(|u| u.destination.ip() == group.ip())
        .count();
    println!("c (not a member) saw {seen} of {COUNT} on its eth0, and the marker");
    if seen != 0 {
        return Err(format!(
            "the switch sent {seen} datagrams to {} to c, which never joined it",
            group.ip()
        ));
    }
    // ANCHOR_END: stream
    Ok(())
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
