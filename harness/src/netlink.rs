//! A small synchronous rtnetlink client: the handful of requests a virtual LAN needs.
//!
//! `ip link add`, `ip addr add` and `ip route add` each cost a process spawn (about 1.2 ms here)
//! before they do anything. Talking rtnetlink from inside the test process makes a namespace
//! with a link and addresses cost well under a millisecond. Most messages are built and read
//! with the `netlink-packet-route` crate; the bridge's multicast database (`RTM_GETMDB`), which
//! that crate does not know, is asked for and parsed by hand ([`Rtnl::mdb`]).
//!
//! A netlink socket belongs to the network namespace it was created in, so each [`Rtnl`] is
//! made on a thread inside its namespace and can then be used from any thread.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    DefaultNla, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
    NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoBridge, InfoData, InfoKind, InfoVeth,
    LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcStats2};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// One rtnetlink socket, bound to the namespace it was opened in.
pub(crate) struct Rtnl {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

impl Rtnl {
    /// Opens a route-netlink socket in the calling thread's network namespace.
    pub(crate) fn open() -> io::Result<Rtnl> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Rtnl {
            socket,
            sequence: 0,
            buffer: vec![0; 64 * 1024],
        })
    }

    /// Appends `message` to `out` as the next request, acked, and returns its sequence number.
    fn append(&mut self, out: &mut Vec<u8>, message: RouteNetlinkMessage, flags: u16) -> u32 {
        self.sequence += 1;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let start = out.len();
        out.resize(start + packet.buffer_len(), 0);
        packet.serialize(&mut out[start..]);
        self.sequence
    }

    /// Sends one request and returns the kernel's replies, or its error, once it has acked.
    fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        self.append(&mut out, message, flags);
        self.socket.send(&out, 0)?;

        let mut replies = Vec::new();
        loop {
            let size = self.socket.recv(&mut &mut self.buffer[..], 0)?;
            let mut offset = 0;
            while offset < size {
                let reply =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buffer[offset..size])
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let length = reply.header.length as usize;
                if reply.header.sequence_number == self.sequence {
                    match reply.payload {
                        NetlinkPayload::Error(e) => {
                            return match e.code {
                                None => Ok(replies),
                                Some(_) => Err(e.to_io()),
                            };
                        }
                        NetlinkPayload::Done(_) => return Ok(replies),
                        NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                        _ => {}
                    }
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    /// Sends every request of `requests` in one `send(2)`, then reads their acks: one round
    /// trip to the kernel for all of them instead of one each. The kernel carries out the
    /// messages of one send in order, and goes on after one fails; the first failure is
    /// returned with its position in `requests`.
    pub(crate) fn batch(&mut self, requests: Vec<Request>) -> Result<(), (usize, io::Error)> {
        let mut out = Vec::new();
        let first = self.sequence.wrapping_add(1);
        let count = requests.len();
        for request in requests {
            self.append(&mut out, request.message, request.flags);
        }
        self.socket.send(&out, 0).map_err(|e| (0, e))?;
        let mut failed = None;
        let mut acked = 0;
        while acked < count {
            let size = self
                .socket
                .recv(&mut &mut self.buffer[..], 0)
                .map_err(|e| (acked, e))?;
            let mut offset = 0;
            while offset < size {
                let reply =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buffer[offset..size])
                        .map_err(|e| {
                            (
                                acked,
                                io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
                            )
                        })?;
                let position = reply.header.sequence_number.wrapping_sub(first) as usize;
                if let (NetlinkPayload::Error(e), true) = (reply.payload, position < count) {
                    acked += 1;
                    if let (Some(_), None) = (e.code, &failed) {
                        failed = Some((position, e.to_io()));
                    }
                }
                let length = reply.header.length as usize;
                if length == 0 {
                    break;
                }
                offset += length.next_multiple_of(4);
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// `RTM_NEWLINK` with create/excl flags.
    fn new_link(&mut self, link: LinkMessage) -> io::Result<()> {
        self.send(Request::new_link(link))
    }

    /// The index of the interface called `name` (`if_nametoindex`, but in this namespace).
    pub(crate) fn link_index(&mut self, name: &str) -> io::Result<u32> {
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName(name.to_owned()));
        let replies = self.request(RouteNetlinkMessage::GetLink(link), 0)?;
        replies
            .into_iter()
            .find_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}")))
    }

    /// Whether the kernel has finished bringing link `index` up: operational state `UP` (or
    /// `UNKNOWN`, for drivers that do not track a carrier) and a
    /// real transmit queue. Setting a veth up returns before that: carrier, operational state
    /// and the queue discipline (a `noop` qdisc that drops everything until it is swapped for
    /// the real one) follow from the kernel's "linkwatch" worker a moment later.
    pub(crate) fn link_usable(&mut self, index: u32) -> io::Result<bool> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        let replies = self.request(RouteNetlinkMessage::GetLink(link), 0)?;
        let Some(RouteNetlinkMessage::NewLink(link)) = replies.into_iter().next() else {
            return Ok(false);
        };
        // UNKNOWN is what drivers without carrier tracking (ifb, lo) report when up.
        let up = link
            .attributes
            .iter()
            .any(|a| matches!(a, LinkAttribute::OperState(State::Up | State::Unknown)));
        let queue_ready = link
            .attributes
            .iter()
            .any(|a| matches!(a, LinkAttribute::Qdisc(q) if q != "noop"));
        Ok(up && queue_ready)
    }

    /// Sets the interface up (`ip link set NAME up`).
    pub(crate) fn set_up(&mut self, index: u32) -> io::Result<()> {
        self.send(Request::set_up(index))
    }

    /// Sends one prepared request and waits for its ack.
    pub(crate) fn send(&mut self, request: Request) -> io::Result<()> {
        self.request(request.message, request.flags).map(drop)
    }

    /// Makes `index` a port of the bridge `master` (`ip link set NAME master BR`).
    pub(crate) fn set_master(&mut self, index: u32, master: u32) -> io::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::Controller(master));
        self.request(RouteNetlinkMessage::SetLink(link), 0)
            .map(drop)
    }

    /// Creates the veth pair `veth` describes.
    pub(crate) fn add_veth(&mut self, veth: Veth<'_>) -> io::Result<()> {
        let mut peer_link = LinkMessage::default();
        peer_link.header.index = veth.peer_index;
        peer_link
            .attributes
            .push(LinkAttribute::IfName(veth.peer.to_owned()));
        if let Some(fd) = veth.peer_namespace {
            peer_link
                .attributes
                .push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        let mut link = LinkMessage::default();
        link.header.index = veth.index;
        link.attributes
            .push(LinkAttribute::IfName(veth.name.to_owned()));
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_link))),
        ]));
        self.new_link(link)
    }

    /// Creates an "intermediate functional block" device, down (see [`Request::add_ifb`]).
    pub(crate) fn add_ifb(&mut self, name: &str, index: u32) -> io::Result<()> {
        self.send(Request::add_ifb(name, index))
    }

    /// Creates a bridge with index `index` that floods multicast to every port (IGMP/MLD
    /// snooping off).
    pub(crate) fn add_flooding_bridge(&mut self, name: &str, index: u32) -> io::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::IfName(name.to_owned()));
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(false)])),
        ]));
        self.new_link(link)
    }

    /// Sets the root queueing discipline of link `index` to `kind` with the raw `TCA_OPTIONS`
    /// payload `options`, replacing whatever was there (`tc qdisc replace dev X root KIND`).
    pub(crate) fn replace_root_qdisc(
        &mut self,
        index: u32,
        kind: &str,
        options: Vec<u8>,
    ) -> io::Result<()> {
        let mut message = TcMessage::default();
        message.header.index = index as i32;
        message.header.parent = TcHandle::ROOT;
        message.attributes.push(TcAttribute::Kind(kind.to_owned()));
        // TCA_OPTIONS, sent as built: netem's is a struct followed by attributes.
        message
            .attributes
            .push(TcAttribute::Other(DefaultNla::new(2, options)));
        self.request(
            RouteNetlinkMessage::NewQueueDiscipline(message),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// How many frames the root queueing discipline of link `index` holds right now. Asked
    /// by a dump of every qdisc: the kernel answers a plain `RTM_GETQDISC` only to listeners
    /// of its multicast group, not to the asker.
    pub(crate) fn root_qdisc_queue(&mut self, index: u32) -> io::Result<u32> {
        let replies = self.request(
            RouteNetlinkMessage::GetQueueDiscipline(TcMessage::default()),
            NLM_F_DUMP,
        )?;
        let mut queued = 0;
        for reply in replies {
            let RouteNetlinkMessage::NewQueueDiscipline(qdisc) = reply else {
                continue;
            };
            if qdisc.header.index != index as i32 || qdisc.header.parent != TcHandle::ROOT {
                continue;
            }
            for attribute in qdisc.attributes {
                match attribute {
                    TcAttribute::Stats2(stats) => {
                        for s in stats {
                            if let TcStats2::Queue(q) = s {
                                queued = queued.max(q.qlen);
                            }
                        }
                    }
                    TcAttribute::Stats(s) => queued = queued.max(s.qlen),
                    _ => {}
                }
            }
        }
        Ok(queued)
    }

    /// Deletes the root queueing discipline of link `index`, which puts back the kernel's
    /// default. Fails with `ENOENT` when there is none to delete.
    pub(crate) fn delete_root_qdisc(&mut self, index: u32) -> io::Result<()> {
        let mut message = TcMessage::default();
        message.header.index = index as i32;
        message.header.parent = TcHandle::ROOT;
        self.request(RouteNetlinkMessage::DelQueueDiscipline(message), 0)
            .map(drop)
    }

    /// Creates a bridge that snoops IGMP and MLD (`mcast_snooping 1`), not yet a querier, whose
    /// querier waits `response_interval` (in hundredths of a second, as the kernel counts it)
    /// for answers to a query and, once made querier, that long before it filters.
    pub(crate) fn add_snooping_bridge(
        &mut self,
        name: &str,
        index: u32,
        response_interval: u64,
    ) -> io::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::IfName(name.to_owned()));
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            LinkInfo::Data(InfoData::Bridge(vec![
                InfoBridge::MulticastSnooping(true),
                InfoBridge::MulticastQuerier(false),
                InfoBridge::MulticastQueryResponseInterval(response_interval),
                // After a leave, two group-specific queries 100 ms apart (1 s apart by
                // default) before the group is dropped from a port.
                InfoBridge::MulticastLastMemberInterval(10),
            ])),
        ]));
        self.new_link(link)
    }

    /// Makes bridge `index` the querier of its segment (`ip link set BR type bridge
    /// mcast_querier 1`).
    pub(crate) fn set_querier(&mut self, index: u32) -> io::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastQuerier(true)])),
        ]));
        // RTM_NEWLINK on an existing link, as `ip link set ... type` sends: the kernel
        // ignores a bridge's options in an RTM_SETLINK.
        self.request(RouteNetlinkMessage::NewLink(link), 0)
            .map(drop)
    }

    /// Sets options of the existing bridge `index` (`ip link set BR type bridge ...`), such
    /// as its multicast timers ([`crate::SnoopingTimers`]).
    pub(crate) fn set_bridge_options(
        &mut self,
        index: u32,
        options: Vec<InfoBridge>,
    ) -> io::Result<()> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            LinkInfo::Data(InfoData::Bridge(options)),
        ]));
        // RTM_NEWLINK on an existing link, as for `set_querier`.
        self.request(RouteNetlinkMessage::NewLink(link), 0)
            .map(drop)
    }

    /// The bridge's multicast database (`bridge mdb show`): for each entry, the port's
    /// interface index and the group. `netlink-packet-route` does not know `RTM_GETMDB`, so
    /// this request is built and read by hand (`include/uapi/linux/if_bridge.h`).
    pub(crate) fn mdb(&mut self) -> io::Result<Vec<(u32, IpAddr)>> {
        const RTM_GETMDB: u16 = 86;
        const RTM_NEWMDB: u16 = 84;
        const NLMSG_ERROR: u16 = 2;
        const NLMSG_DONE: u16 = 3;
        self.sequence += 1;
        let mut request = Vec::with_capacity(24);
        request.extend_from_slice(&24u32.to_ne_bytes());
        request.extend_from_slice(&RTM_GETMDB.to_ne_bytes());
        request.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        request.extend_from_slice(&self.sequence.to_ne_bytes());
        request.extend_from_slice(&0u32.to_ne_bytes());
        // struct br_port_msg: family (AF_BRIDGE), padding, ifindex 0 (every bridge).
        request.extend_from_slice(&[libc::AF_BRIDGE as u8, 0, 0, 0, 0, 0, 0, 0]);
        self.socket.send(&request, 0)?;

        let mut entries = Vec::new();
        loop {
            let size = self.socket.recv(&mut &mut self.buffer[..], 0)?;
            let mut rest = &self.buffer[..size];
            while rest.len() >= 16 {
                let length = u32_at(rest, 0) as usize;
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                let sequence = u32_at(rest, 8);
                if length < 16 || length > rest.len() {
                    return Err(invalid("a truncated netlink message"));
                }
                let body = &rest[16..length];
                rest = &rest[length.next_multiple_of(4).min(rest.len())..];
                if sequence != self.sequence {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return Ok(entries),
                    NLMSG_ERROR => {
                        let code = body
                            .get(..4)
                            .map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap()));
                        return match code {
                            0 => Ok(entries),
                            _ => Err(io::Error::from_raw_os_error(-code)),
                        };
                    }
                    // The kernel answers a dump in messages of the request's type.
                    RTM_GETMDB | RTM_NEWMDB if body.len() >= 8 => {
                        mdb_entries(&body[8..], &mut entries)?
                    }
                    _ => {}
                }
            }
        }
    }

    /// Adds `address/prefix` to an interface; IPv6 addresses skip duplicate address detection.
    pub(crate) fn add_address(
        &mut self,
        index: u32,
        address: IpAddr,
        prefix: u8,
    ) -> io::Result<()> {
        self.send(Request::add_address(index, address, prefix))
    }

    /// Adds `route` to the main table (`ip route add ...`); it must not be there yet.
    pub(crate) fn add_route(&mut self, route: Route) -> io::Result<()> {
        self.send(Request::add_route(route))
    }
}

