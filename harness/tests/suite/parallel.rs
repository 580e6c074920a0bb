//! Sixteen tests on the same group and port at the same time, each in its own sandbox, each
//! hearing only its own traffic. Run under `cargo test` they share a process and run on
//! threads; under `cargo nextest run` each is a process of its own. Both must pass.

use std::time::Duration;

use harness::{Group, Sandbox};

/// One test's worth: listen on the shared group and port, send a payload unique to this
/// test a few times, and check that exactly this test's datagrams arrived.
fn same_group_and_port_in_parallel(id: u32) {
    let host = harness::or_skip!(Sandbox::new());
    let g = Group::parse("239.255.0.1:5555").unwrap();
    let rx = host.listen(g).unwrap();
    let payload = format!("test {id}");
    host.run(|| {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        for _ in 0..3 {
            socket.send_to(payload.as_bytes(), g.socket_addr()).unwrap();
        }
    });
    let got = rx.expect(3).within(Duration::from_secs(10)).unwrap();
    assert!(got.iter().all(|d| d.text() == payload), "{got:?}");
    rx.expect_none(Duration::from_millis(50)).unwrap();
}

macro_rules! parallel_tests {
    ($($name:ident = $id:literal),* $(,)?) => {$(
        /// Hears only its own three datagrams although fifteen other tests use the same group and port.
        #[test]
        fn $name() {
            same_group_and_port_in_parallel($id);
        }
    )*};
}

parallel_tests!(
    same_port_01 = 1,
    same_port_02 = 2,
    same_port_03 = 3,
    same_port_04 = 4,
    same_port_05 = 5,
    same_port_06 = 6,
    same_port_07 = 7,
    same_port_08 = 8,
    same_port_09 = 9,
    same_port_10 = 10,
    same_port_11 = 11,
    same_port_12 = 12,
    same_port_13 = 13,
    same_port_14 = 14,
    same_port_15 = 15,
    same_port_16 = 16,
);
