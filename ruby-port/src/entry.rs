//! [`Entry`]: one message as the chat shows it, in the window and in the line mode
//! (`chat --plain`), which does not need the window's terminal crates.

use std::net::SocketAddr;

use crate::message::Message;
use mcast_vocab::sanitize::sanitize;

/// One line of history, already made safe to display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The sender's handle, sanitised.
    pub handle: String,
    /// The content, sanitised.
    pub content: String,
    /// Where the datagram came from; `None` for lines typed here.
    pub source: Option<SocketAddr>,
}

impl Entry {
    /// A message that arrived from `source`.
    pub fn received(message: &Message, source: SocketAddr) -> Entry {
        Entry {
            handle: sanitize(&message.handle),
            content: sanitize(&message.content),
            source: Some(source),
        }
    }

    /// A message this client sent (the original adds it to the history itself).
    pub fn sent(message: &Message) -> Entry {
        Entry {
            handle: sanitize(&message.handle),
            content: sanitize(&message.content),
            source: None,
        }
    }

    /// The line as shown: `<handle> content`, or with `show_source`
    /// `[10.0.0.2:6811] <handle> content` (`[you]` for lines sent from here).
    pub fn line(&self, show_source: bool) -> String {
        let text = format!("<{}> {}", self.handle, self.content);
        if !show_source {
            return text;
        }
        match self.source {
            Some(source) => format!("[{source}] {text}"),
            None => format!("[you] {text}"),
        }
    }
}
