//! Printing values the way the original Python programs print them.
//!
//! The originals print `bytes` objects and socket addresses with Python's own formatting:
//! `b'very important data'` and `('10.0.0.1', 10000)`. Keeping that formatting means a
//! transcript of our programs reads line for line like a transcript of the originals, and
//! the tests can compare the two directly.

use std::net::SocketAddr;

/// Formats bytes as Python's `repr(bytes)` does: `b'ack'`, `b'\x00\xff'`, `b"it's"`.
///
/// Printable ASCII stays as it is; tab, newline and carriage return become `\t`, `\n`,
/// `\r`; every other byte becomes `\xNN`. The quotes are single unless the bytes contain a
/// single quote and no double quote. So garbage never reaches the terminal raw.
pub(crate) fn bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut text = String::with_capacity(bytes.len() + 3);
    text.push('b');
    text.push(quote);
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str("\\\\"),
            b'\t' => text.push_str("\\t"),
            b'\n' => text.push_str("\\n"),
            b'\r' => text.push_str("\\r"),
            _ if byte as char == quote => {
                text.push('\\');
                text.push(quote);
            }
            0x20..0x7f => text.push(byte as char),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
    text.push(quote);
    text
}

/// Formats a socket address as Python prints the address tuple `recvfrom` returns:
/// `('10.0.0.1', 10000)` for IPv4 and `('fd00::1', 10000, 0, 0)` (address, port,
/// flow info, scope id) for IPv6.
pub(crate) fn address_tuple(address: SocketAddr) -> String {
    match address {
        SocketAddr::V4(v4) => format!("('{}', {})", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!(
            "('{}', {}, {}, {})",
            v6.ip(),
            v6.port(),
            v6.flowinfo(),
            v6.scope_id()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, SocketAddrV6};

    /// The article's message and the acknowledgement print as Python 3 prints them.
    #[test]
    fn plain_text_prints_as_python_bytes() {
        assert_eq!(bytes_repr(b"very important data"), "b'very important data'");
        assert_eq!(bytes_repr(b"ack"), "b'ack'");
        assert_eq!(bytes_repr(b""), "b''");
    }

    /// Binary garbage is escaped, never written raw to the terminal.
    #[test]
    fn garbage_is_escaped_like_python() {
        assert_eq!(
            bytes_repr(&[0x00, 0x7f, 0x80, 0xff, b'\n', b'\t', b'\r', b'\\']),
            r"b'\x00\x7f\x80\xff\n\t\r\\'"
        );
    }

    /// Python switches to double quotes when that saves escaping a single quote.
    #[test]
    fn quotes_are_chosen_like_python() {
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"it's \"x\""), r#"b'it\'s "x"'"#);
        assert_eq!(bytes_repr(b"say \"hi\""), r#"b'say "hi"'"#);
    }

    /// Addresses print as the tuples Python's `recvfrom` returns.
    #[test]
    fn addresses_print_as_python_tuples() {
        assert_eq!(
            address_tuple("192.168.1.17:51382".parse().unwrap()),
            "('192.168.1.17', 51382)"
        );
        let v6 = SocketAddrV6::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2), 10000, 0, 3);
        assert_eq!(address_tuple(v6.into()), "('fd00::2', 10000, 0, 3)");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever bytes a peer sends, their printed form is one line of printable ASCII
        /// between `b'` and a closing quote: no control character can reach a terminal.
        #[test]
        fn any_bytes_print_as_one_safe_line(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let shown = bytes_repr(&bytes);
            prop_assert!(shown.starts_with("b'") || shown.starts_with("b\""));
            prop_assert!(shown.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}", shown);
            prop_assert!(shown.len() >= bytes.len() + 3);
        }
    }
}
