//! The book's pictures of its labs (`src/pictures/*.svg`) are drawn from the labs
//! themselves: each is drawn again from a running lab of the same shape and must be the file
//! the book shows. After a change to the labs, `UPDATE_PICTURES=1 cargo test -p docs --test
//! pictures` writes the new drawings; review them like code.

use std::path::Path;

use docs::picture::{self, Shape};
use harness::lab::{Lab, Network};

fn check(file: &str, title: &str, shape: Shape, network: Network) {
    let lab = harness::or_skip!(Lab::new(network));
    let hosts = picture::describe(&lab, shape).unwrap();
    let drawn = picture::svg(title, shape, &hosts);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/pictures")
        .join(file);
    if std::env::var_os("UPDATE_PICTURES").is_some() {
        std::fs::write(&path, &drawn).unwrap();
        return;
    }
    let shown = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shown == drawn,
        "{} is not what the lab is now; run UPDATE_PICTURES=1 cargo test -p docs --test pictures \
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