/// One rtnetlink request, built but not sent: for [`Rtnl::send`] alone or, several at once,
/// for [`Rtnl::batch`].
pub(crate) struct Request {
    message: RouteNetlinkMessage,
    /// Flags besides `NLM_F_REQUEST | NLM_F_ACK`.
    flags: u16,
}

impl Request {
    /// `RTM_NEWLINK` with create/excl flags.
    fn new_link(link: LinkMessage) -> Request {
        Request {
            message: RouteNetlinkMessage::NewLink(link),
            flags: NLM_F_CREATE | NLM_F_EXCL,
        }
    }

    /// Sets the interface up (`ip link set NAME up`).
    pub(crate) fn set_up(index: u32) -> Request {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        Request {
            message: RouteNetlinkMessage::SetLink(link),
            flags: 0,
        }
    }

    /// Creates an "intermediate functional block" device with the MULTICAST flag, down: an
    /// Ethernet-like interface whose transmitted frames are dropped (nothing is on the other
    /// end). Local members still get their copies: the kernel loops those back before
    /// transmitting.
    pub(crate) fn add_ifb(name: &str, index: u32) -> Request {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.header.flags = LinkFlags::Multicast;
        link.header.change_mask = LinkFlags::Multicast;
        link.attributes.push(LinkAttribute::IfName(name.to_owned()));
        link.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Ifb)]));
        Request::new_link(link)
    }

    /// `ip link set NAME addrgenmode none`: the kernel makes no link-local IPv6 address of
    /// its own when the link comes up. Its own would be tentative until a kernel worker has
    /// run duplicate address detection, even on a NOARP link, so it could not be used at
    /// once; one added with [`Request::add_address`] can. Only honoured while the link is
    /// down (an `RTM_NEWLINK` that creates a link ignores it).
    pub(crate) fn no_automatic_link_local(index: u32) -> Request {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
            )]));
        Request {
            message: RouteNetlinkMessage::SetLink(link),
            flags: 0,
        }
    }

    /// Adds `address/prefix` to an interface; IPv6 addresses skip duplicate address detection
    /// (`nodad`), so they are usable at once.
    pub(crate) fn add_address(index: u32, address: IpAddr, prefix: u8) -> Request {
        let mut message = AddressMessage::default();
        message.header.index = index;
        message.header.prefix_len = prefix;
        message.header.family = family(address);
        message.attributes.push(AddressAttribute::Local(address));
        message.attributes.push(AddressAttribute::Address(address));
        if address.is_ipv6() {
            message
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        Request {
            message: RouteNetlinkMessage::NewAddress(message),
            flags: NLM_F_CREATE | NLM_F_EXCL,
        }
    }

    /// Adds `route` to the main table (`ip route add ...`); it must not be there yet.
    pub(crate) fn add_route(route: Route) -> Request {
        Request {
            message: RouteNetlinkMessage::NewRoute(route.message()),
            flags: NLM_F_CREATE | NLM_F_EXCL,
        }
    }
}

