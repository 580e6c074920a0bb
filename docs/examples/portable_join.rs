//! One join for IPv4 and IPv6: RFC 3678's `MCAST_JOIN_GROUP`, the request that names the
//! interface by index and the group as a `sockaddr_storage` of either family.
//!
//! It builds a two-host LAN of its own (so it is safe to run in your own shell), makes host b
//! a member of an IPv4 group and then of an IPv6 group with the *same* function, has host a
//! send to each, and prints what b heard; then b leaves (`MCAST_LEAVE_GROUP`) and a second
//! datagram does not arrive. Run it as `cargo run -q -p docs --example portable_join`.

// As an ordinary user, move into a user namespace of our own before main (see harness).
harness::userns_before_main!();

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use harness::{Group, Lan};
use mcast_vocab::sockopt::{join_group, leave_group};
use socket2::{Domain, Socket, Type};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lan = harness::or_skip!(Lan::new(["a", "b"]), Ok(()));
    let (a, b) = (lan.host("a"), lan.host("b"));
    let eth0 = b.interface_index("eth0")?;
    for text in ["239.1.2.3:5000", "[ff0e::1:2]:5000"] {
        let group = Group::parse(text)?;
        // ANCHOR: use
        let member = b.run(|| member(group, eth0))?;
        a.run(|| send(group, b"hello"))?;
        let (heard, from) = receive(&member, ARRIVES)?;
        let ip = group.ip();
        println!("{ip}: b joined on eth0 (index {eth0}), heard {heard:?} from {from}");
        leave_group(&member, group.ip(), eth0)?;
        a.run(|| send(group, b"again"))?;
        // ANCHOR_END: use
        match receive(&member, QUIET) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                println!("{}: b left; the next datagram did not arrive", group.ip())
            }
            other => println!("{}: b left, and still got {other:?}", group.ip()),
        }
    }
    Ok(())
}

// ANCHOR: member
/// A socket of the group's family, bound to the group's port and joined on `index`.
fn member(group: Group, index: u32) -> io::Result<Socket> {
    let domain = Domain::for_address(group.socket_addr());
    let socket = Socket::new(domain, Type::DGRAM, None)?;
    let any = match group.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => {
            socket.set_only_v6(true)?;
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        }
    };
    socket.bind(&SocketAddr::new(any, group.port()).into())?;
    join_group(&socket, group.ip(), index)?; // the same call for both families
    Ok(socket)
}
// ANCHOR_END: member

/// One datagram from a plain UDP socket to the group (TTL 1, through the default route).
fn send(group: Group, payload: &[u8]) -> io::Result<()> {
    let socket = Socket::new(Domain::for_address(group.socket_addr()), Type::DGRAM, None)?;
    socket.send_to(payload, &group.socket_addr().into())?;
    Ok(())
}

/// How long a datagram that crosses one bridge may take, on a busy machine: only a failure
/// waits this long.
const ARRIVES: Duration = Duration::from_secs(5);
/// How long to watch for a datagram that should not come.
const QUIET: Duration = Duration::from_millis(300);

/// The next datagram's text and sender, waiting at most `wait`.
fn receive(socket: &Socket, wait: Duration) -> io::Result<(String, IpAddr)> {
    socket.set_read_timeout(Some(wait))?;
    let mut buffer = [0u8; 64];
    let (n, from) = std::net::UdpSocket::from(socket.try_clone()?).recv_from(&mut buffer)?;
    Ok((
        String::from_utf8_lossy(&buffer[..n]).into_owned(),
        from.ip(),
    ))
}
