//! `send` and `receive`, the article's first two scripts, inside harness sandboxes.

use crate::common;

use std::io::ErrorKind;
use std::time::Duration;

use common::{DEADLINE, start};
use harness::{Lan, Sandbox};
use ruby_port::{Config, Error, Group, Interface, Receiver, Reuse, Ttl, send};

const SEND: &str = env!("CARGO_BIN_EXE_send");
const RECEIVE: &str = env!("CARGO_BIN_EXE_receive");

fn article_group() -> harness::Group {
    harness::Group::parse("224.0.0.1:3000").unwrap()
}

/// `send hello` puts one datagram on the wire exactly as send.rb does: to
/// 224.0.0.1:3000, TTL 1; in a sandbox it arrives over `lo`.
#[test]
fn send_puts_one_datagram_with_ttl_1_on_the_article_group() {
    let host = harness::or_skip!(Sandbox::new());
    let listener = host.listen(article_group()).unwrap();
    let out = host
        .output(std::process::Command::new(SEND).arg("hello"))
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "send.rb prints nothing; we printed {out:?}"
    );
    let got = listener.expect(1).within(DEADLINE).unwrap();
    assert_eq!(got[0].text(), "hello");
    assert_eq!(got[0].destination.to_string(), "224.0.0.1");
    assert_eq!(got[0].ttl, Some(1));
    assert_eq!(got[0].interface.name, "lo");
    listener.expect_none(Duration::from_millis(200)).unwrap();
}

/// `--ttl` reaches the IP header.
#[test]
fn ttl_option_sets_the_ttl_on_the_wire() {
    let host = harness::or_skip!(Sandbox::new());
    let listener = host.listen(article_group()).unwrap();
    let out = host
        .output(std::process::Command::new(SEND).args(["--ttl", "7", "seven"]))
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let got = listener.expect(1).within(DEADLINE).unwrap();
    assert_eq!((got[0].text().as_str(), got[0].ttl), ("seven", Some(7)));
}

/// The `receive` program prints what `send` sent, and with `--verbose` who
/// sent it, to which group and on which interface.
#[test]
fn receive_prints_what_send_sent() {
    let host = harness::or_skip!(Sandbox::new());
    let mut receiver = start(&host, RECEIVE, &["--verbose", "--count", "2"]);
    receiver.wait_stderr("waiting");
    for text in ["hello", "world"] {
        let out = host
            .output(std::process::Command::new(SEND).arg(text))
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let first = receiver.stdout_line();
    let second = receiver.stdout_line();
    assert_eq!(receiver.finish(), Some(0), "{}", receiver.report());
    // The source port is random: replace it before comparing.
    let filters = vec![(r":\d+ to", ":[port] to")];
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!(format!("{first}\n{second}"), @r"
        from 10.0.0.1:[port] to 224.0.0.1 on lo: hello
        from 10.0.0.1:[port] to 224.0.0.1 on lo: world
        ");
    });
}

/// Two receivers on one host both get every datagram: the reuse options let
/// them share the port, and the kernel hands each socket its own copy.
#[test]
fn two_receivers_on_one_host_both_get_each_datagram() {
    let host = harness::or_skip!(Sandbox::new());
    let mut first = start(&host, RECEIVE, &["-v", "-n", "1"]);
    let mut second = start(&host, RECEIVE, &["-v", "-n", "1"]);
    first.wait_stderr("waiting");
    second.wait_stderr("waiting");
    let out = host
        .output(std::process::Command::new(SEND).arg("to both"))
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(first.stdout_line().ends_with("on lo: to both"));
    assert!(second.stdout_line().ends_with("on lo: to both"));
    assert_eq!(first.finish(), Some(0));
    assert_eq!(second.finish(), Some(0));
}

/// What each reuse choice allows on Linux: same-option pairs share the port and
/// both get a copy; `SO_REUSEADDR` alone and `SO_REUSEPORT` alone cannot share;
/// setting both (our default) shares with either original.
#[test]
fn reuse_options_decide_who_may_share_the_port() {
    let host = harness::or_skip!(Sandbox::new());
    host.run(|| {
        // Each pair gets its own port: a socket closed here can live on for a
        // moment in a child that another test's thread forks, and would still
        // hold the port.
        let port = std::cell::Cell::new(3000);
        let shares = |a: Reuse, b: Reuse| -> Result<(), Error> {
            port.set(port.get() + 1);
            let group = Group::parse_address("224.0.0.1", port.get()).unwrap();
            let config = |reuse| Config::new(group, None).unwrap().with_reuse(reuse);
            let first = Receiver::join(&config(a))?;
            let second = Receiver::join(&config(b))?;
            send(&config(a), format!("{a:?}+{b:?}").as_bytes())?;
            for r in [&first, &second] {
                r.set_timeout(Some(DEADLINE))?;
                let got = r.recv().expect("each sharer gets its own copy");
                assert_eq!(got.payload, format!("{a:?}+{b:?}").as_bytes());
            }
            Ok(())
        };
        let in_use = |result: Result<(), Error>| match result {
            Err(Error::Socket { cause, .. }) => cause.kind() == ErrorKind::AddrInUse,
            _ => false,
        };
        shares(Reuse::Port, Reuse::Port).expect("SO_REUSEPORT pairs share (receive.rb twice)");
        shares(Reuse::Address, Reuse::Address).expect("SO_REUSEADDR pairs share (the gem twice)");
        shares(Reuse::Both, Reuse::Port).expect("both options share with receive.rb");
        shares(Reuse::Both, Reuse::Address).expect("both options share with the gem");
        assert!(
            in_use(shares(Reuse::Address, Reuse::Port)),
            "ADDR alone vs PORT alone"
        );
        assert!(
            in_use(shares(Reuse::Exclusive, Reuse::Both)),
            "an exclusive bind keeps the port"
        );
    });
}