/// A veth pair for [`Rtnl::add_veth`], built as `ip link add` reads:
/// `Veth::pair(name, peer).indices(index, peer_index).peer_in(namespace)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Veth<'a> {
    name: &'a str,
    index: u32,
    peer: &'a str,
    peer_index: u32,
    peer_namespace: Option<BorrowedFd<'a>>,
}

impl<'a> Veth<'a> {
    /// A pair with `name` here and `peer` at its other end, here too; the kernel picks both
    /// interface indices.
    pub(crate) fn pair(name: &'a str, peer: &'a str) -> Veth<'a> {
        Veth {
            name,
            index: 0,
            peer,
            peer_index: 0,
            peer_namespace: None,
        }
    }

    /// Asks for interface index `index` for this end and `peer_index` for the peer (0: the
    /// kernel picks), which saves asking for them afterwards.
    pub(crate) fn indices(mut self, index: u32, peer_index: u32) -> Veth<'a> {
        self.index = index;
        self.peer_index = peer_index;
        self
    }

    /// `peer NAME netns FD`: the peer is born in the network namespace `namespace`.
    pub(crate) fn peer_in(mut self, namespace: BorrowedFd<'a>) -> Veth<'a> {
        self.peer_namespace = Some(namespace);
        self
    }
}

/// A static route for [`Rtnl::add_route`], built as `ip route add` reads:
/// `Route::to(destination, prefix).via_interface(oif).source(address).gateway(router)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    destination: IpAddr,
    prefix: u8,
    oif: Option<u32>,
    source: Option<IpAddr>,
    gateway: Option<IpAddr>,
}

