//! Waiting until a freshly built LAN carries traffic.
//!
//! Right after `harness::Lan::new` returns, the first datagram between two hosts is
//! sometimes lost (about 1 run in 5 on the machines this was written on), most likely
//! because a virtual link's transmit queue is activated only when the kernel has processed
//! its carrier event, a little after the link was set up. Until the harness waits for that
//! itself, [`settle`] does: every host sends probes to a throwaway group until every other
//! host has heard one. It polls a real condition; the deadline only bounds a failure.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use harness::{Group, Lan};

/// The throwaway group the probes go to. Its port (9, "discard") is used by nothing else
/// in the workspace.
const PROBE: &str = "239.255.0.1:9";

/// Returns once every host of `lan` has heard a probe from every other host, or an error
/// saying which pair never got through within `within`.
pub fn settle(lan: &Lan, within: Duration) -> Result<(), String> {
    let probe = Group::parse(PROBE).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + within;
    for sender in lan.hosts() {
        for receiver in lan.hosts().iter().filter(|h| h.name() != sender.name()) {
            let listener = receiver.listen(probe).map_err(|e| e.to_string())?;
            while listener.received().is_empty() {
                if Instant::now() > deadline {
                    return Err(format!(
                        "no probe from {} reached {} within {within:?}",
                        sender.name(),
                        receiver.name()
                    ));
                }
                sender
                    .run(|| UdpSocket::bind("0.0.0.0:0")?.send_to(b"probe", probe.socket_addr()))
                    .map_err(|e| format!("sending a probe from {}: {e}", sender.name()))?;
                let _ = listener.expect(1).within(Duration::from_millis(20));
            }
        }
    }
    Ok(())
}
