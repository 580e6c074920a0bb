//! `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL`: with the kernel's default, a wildcard-bound
//! socket receives a group it never joined, as soon as *another* socket on the same host
//! joins it. The fixes: switch the option off, or bind to the group.

use crate::common;

use common::{DEADLINE, Family, receive_until, send_all, sorted};
use harness::Sandbox;
use rust_diary::{Bind, ListenOptions, join, sender};

/// Socket A joins the diary's group only; socket B (the harness's listener, in the same
/// host) joins a second group on the same port, or nobody does. The sender writes to the
/// second group, then to A's group. A hears the second group only with the option on,
/// bound to the wildcard, and with B's membership in place: B's join is what leaks.
#[rstest::rstest]
#[case::ipv4_kernel_default_hears_the_other_sockets_group(Family::V4, Bind::Wildcard, true, true, &["group", "other group"])]
#[case::ipv4_no_other_member_nothing_to_hear(Family::V4, Bind::Wildcard, true, false, &["group"])]
#[case::ipv4_option_off_hears_only_its_own(Family::V4, Bind::Wildcard, false, true, &["group"])]
#[case::ipv4_bound_to_group_hears_only_its_own(Family::V4, Bind::Group, true, true, &["group"])]
#[case::ipv6_kernel_default_hears_the_other_sockets_group(Family::V6, Bind::Wildcard, true, true, &["group", "other group"])]
#[case::ipv6_no_other_member_nothing_to_hear(Family::V6, Bind::Wildcard, true, false, &["group"])]
#[case::ipv6_option_off_hears_only_its_own(Family::V6, Bind::Wildcard, false, true, &["group"])]
#[case::ipv6_bound_to_group_hears_only_its_own(Family::V6, Bind::Group, true, true, &["group"])]
fn wildcard_socket_and_a_group_it_never_joined(
    #[case] family: Family,
    #[case] bind: Bind,
    #[case] multicast_all: bool,
    #[case] other_member: bool,
    #[case] expected: &[&str],
) {
    let host = harness::or_skip!(Sandbox::new());
    let (group, other) = (family.group(), family.other_group());
    let member_b = other_member.then(|| {
        host.listen_with(
            other,
            harness::Listen::default().interface(family.interface_name()),
        )
        .expect("socket B joined the other group")
    });

    let got = host.run(|| {
        let interface = family.interface();
        let options = ListenOptions::default()
            .interface(interface.clone())
            .bind(bind)
            .multicast_all(multicast_all);
        let socket_a = join(&group, &options).expect("socket A joined and bound");
        let out = sender(&group, Some(&interface)).expect("a sender");
        send_all(
            &out,
            &[
                ("other group", other.socket_addr()),
                ("group", group.socket_addr()),
            ],
        );
        receive_until(&socket_a, expected, "group")
    });

    assert_eq!(
        got,
        sorted(expected),
        "{family:?}, bound to {bind:?}, multicast_all {multicast_all}, other member {other_member}"
    );
    // Control: the datagram for the other group really reached the host, on the interface
    // it was sent by, whether or not A heard it.
    if let Some(member_b) = member_b {
        let seen = member_b.expect(1).within(DEADLINE).unwrap();
        assert_eq!(seen[0].payload, b"other group");
        assert_eq!(seen[0].interface.name, family.interface_name());
        assert_eq!(seen[0].destination, other.ip());
    }
}
