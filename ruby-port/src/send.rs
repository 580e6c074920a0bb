//! `send.rb`: one datagram to the group, then close.

use crate::config::Config;
use crate::error::Error;
use crate::membership;

/// Sends `payload` as one UDP datagram to `config`'s group and returns the
/// number of bytes sent.
///
/// Mirrors `send.rb`: open a UDP socket, set the multicast TTL (1 by default, so
/// no router forwards it), `sendto()` the group, close. Nobody needs to be
/// listening; multicast has no connection and no acknowledgement.
pub fn send(config: &Config, payload: &[u8]) -> Result<usize, Error> {
    let socket = membership::sender(config)?;
    let to = config.destination();
    Error::step_on(
        config.interface(),
        || format!("sending {} bytes to {to}", payload.len()),
        socket.send_to(payload, &to.into()),
    )
}
