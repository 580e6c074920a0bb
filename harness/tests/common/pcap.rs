//! Reading pcap files in tests: an independent parser, and tshark where it is installed.

use std::net::Ipv4Addr;
use std::process::Command;

/// One IPv4/UDP record of a pcap file: source, destination, TTL, payload.
pub(crate) type Record = (Ipv4Addr, Ipv4Addr, u8, Vec<u8>);

/// Reads a classic little-endian, microsecond pcap file of Ethernet frames, written from the
/// format's description (`pcap-savefile(5)`), not with the harness's writer.
pub(crate) fn udp_records(file: &[u8]) -> Vec<Record> {
    assert!(file.len() >= 24, "no pcap header");
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(file, 0), 0xa1b2_c3d4, "magic");
    assert_eq!(u32_at(file, 20), 1, "link type: Ethernet");
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= file.len() {
        let length = u32_at(file, at + 8) as usize;
        let Some(frame) = file.get(at + 16..at + 16 + length) else {
            break;
        };
        at += 16 + length;
        if frame.len() < 14 + 20 + 8 || frame[12..14] != [0x08, 0x00] || frame[14 + 9] != 17 {
            continue;
        }
        let ip = &frame[14..];
        let header = usize::from(ip[0] & 0x0f) * 4;
        let source = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let destination = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        let udp = &ip[header..];
        let udp_length = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        records.push((source, destination, ip[8], udp[8..udp_length].to_vec()));
    }
    records
}

/// What tshark reads from `path`: `source destination ttl` per UDP datagram, or `None`
/// (after a `skipped:` line) where tshark is not installed.
pub(crate) fn tshark_udp(path: &std::path::Path) -> Option<Vec<String>> {
    let tshark = harness::skip_unless_available(harness::tool(harness::Capability::Tshark))?;
    let out = Command::new(tshark)
        .arg("-r")
        .arg(path)
        .args([
            "-Y", "udp", "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.ttl",
        ])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect(),
    )
}

/// A path for a test's scratch file or directory `name`: under cargo's temporary directory
/// for tests (`target/tmp`, which `cargo clean` empties), so that a test killed with
/// `kill -9` leaves nothing in the machine's `/tmp`; the machine's `/tmp` only where that
/// directory is not ours to write (the test binaries run as another user in CI).
#[allow(dead_code)] // not every test binary that includes this file uses it
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let ours = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let probe = ours.join(format!(".probe-{}", std::process::id()));
    let writable = std::fs::create_dir_all(ours).is_ok() && std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    let base = if writable {
        ours.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("{name}-{}", std::process::id()))
}

/// Runs the test `child` of this test binary again, alone, with `HARNESS_PCAP_DIR` set to a
/// fresh directory and `HARNESS_RECORDING_CHILD=1` (which makes it fail on purpose), and
/// returns that directory and everything the child printed. Fails unless the child failed.
#[allow(dead_code)] // the lab's and the book's tests include this file for the readers alone
pub(crate) fn run_failing_child(child: &str) -> (std::path::PathBuf, String) {
    let dir = scratch(&format!("harness-{}", child.replace("::", "-")));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child, "--nocapture"])
        .env("HARNESS_PCAP_DIR", &dir)
        .env("HARNESS_RECORDING_CHILD", "1")
        .env_remove("HARNESS_PAUSE")
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child test must fail: {said}");
    (dir, said)
}
