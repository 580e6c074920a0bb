//! The book's pictures of its labs (`src/pictures/*.svg`) are drawn from the labs
//! themselves: each is drawn again from a running lab of the same shape and must be the file
//! the book shows. After a change to the labs, `UPDATE_PICTURES=1 cargo test -p docs --test
//! pictures` writes the new drawings; review them like code.

use std::path::Path;

use docs::picture::{self, Shape};
use lab::{Lab, Network};

fn check(file: &str, title: &str, shape: Shape, network: Network) {
    let lab = harness::or_skip!(Lab::new(network));
    let hosts = picture::describe(&lab, shape).unwrap();
    compare(file, &picture::svg(title, shape, &hosts));
}

/// `drawn` must be the book's `src/pictures/FILE`, or is written there with `UPDATE_PICTURES`.
fn compare(file: &str, drawn: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/pictures")
        .join(file);
    if std::env::var_os("UPDATE_PICTURES").is_some() {
        std::fs::write(&path, drawn).unwrap();
        return;
    }
    let shown = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shown == drawn,
        "{} is not what the lab is now; run UPDATE_PICTURES=1 cargo test -p docs --test chapters pictures:: \
         and review the change",
        path.display()
    );
}

/// `cargo lab --sandbox`: one host, `lo` and an `ifb` as `eth0`.
#[test]
fn the_one_host_lab_is_pictured_as_it_is() {
    check(
        "sandbox.svg",
        "cargo lab --sandbox",
        Shape::Sandbox,
        Network::Sandbox,
    );
}

/// `cargo lab a b`: two hosts on one bridge.
#[test]
fn the_two_host_lab_is_pictured_as_it_is() {
    check(
        "lan-a-b.svg",
        "cargo lab a b",
        Shape::Lan,
        Network::Lan(vec!["a".into(), "b".into()]),
    );
}

/// `cargo lab --routed`: two segments and the router.
#[test]
fn the_routed_lab_is_pictured_as_it_is() {
    check(
        "routed.svg",
        "cargo lab --routed",
        Shape::Routed,
        Network::Routed {
            first: vec!["a1".into(), "a2".into()],
            second: vec!["b1".into(), "b2".into()],
            forward: Vec::new(),
        },
    );
}

/// The Python article's example as it really ran: one datagram to the group from the
/// sender on host a, a copy to each receiver (dashed), and one unicast `ack` back from each
/// receiving host, drawn from the sender's own report.
#[test]
fn the_acknowledgement_sequence_is_pictured_as_it_runs() {
    use python_echo::{Receiver, ReceiverConfig, SenderConfig, send};

    let lan = harness::or_skip!(harness::Lan::new(["a", "b"]));
    let config = ReceiverConfig {
        count: Some(1),
        ..ReceiverConfig::default()
    };
    let serving: Vec<_> = lan
        .hosts()
        .iter()
        .map(|host| {
            let receiver = host.run(|| Receiver::bind(config.clone())).expect("bind");
            std::thread::spawn(move || receiver.serve(&mut std::io::sink()))
        })
        .collect();
    let sender = SenderConfig::default();
    let report = lan
        .host("a")
        .run(|| send(&sender, &mut std::io::sink()))
        .expect("the sender ran");
    for serving in serving {
        serving.join().unwrap().expect("a receiver answered");
    }
    let lanes = vec![
        "sender on a (10.0.0.1)".to_owned(),
        "receiver on a (10.0.0.1)".to_owned(),
        "receiver on b (10.0.0.2)".to_owned(),
    ];
    let group = sender.destination();
    let mut arrows = vec![
        picture::Arrow {
            from: 0,
            to: 1,
            label: format!("'very important data' to {group}"),
            multicast: true,
        },
        picture::Arrow {
            from: 0,
            to: 2,
            label: "the same datagram, a copy".into(),
            multicast: true,
        },
    ];
    let mut hosts: Vec<String> = report.hosts().iter().map(ToString::to_string).collect();
    hosts.sort();
    for host in hosts {
        let lane = if host == "10.0.0.1" { 1 } else { 2 };
        arrows.push(picture::Arrow {
            from: lane,
            to: 0,
            label: format!("ack, unicast from {host}"),
            multicast: false,
        });
    }
    let drawn = picture::sequence(
        "the Python example: one multicast out, one unicast ack per host back",
        &lanes,
        &arrows,
    );
    compare("python-acks.svg", &drawn);
}
