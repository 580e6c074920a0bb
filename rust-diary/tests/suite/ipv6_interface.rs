//! IPv6 multicast needs an interface, and the interface must be found where the code runs.
//! The diary hard-codes index 5; the fix resolves `eth0` by name inside the sandbox.

use crate::common;

use std::io;
use std::net::{IpAddr, SocketAddr};

use common::{DEADLINE, Family};
use harness::Sandbox;
use mcast_vocab::{Group, Interface};
use rust_diary::diary::{self, AUTHORS_IPV6_INTERFACE, CLIENT_MESSAGE};
use rust_diary::{Bind, ListenOptions, join, sender};

/// How the sender picks its outgoing interface.
#[derive(Debug, Clone, Copy)]
enum Outgoing {
    /// The diary's `IPV6_MULTICAST_IF` = 5.
    HardCoded,
    /// `Interface::named("eth0")` inside the sandbox.
    Resolved,
}

/// The hard-coded index fails here with the kernel's own answer, `ENODEV`; the interface
/// resolved by name sends, and the datagram is looped back to a member on `eth0`, hop
/// limit 1, addressed to `ff02::123`.
#[rstest::rstest]
#[case::hard_coded_index_fails(Outgoing::HardCoded)]
#[case::resolved_by_name_works(Outgoing::Resolved)]
fn ipv6_sender_interface(#[case] outgoing: Outgoing) {
    let host = harness::or_skip!(Sandbox::new());
    let group = Family::V6.group();
    let member = host
        .listen_with(group, harness::Listen::default().interface("eth0"))
        .expect("a member on eth0");
    let eth0 = host.interface_index("eth0").unwrap();

    let sent: io::Result<(u32, usize)> = host.run(|| {
        let (index, socket) = match outgoing {
            Outgoing::HardCoded => (
                AUTHORS_IPV6_INTERFACE,
                diary::new_sender(&group.socket_addr())?,
            ),
            Outgoing::Resolved => {
                let eth0 = Interface::named("eth0").map_err(io::Error::other)?;
                (eth0.index, sender(&group, Some(&eth0))?)
            }
        };
        Ok((index, socket.send_to(CLIENT_MESSAGE, group.socket_addr())?))
    });

    match outgoing {
        Outgoing::HardCoded => {
            assert_ne!(
                eth0, AUTHORS_IPV6_INTERFACE,
                "precondition: eth0 is not index 5"
            );
            let err = sent.expect_err("index 5 does not exist in the sandbox");
            assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
            assert_eq!(err.to_string(), "No such device (os error 19)");
        }
        Outgoing::Resolved => {
            let (index, bytes) = sent.expect("sending via the resolved interface");
            assert_eq!(index, eth0, "named agrees with the harness");
            assert_eq!(bytes, CLIENT_MESSAGE.len());
            let got = member.expect(1).within(DEADLINE).unwrap();
            assert_eq!(got[0].payload, CLIENT_MESSAGE);
            assert_eq!(got[0].interface.name, "eth0");
            assert_eq!(got[0].destination, group.ip());
            assert_eq!(got[0].ttl, Some(1), "multicast hop limit defaults to 1");
        }
    }
}

/// Binding to a link-local group works once the resolved interface goes along as its scope
/// id: the socket's address reads `[ff02::123%<eth0>]:7645`. Without one the fixed `join`
/// refuses with a message instead of the kernel's bare `EINVAL`.
#[test]
fn ipv6_group_binds_with_the_interface_as_its_scope() {
    let host = harness::or_skip!(Sandbox::new());
    let group = Family::V6.group();
    let eth0 = host.interface_index("eth0").unwrap();

    let (scoped, unscoped) = host.run(|| {
        let options = ListenOptions::default().bind(Bind::Group);
        let scoped = join(
            &group,
            &options.clone().interface(Interface::named("eth0").unwrap()),
        )
        .and_then(|socket| socket.local_addr());
        (scoped, join(&group, &options))
    });

    let SocketAddr::V6(bound) = scoped.expect("bound with a scope id") else {
        panic!("an IPv6 socket with an IPv4 address")
    };
    assert_eq!(IpAddr::V6(*bound.ip()), group.ip());
    assert_eq!(bound.port(), group.port());
    assert_eq!(bound.scope_id(), eth0);

    let err = unscoped.expect_err("a link-local group without an interface");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        "listening on [ff02::123]:7645: binding to the group failed: ff02::123 is a \
         link-local IPv6 group: it exists once per link, so it needs an interface \
         (e.g. --interface eth0)"
    );
}

/// An IPv6 group of wider scope (`ff05::`, site-local) binds without a scope id: only
/// interface- and link-local groups need one. Joined on `eth0`, it receives there.
#[test]
fn site_local_group_binds_without_a_scope() {
    let host = harness::or_skip!(Sandbox::new());
    let group: Group = "[ff05::123]:7645".parse().unwrap();
    let received = host.run(|| {
        let eth0 = Interface::named("eth0").unwrap();
        let socket = join(&group, &ListenOptions::default().interface(eth0.clone())).unwrap();
        let local = socket.local_addr().unwrap();
        sender(&group, Some(&eth0))
            .unwrap()
            .send_to(b"site", group.socket_addr())
            .unwrap();
        (local, common::receive_until(&socket, &[], "site"))
    });
    let SocketAddr::V6(local) = received.0 else {
        panic!("not IPv6")
    };
    assert_eq!(local.scope_id(), 0);
    assert_eq!(received.1, ["site"]);
}
