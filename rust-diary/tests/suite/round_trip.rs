//! The diary's test, fixed: the same round trip (client says hello to the group, listener
//! answers with the test's name) for both families and both bind styles, each in a sandbox
//! of its own, with the interface resolved by name where the test runs.

use crate::common;

use std::net::{IpAddr, SocketAddr};

use common::{DEADLINE, Family};
use harness::Sandbox;
use rust_diary::diary::CLIENT_MESSAGE;
use rust_diary::{Bind, ListenOptions, Responder, ask};

/// Both families answer, whichever way the listener binds. The witness (a second member of
/// the group on the same port, which the fixed listener's `SO_REUSEADDR` now allows) shows
/// where the client's datagram arrived: `lo` for IPv4, `eth0` for IPv6, hop limit 1.
#[rstest::rstest]
#[case::ipv4_bound_to_group(Family::V4, Bind::Group)]
#[case::ipv4_bound_to_wildcard(Family::V4, Bind::Wildcard)]
#[case::ipv6_bound_to_group(Family::V6, Bind::Group)]
#[case::ipv6_bound_to_wildcard(Family::V6, Bind::Wildcard)]
fn listener_answers_the_client(#[case] family: Family, #[case] bind: Bind) {
    let host = harness::or_skip!(Sandbox::new());
    let group = family.group();
    let witness = host.listen(group).expect("witness");
    let index = host.interface_index(family.interface_name()).unwrap();

    let (local, reply, heard) = host.run(|| {
        let interface = family.interface();
        let options = ListenOptions::default()
            .interface(interface.clone())
            .bind(bind);
        let responder = Responder::start(family.name(), &group, &options).expect("joined");
        let local = responder.local_addr();
        let reply = ask(&group, Some(&interface), CLIENT_MESSAGE, DEADLINE).expect("a reply");
        (local, reply, responder.stop().expect("stopped cleanly"))
    });

    // The listener bound where it was told to.
    match bind {
        Bind::Group => assert_eq!(local.ip(), group.ip()),
        Bind::Wildcard => assert!(local.ip().is_unspecified(), "{local}"),
    }
    // It heard the client once, and the client heard its name back.
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].text, "Hello from client!");
    assert_eq!(reply.text, family.name());

    // Where things went.
    let seen = witness.expect(1).within(DEADLINE).unwrap();
    assert_eq!(seen[0].payload, CLIENT_MESSAGE);
    assert_eq!(seen[0].interface.name, family.interface_name());
    assert_eq!(seen[0].destination, group.ip());
    assert_eq!(seen[0].ttl, Some(1));
    assert_eq!(
        seen[0].source, heard[0].from,
        "both members saw the same sender"
    );
    match (family, reply.from) {
        (Family::V4, SocketAddr::V4(from)) => {
            assert_eq!(IpAddr::V4(*from.ip()), IpAddr::V4(host.ipv4()));
        }
        (Family::V6, SocketAddr::V6(from)) => {
            // The client wrote to a link-local group, so it spoke from its link-local
            // address, and the answer came back scoped to the interface it arrived on.
            assert!(from.ip().is_unicast_link_local(), "{from}");
            assert_eq!(from.scope_id(), index);
        }
        (family, from) => panic!("{family:?} reply from {from}"),
    }
}

/// A listener that cannot start reports it to its caller, at once: the fixed
/// `Responder::start` joins and binds before it spawns its thread (the diary's listener
/// hangs its caller instead, see `tests/suite/diary.rs`). Here another program holds the port
/// without `SO_REUSEADDR`, so the bind fails with `EADDRINUSE`, and the error says where.
#[rstest::rstest]
#[case::ipv4(Family::V4)]
#[case::ipv6(Family::V6)]
fn failed_start_is_returned_not_hung(#[case] family: Family) {
    let host = harness::or_skip!(Sandbox::new());
    let group = family.group();
    let result = host.run(|| {
        let wildcard: SocketAddr = match family {
            Family::V4 => "0.0.0.0:7645".parse().unwrap(),
            Family::V6 => "[::]:7645".parse().unwrap(),
        };
        let _squatter = std::net::UdpSocket::bind(wildcard).expect("the port is free");
        let options = ListenOptions::default().interface(family.interface());
        Responder::start(family.name(), &group, &options).map(|_| ())
    });
    let err = result.expect_err("the port is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    let expected = format!("listening on {group}: bind(");
    assert!(err.to_string().starts_with(&expected), "{err}");
    assert!(
        err.to_string()
            .ends_with("failed: Address already in use (os error 98)"),
        "{err}"
    );
}
