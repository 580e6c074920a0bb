//! Binding to the group versus binding to the wildcard: what each lets through. The socket
//! joins two groups; the sender writes to the host's unicast address, to the second group
//! and to the first group, all on the diary's port.

use crate::common;

use std::net::SocketAddr;

use common::{Family, receive_until, send_all, sorted};
use harness::Sandbox;
use rust_diary::{Bind, ListenOptions, join, sender};

/// Bound to the group, a socket receives only datagrams addressed to that group, even
/// though it joined a second group and even though unicast for its port reaches the host.
/// Bound to the wildcard it receives all three. (`IP_MULTICAST_ALL` is off in both, so
/// only the socket's own memberships count; `tests/suite/multicast_all.rs` turns it on.)
#[rstest::rstest]
#[case::ipv4_group_bound_hears_only_its_group(Family::V4, Bind::Group, &["group"])]
#[case::ipv4_wildcard_hears_everything_for_the_port(Family::V4, Bind::Wildcard, &["group", "second group", "unicast"])]
#[case::ipv6_group_bound_hears_only_its_group(Family::V6, Bind::Group, &["group"])]
#[case::ipv6_wildcard_hears_everything_for_the_port(Family::V6, Bind::Wildcard, &["group", "second group", "unicast"])]
fn bind_style_decides_what_reaches_the_socket(
    #[case] family: Family,
    #[case] bind: Bind,
    #[case] expected: &[&str],
) {
    let host = harness::or_skip!(Sandbox::new());
    let (group, second) = (family.group(), family.other_group());
    let unicast = SocketAddr::new(family.host_address(&host), group.port());

    let got = host.run(|| {
        let interface = family.interface();
        let options = ListenOptions::default()
            .interface(interface.clone())
            .bind(bind);
        let socket = join(&group, &options).expect("joined and bound");
        // A second membership on the same socket.
        let joined_second = match second.ip() {
            std::net::IpAddr::V4(ip) => socket2::SockRef::from(&socket).join_multicast_v4_n(
                &ip,
                &socket2::InterfaceIndexOrAddress::Index(interface.index),
            ),
            std::net::IpAddr::V6(ip) => {
                socket2::SockRef::from(&socket).join_multicast_v6(&ip, interface.index)
            }
        };
        joined_second.expect("joined the second group");

        let out = sender(&group, Some(&interface)).expect("a sender");
        send_all(
            &out,
            &[
                ("unicast", unicast),
                ("second group", second.socket_addr()),
                ("group", group.socket_addr()),
            ],
        );
        receive_until(&socket, expected, "group")
    });

    assert_eq!(got, sorted(expected), "{family:?} bound to {bind:?}");
}
