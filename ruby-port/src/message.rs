//! `Message`: one chat line on the wire, exactly as the Ruby gem writes it.
//!
//! A message is one JSON object per UDP datagram with three string keys, in
//! this order, without spaces:
//!
//! ```text
//! {"client_id":"3f9a0c11de","handle":"jules","content":"say what again"}
//! ```
//!
//! `client_id` is 5 random bytes as 10 lowercase hex characters, made once per
//! client; a client uses it to recognise (and skip) its own messages, which
//! multicast loops back to it. Readers take those three keys and ignore any
//! others, and read at most [`MAX_DATAGRAM`] bytes per datagram.
//!
//! The original's `Message.inflate` raises on anything else, inside the receive
//! thread, which then dies: silently on the Ruby of the article's time, printing the
//! exception once since Ruby 2.5 (`report_on_exception`); either way the chat receives
//! nothing more. [`Message::from_datagram`] instead says
//! why a datagram is not a message ([`Rejection`]) so the caller can count it
//! and carry on.
//!
//! A valid message longer than [`MAX_DATAGRAM`] (a Ruby peer would read only
//! its start) is not dropped: [`Message::cut`] keeps its start and marks the
//! cut with [`CUT_MARKER`], so a reader sees that something was left out and
//! no peer can make a listener hold more than about [`MAX_DATAGRAM`] bytes per
//! message.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most bytes a backchannel peer reads per datagram (`recvfrom(1024)` in
/// the gem). Longer messages reach Ruby peers cut off, so [`crate::Client`]
/// refuses to send them; it shows longer valid ones cut ([`Message::cut`]) and
/// rejects longer others as [`Rejection::Truncated`].
pub const MAX_DATAGRAM: usize = 1024;

/// What [`Message::cut`] puts at the end of a handle or content it shortened.
pub const CUT_MARKER: &str = "…[cut]";

/// The longest handle, in bytes, that [`Message::cut`] keeps.
const CUT_HANDLE: usize = 64;

/// Who sent a message: 10 lowercase hex characters chosen at random per client.
///
/// A peer can claim any id (and any handle); the id only serves to skip one's
/// own messages. Incoming ids are kept as the peer wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// A fresh id from 5 bytes of the kernel's random generator (`getrandom(2)`),
    /// like Ruby's `SecureRandom.hex(5)`.
    pub(crate) fn random() -> ClientId {
        let mut bytes = [0u8; 5];
        getrandom::fill(&mut bytes).expect("the kernel's random generator (getrandom(2))");
        ClientId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl From<&str> for ClientId {
    fn from(id: &str) -> ClientId {
        ClientId(id.to_string())
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One chat message: who (by id and claimed handle) said what.
///
/// Field order matters: serde writes fields in declaration order, which is the
/// order of the Ruby hash `{ client_id:, handle:, content: }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The sending client's random id.
    pub client_id: ClientId,
    /// The name the sender chose; a claim, not an identity.
    pub handle: String,
    /// The text of the message.
    pub content: String,
}

/// Why a datagram on the chat port is not a chat message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Longer than [`MAX_DATAGRAM`] bytes (so a Ruby peer reads only its
    /// start) and not a message either, or longer than the reader's buffer.
    #[error("{length} bytes, more than the {MAX_DATAGRAM} a peer reads")]
    Truncated {
        /// The datagram's real length.
        length: usize,
    },
    /// The bytes are not UTF-8 text.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// The text is not JSON.
    #[error("not JSON ({0})")]
    NotJson(String),
    /// JSON, but not an object (e.g. an array or a number).
    #[error("JSON but not an object")]
    NotAnObject,
    /// A required key is missing or not a string.
    #[error("no string `{0}`")]
    MissingKey(&'static str),
    /// `content` is empty; the original never sends an empty line.
    #[error("empty content")]
    EmptyContent,
}

impl Message {
    /// Builds a message.
    pub fn new(client_id: ClientId, handle: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            client_id,
            handle: handle.into(),
            content: content.into(),
        }
    }

    /// The wire form: compact JSON with the keys in the original's order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("three strings always serialise")
    }

    /// Reads one datagram's bytes as a message (the original's `inflate`):
    /// keys other than the three are ignored, anything else is a [`Rejection`].
    /// Does not check the length: see [`Rejection::Truncated`] for that.
    pub fn from_datagram(bytes: &[u8]) -> Result<Message, Rejection> {
        let text = std::str::from_utf8(bytes).map_err(|_| Rejection::NotUtf8)?;
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            // serde_json's message, without its " at line 1 column 5" tail.
            let full = e.to_string();
            let short = full.split(" at line").next().unwrap_or(&full).to_string();
            Rejection::NotJson(short)
        })?;
        let object = value.as_object().ok_or(Rejection::NotAnObject)?;
        let field = |key: &'static str| {
            object
                .get(key)
                .and_then(|v| v.as_str())
                .ok_or(Rejection::MissingKey(key))
        };
        let message = Message::new(
            ClientId::from(field("client_id")?),
            field("handle")?,
            field("content")?,
        );
        if message.content.is_empty() {
            return Err(Rejection::EmptyContent);
        }
        Ok(message)
    }

    /// The message cut to fit what a peer reads: a handle longer than 64 bytes
    /// and a content longer than [`MAX_DATAGRAM`] bytes minus the handle keep
    /// their start (at a character boundary) followed by [`CUT_MARKER`].
    /// Returns whether anything was cut.
    pub fn cut(&mut self) -> bool {
        let handle = cut_at(&mut self.handle, CUT_HANDLE);
        let room = MAX_DATAGRAM.saturating_sub(self.handle.len());
        let content = cut_at(&mut self.content, room);
        handle || content
    }
}