/// Across a LAN: `send` on host a reaches `receive` on host b through eth0,
/// with a's address as the source.
#[test]
fn send_on_one_host_reaches_receive_on_another() {
    let lan = harness::or_skip!(Lan::new(["a", "b"]));
    let mut receiver = start(lan.host("b"), RECEIVE, &["-v", "-n", "1"]);
    receiver.wait_stderr("waiting");
    let out = lan
        .host("a")
        .output(std::process::Command::new(SEND).arg("over the wire"))
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = receiver.stdout_line();
    assert!(
        line.starts_with("from 10.0.0.1:")
            && line.ends_with(" to 224.0.0.1 on eth0: over the wire"),
        "{line}"
    );
}

/// IPv6: a link-local group works once an interface is named, and the
/// datagram arrives on that interface.
#[test]
fn ipv6_link_local_group_works_with_an_interface() {
    let host = harness::or_skip!(Sandbox::new());
    let args = ["--group", "ff02::6811", "--interface", "eth0"];
    let mut receiver = start(&host, RECEIVE, &[&args[..], &["-v", "-n", "1"]].concat());
    receiver.wait_stderr("waiting");
    let out = host
        .output(std::process::Command::new(SEND).args(args).arg("hej"))
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = receiver.stdout_line();
    assert!(line.ends_with(" to ff02::6811 on eth0: hej"), "{line}");
    // The source is eth0's link-local address: RFC 6724 prefers a source of the
    // group's scope, and the sandbox is ready only once that address exists.
    assert!(
        line.starts_with("from [fe80::"),
        "sent from eth0's link-local address: {line}"
    );
}

/// Without `--interface`, a link-local IPv6 group is refused before any socket
/// is made, with a message that says what to add.
#[test]
fn link_local_ipv6_group_without_interface_is_refused() {
    let host = harness::or_skip!(Sandbox::new());
    for program in [SEND, RECEIVE] {
        let mut cmd = std::process::Command::new(program);
        cmd.args(["--group", "ff02::1"]);
        if program == SEND {
            cmd.arg("x");
        }
        let out = host.output(&mut cmd).unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim_end(),
            "error: ff02::1 is a link-local IPv6 group: it exists once per link, \
             so it needs an interface (e.g. --interface eth0)"
        );
    }
}

/// The library functions work as the programs do: join, send, receive; with the
/// payload, the group and the arrival interface to show for it.
#[test]
fn library_send_and_receive_report_the_arrival_interface() {
    let host = harness::or_skip!(Sandbox::new());
    host.run(|| {
        let config = Config::new(Group::parse_address("239.1.2.3", 4567).unwrap(), None)
            .unwrap()
            .with_ttl(Ttl(2));
        let receiver = Receiver::join(&config).unwrap();
        receiver.set_timeout(Some(DEADLINE)).unwrap();
        assert_eq!(send(&config, b"tour").unwrap(), 4);
        let got = receiver.recv().unwrap();
        assert_eq!(got.payload, b"tour");
        assert_eq!(got.destination.unwrap().to_string(), "239.1.2.3");
        assert_eq!(got.interface, Some(Interface::named("lo").unwrap()));
        assert!(!got.truncated());
    });
}

/// A datagram longer than the read buffer is reported as truncated with its
/// real length (the article's `recvfrom(255)` cuts it silently).
#[test]
fn truncation_is_detected_not_silent() {
    let host = harness::or_skip!(Sandbox::new());
    host.run(|| {
        let config = Config::send_receive();
        let receiver = Receiver::join(&config).unwrap().with_buffer_size(255);
        receiver.set_timeout(Some(DEADLINE)).unwrap();
        send(&config, &[b'x'; 1000]).unwrap();
        let got = receiver.recv().unwrap();
        assert_eq!((got.payload.len(), got.length), (255, 1000));
        assert!(got.truncated());
        assert!(
            got.display(false)
                .to_string()
                .ends_with("[truncated: read 255 of 1000 bytes]")
        );
    });
}

/// Honest about the kernel: a socket bound to the wildcard address (as the
/// article binds) also gets datagrams for a group it never joined, when another
/// socket on the host joined that group on the same port (Linux's
/// `IP_MULTICAST_ALL` is on by default).
#[test]
fn wildcard_bound_receivers_also_get_groups_joined_by_others_on_the_port() {
    let host = harness::or_skip!(Sandbox::new());
    host.run(|| {
        let config = |ip| Config::new(Group::parse_address(ip, 5000).unwrap(), None).unwrap();
        let ours = Receiver::join(&config("239.1.1.1")).unwrap();
        let _theirs = Receiver::join(&config("239.2.2.2")).unwrap();
        ours.set_timeout(Some(DEADLINE)).unwrap();
        send(&config("239.2.2.2"), b"not for us").unwrap();
        let got = ours
            .recv()
            .expect("delivered although we never joined 239.2.2.2");
        assert_eq!(got.destination.unwrap().to_string(), "239.2.2.2");
    });
}

/// `receive | head -1` ends quietly once head has its line: the next write
/// finds the pipe closed and the program exits with status 0, no panic.
#[test]
fn receive_piped_into_head_ends_quietly() {
    let host = harness::or_skip!(Sandbox::new());
    let command = format!("{RECEIVE} --verbose");
    let (status, stderr) = common::piped_into_head(&host, &command, "waiting", || {
        host.run(|| send(&Config::send_receive(), b"line")).unwrap();
    });
    assert_eq!(status, "0", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