impl Route {
    /// A route to `destination/prefix` (prefix 0: the default route of its family).
    pub(crate) fn to(destination: IpAddr, prefix: u8) -> Route {
        Route {
            destination,
            prefix,
            oif: None,
            source: None,
            gateway: None,
        }
    }

    /// `dev OIF`: out of the interface with index `oif`.
    pub(crate) fn via_interface(mut self, oif: u32) -> Route {
        self.oif = Some(oif);
        self
    }

    /// `src SOURCE`: the source address for datagrams that take the route without one.
    pub(crate) fn source(mut self, source: IpAddr) -> Route {
        self.source = Some(source);
        self
    }

    /// `via GATEWAY`: through a router; without one the destination is on the link.
    pub(crate) fn gateway(mut self, gateway: IpAddr) -> Route {
        self.gateway = Some(gateway);
        self
    }

    fn message(&self) -> RouteMessage {
        let mut route = RouteMessage::default();
        route.header.address_family = family(self.destination);
        route.header.destination_prefix_length = self.prefix;
        route.header.table = RouteHeader::RT_TABLE_MAIN;
        route.header.protocol = RouteProtocol::Static;
        route.header.scope = if self.gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        route.header.kind = RouteType::Unicast;
        if self.prefix > 0 {
            route
                .attributes
                .push(RouteAttribute::Destination(route_address(self.destination)));
        }
        if let Some(oif) = self.oif {
            route.attributes.push(RouteAttribute::Oif(oif));
        }
        if let Some(source) = self.source {
            route
                .attributes
                .push(RouteAttribute::PrefSource(route_address(source)));
        }
        if let Some(gateway) = self.gateway {
            route
                .attributes
                .push(RouteAttribute::Gateway(route_address(gateway)));
        }
        route
    }
}