/// Shortens `text` to at most `limit` bytes plus [`CUT_MARKER`]; false if it fit.
fn cut_at(text: &mut String, limit: usize) -> bool {
    if text.len() <= limit {
        return false;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARKER);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The produced JSON is byte for byte what Ruby's `to_json` writes for the same hash.
    #[test]
    fn wire_format_matches_the_ruby_gem() {
        let m = Message::new(
            ClientId::from("3f9a0c11de"),
            "jules",
            "say \"what\" again\n",
        );
        assert_eq!(
            m.to_json(),
            r#"{"client_id":"3f9a0c11de","handle":"jules","content":"say \"what\" again\n"}"#
        );
        // Non-ASCII stays UTF-8 (Ruby's generator does not \u-escape it either).
        let m = Message::new(ClientId::from("0000000000"), "zoë", "ça va");
        assert_eq!(
            m.to_json(),
            r#"{"client_id":"0000000000","handle":"zoë","content":"ça va"}"#
        );
    }

    /// A message from a Ruby peer, extra keys and spacing included, reads back.
    #[test]
    fn messages_from_ruby_peers_parse() {
        let wire = br#"{ "handle": "vincent", "content": "royale with cheese", "client_id": "a1b2c3d4e5", "v": 2 }"#;
        let m = Message::from_datagram(wire).unwrap();
        assert_eq!(m.client_id, ClientId::from("a1b2c3d4e5"));
        assert_eq!(
            (m.handle.as_str(), m.content.as_str()),
            ("vincent", "royale with cheese")
        );
        assert_eq!(Message::from_datagram(m.to_json().as_bytes()), Ok(m));
    }

    /// Each kind of bad input gets its own reason instead of an exception.
    #[test]
    fn bad_datagrams_are_rejected_with_a_reason() {
        let cases: [(&[u8], Rejection); 6] = [
            (b"\xff\xfe", Rejection::NotUtf8),
            (b"[1,2]", Rejection::NotAnObject),
            (
                br#"{"client_id":"x","handle":"h"}"#,
                Rejection::MissingKey("content"),
            ),
            (
                br#"{"client_id":"x","handle":7,"content":"c"}"#,
                Rejection::MissingKey("handle"),
            ),
            (
                br#"{"client_id":"x","handle":"h","content":""}"#,
                Rejection::EmptyContent,
            ),
            (b"", Rejection::NotJson("EOF while parsing a value".into())),
        ];
        for (bytes, expected) in cases {
            assert_eq!(Message::from_datagram(bytes), Err(expected), "{bytes:?}");
        }
        assert!(matches!(
            Message::from_datagram(b"{oops"),
            Err(Rejection::NotJson(_))
        ));
    }

    /// A message too long for a peer keeps its start, cut at a character
    /// boundary, with the marker after it; a short one is left alone.
    #[test]
    fn long_messages_are_cut_with_a_visible_marker() {
        let mut short = Message::new(ClientId::from("0000000000"), "jules", "hi");
        assert!(!short.cut());
        assert_eq!(short.content, "hi");
        let mut long = Message::new(
            ClientId::from("0000000000"),
            "é".repeat(100),
            "ü".repeat(4000),
        );
        assert!(long.cut());
        assert_eq!(long.handle, format!("{}{CUT_MARKER}", "é".repeat(32)));
        assert!(long.content.ends_with(CUT_MARKER));
        assert!(long.content.starts_with("üü"));
        let kept = long.content.len() - CUT_MARKER.len();
        assert!(kept <= MAX_DATAGRAM - long.handle.len(), "{kept}");
        assert!(kept + 2 > MAX_DATAGRAM - long.handle.len(), "{kept}");
    }

    /// Ids are 10 lowercase hex characters and differ between clients.
    #[test]
    fn client_ids_are_ten_lowercase_hex_characters() {
        let a = ClientId::random();
        let b = ClientId::random();
        let text = a.to_string();
        assert_eq!(text.len(), 10);
        assert!(text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_ne!(a, b);
    }
}

/// Properties of the parser over arbitrary input: the network sends anything.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// No bytes make the parser panic; it answers a message or a reason.
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = Message::from_datagram(&bytes);
        }

        /// Text that looks almost like a message (JSON-ish characters) never panics either.
        #[test]
        fn json_like_text_parses_without_panic(text in r#"[{}\[\]":,a-z0-9 \\]{0,200}"#) {
            let _ = Message::from_datagram(text.as_bytes());
        }

        /// Every message with non-empty content survives the wire unchanged,
        /// whatever characters (controls, quotes, non-ASCII) it holds.
        #[test]
        fn valid_messages_round_trip(id in "[0-9a-f]{10}", handle in any::<String>(), content in any::<String>().prop_filter("non-empty", |c| !c.is_empty())) {
            let message = Message::new(ClientId::from(id.as_str()), handle, content);
            prop_assert_eq!(Message::from_datagram(message.to_json().as_bytes()), Ok(message));
        }

        /// Cutting keeps a message's start and bounds its size, for any text.
        #[test]
        fn cut_messages_are_bounded_prefixes(handle in any::<String>(), content in any::<String>()) {
            let original = Message::new(ClientId::from("0000000000"), handle, content);
            let mut cut = original.clone();
            cut.cut();
            let kept = |s: &str| s.strip_suffix(CUT_MARKER).unwrap_or(s).to_string();
            prop_assert!(original.handle.starts_with(&kept(&cut.handle)));
            prop_assert!(original.content.starts_with(&kept(&cut.content)));
            prop_assert!(cut.handle.len() + cut.content.len() <= MAX_DATAGRAM + 2 * CUT_MARKER.len());
        }
    }
}
