//! Terminal (and page) safety: text from the network is shown, never obeyed.
//!
//! A peer chooses every byte it sends: a chat peer its handle and its content. Printed raw, a byte
//! such as ESC (`\x1b`) starts a terminal escape sequence that can move the
//! cursor, recolour the screen, set the window title or clear what you read; a
//! newline or carriage return can fake a second message from someone else; a
//! Unicode bidi override (`U+202E`) can make text read backwards. The Ruby
//! client hands peer text to curses as it is. The chat (`ruby-port`) shows
//! peer text through this; so does the lab's web view (`cargo lab --web`),
//! whose page then puts it in the document as text, never as markup.
//!
//! [`sanitize`] keeps every printable character and replaces the rest with
//! something visible and inert:
//!
//! - C0 controls `0x00..=0x1f` (tab, newline, ESC, ...) become their Unicode
//!   "control pictures" `␀..␟` (`\n` shows as `␊`, ESC as `␛`), and DEL as `␡`;
//! - C1 controls `0x80..=0x9f` (CSI `0x9b` acts like `ESC [` on some
//!   terminals), bidi embeddings/overrides/isolates and the Unicode line and
//!   paragraph separators become escapes such as `\u{202e}`.
//!
//! Left out on purpose: zero-width characters and look-alike letters, which
//! can mislead a reader but cannot drive the terminal.

/// Returns `text` with every character that could drive a terminal replaced by
/// a visible stand-in; see the module docs for the rules.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{0}'..='\u{1f}' => {
                out.push(char::from_u32(0x2400 + c as u32).expect("control pictures exist"))
            }
            '\u{7f}' => out.push('\u{2421}'),
            c if is_escaped(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn is_escaped(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{9f}'          // C1 controls
        | '\u{61c}'                  // Arabic letter mark
        | '\u{200e}' | '\u{200f}'    // left-to-right / right-to-left marks
        | '\u{202a}'..='\u{202e}'    // embeddings and overrides
        | '\u{2066}'..='\u{2069}'    // isolates
        | '\u{2028}' | '\u{2029}'    // line and paragraph separators
    )
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    /// Ordinary text, including non-ASCII letters and emoji, passes unchanged.
    #[test]
    fn printable_text_is_kept() {
        assert_eq!(sanitize("héllo wörld ✓ 日本"), "héllo wörld ✓ 日本");
    }

    /// An escape sequence and a newline cannot act: both are shown as pictures.
    #[test]
    fn escapes_and_newlines_become_visible() {
        assert_eq!(
            sanitize("\x1b[2J\x1b[31mred\r\n<eve> hi"),
            "␛[2J␛[31mred␍␊<eve> hi"
        );
        assert_eq!(sanitize("\t\x07\x7f"), "␉␇␡");
    }

    /// C1 controls and bidi overrides become `\u{..}` escapes.
    #[test]
    fn c1_controls_and_bidi_overrides_are_escaped() {
        assert_eq!(sanitize("a\u{9b}2Jb"), "a\\u{9b}2Jb");
        assert_eq!(sanitize("\u{202e}olleh\u{2066}"), "\\u{202e}olleh\\u{2066}");
    }

    /// Nothing in the output is a control character any more, whatever the input.
    #[test]
    fn no_control_character_survives() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let clean = sanitize(&all);
        assert!(
            !clean
                .chars()
                .any(|c| c.is_control() || super::is_escaped(c))
        );
    }
}