fn family(address: IpAddr) -> AddressFamily {
    match address {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn route_address(address: IpAddr) -> RouteAddress {
    match address {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Netlink attributes in `bytes`: (type without the nested flag, value).
fn attributes(mut bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if bytes.len() < 4 {
            return None;
        }
        let length = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3fff;
        if length < 4 || length > bytes.len() {
            return None;
        }
        let value = &bytes[4..length];
        bytes = &bytes[length.next_multiple_of(4).min(bytes.len())..];
        Some((kind, value))
    })
}

/// The (port, group) pairs in the attributes of one `RTM_NEWMDB` message: `MDBA_MDB` holds
/// `MDBA_MDB_ENTRY`s, each holding `MDBA_MDB_ENTRY_INFO`s, each a `struct br_mdb_entry`
/// (ifindex u32, state u8, flags u8, vid u16, address: 16 bytes, protocol big-endian u16).
fn mdb_entries(bytes: &[u8], out: &mut Vec<(u32, IpAddr)>) -> io::Result<()> {
    const MDBA_MDB: u16 = 1;
    const MDBA_MDB_ENTRY: u16 = 1;
    const MDBA_MDB_ENTRY_INFO: u16 = 1;
    const ETH_P_IP: u16 = 0x0800;
    const ETH_P_IPV6: u16 = 0x86dd;
    for (kind, mdb) in attributes(bytes) {
        if kind != MDBA_MDB {
            continue;
        }
        for (kind, entry) in attributes(mdb) {
            if kind != MDBA_MDB_ENTRY {
                continue;
            }
            for (kind, info) in attributes(entry) {
                if kind != MDBA_MDB_ENTRY_INFO {
                    continue;
                }
                if info.len() < 26 {
                    return Err(invalid("a short br_mdb_entry"));
                }
                let port = u32_at(info, 0);
                let address: [u8; 16] = info[8..24].try_into().unwrap();
                let group = match u16::from_be_bytes([info[24], info[25]]) {
                    ETH_P_IP => IpAddr::from([address[0], address[1], address[2], address[3]]),
                    ETH_P_IPV6 => IpAddr::from(address),
                    _ => continue, // a layer-2 entry (a MAC address)
                };
                out.push((port, group));
            }
        }
    }
    Ok(())
}
