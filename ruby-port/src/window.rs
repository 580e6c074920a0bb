//! `Window`: the chat screen as plain state plus one `render` function.
//!
//! The Ruby `Window` draws with curses: the message history from the top of the
//! screen, one `<handle> content` line per message, newest at the bottom and
//! only as many as fit; above the last line a reverse-video divider reading
//! ` [backchannel]` across the full width; the last line is where you type.
//!
//! Here the state ([`Window`]) knows nothing about terminals: it takes
//! [`Event`]s from the client and key presses from the user, and
//! [`Window::render`] draws it into any ratatui [`Frame`]. That split is what
//! lets the tests draw it on ratatui's `TestBackend` and compare the screen
//! with a snapshot; [`crate::terminal`] connects it to a real terminal.
//!
//! Added to the original: every peer string is passed through
//! [`crate::sanitize()`] before it is stored, `Ctrl-T` toggles each message's
//! observed source address (a handle is only a claim), and the right end of
//! the divider counts datagrams that were not messages.
//!
//! Also added, because a group is open to anyone: the history keeps only the
//! newest [`Window::DEFAULT_SCROLLBACK`] messages (or as many as
//! [`Window::with_scrollback`] says), so a flood cannot grow it without end; a
//! message longer than the screen is wrapped onto as many rows as it needs;
//! PageUp and PageDown scroll through the history a screen at a time.

use std::cell::Cell;
use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::client::Event;
use crate::entry::Entry;
use mcast_vocab::sanitize::sanitize;

/// The divider's text, as in the original.
const DIVIDER: &str = " [backchannel]";

/// What the program should do after a key press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond redrawing.
    None,
    /// Transmit this line (Enter on a non-empty input line).
    Send(String),
    /// Leave (Esc or Ctrl-C).
    Quit,
}

/// The chat screen's state: history, input line, display options.
#[derive(Debug, Clone)]
pub struct Window {
    history: VecDeque<Entry>,
    scrollback: usize,
    /// How many rows of history are hidden below the screen (0: at the bottom).
    scrolled: usize,
    input: String,
    show_source: bool,
    ignored: u64,
    /// The width and number of history rows of the last render, so paging and
    /// keeping the view still while scrolled know how lines wrap.
    last_width: Cell<usize>,
    last_rows: Cell<usize>,
}

impl Window {
    /// How many messages the history keeps unless told otherwise.
    pub const DEFAULT_SCROLLBACK: usize = 2000;

    /// The most messages a history may be asked to keep: at about 1 KiB per
    /// message at most ([`crate::MAX_DATAGRAM`], [`crate::Message::cut`]),
    /// some 100 MiB.
    pub const MAX_SCROLLBACK: usize = 100_000;

    /// An empty window keeping [`Window::DEFAULT_SCROLLBACK`] messages;
    /// `show_source` starts with source addresses shown.
    pub fn new(show_source: bool) -> Window {
        Window {
            history: VecDeque::new(),
            scrollback: Self::DEFAULT_SCROLLBACK,
            scrolled: 0,
            input: String::new(),
            show_source,
            ignored: 0,
            last_width: Cell::new(80),
            last_rows: Cell::new(22),
        }
    }

    /// The same window keeping at most `messages` messages (at least one):
    /// older ones are forgotten as new ones arrive.
    pub fn with_scrollback(mut self, messages: usize) -> Window {
        self.scrollback = messages.max(1);
        self.trim();
        self
    }

    /// How many messages the history holds now.
    pub fn len(&self) -> usize {
        self.history.len()
    }

    /// Whether the history is empty.
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// Adds a line at the bottom of the history (the original's `new_message`),
    /// forgetting the oldest beyond the scrollback. While scrolled up, the
    /// view stays on the lines it shows.
    pub fn push(&mut self, entry: Entry) {
        if self.scrolled > 0 {
            self.scrolled += self.rows_of(&entry, self.last_width.get());
        }
        self.history.push_back(entry);
        self.trim();
    }

    fn trim(&mut self) {
        while self.history.len() > self.scrollback {
            self.history.pop_front();
        }
    }

    /// How many screen rows `entry` takes at `width` columns.
    fn rows_of(&self, entry: &Entry, width: usize) -> usize {
        wrap(&entry.line(self.show_source), width).len()
    }

    /// The most rows the view can be scrolled up: all rows but one screenful.
    fn max_scroll(&self) -> usize {
        let width = self.last_width.get();
        let total: usize = self.history.iter().map(|e| self.rows_of(e, width)).sum();
        total.saturating_sub(self.last_rows.get())
    }

    /// One screenful of rows, less one row kept for context.
    fn page(&self) -> usize {
        self.last_rows.get().saturating_sub(1).max(1)
    }

    /// Takes an event from the client: a message joins the history, a rejected
    /// datagram only raises the count on the divider.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::Message { message, source } => self.push(Entry::received(message, *source)),
            Event::Rejected { .. } => self.ignored += 1,
        }
    }

    /// What is typed on the input line so far.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Whether source addresses are shown.
    pub fn shows_source(&self) -> bool {
        self.show_source
    }

    /// How many rows of history are hidden below the screen (0 when the
    /// newest message is in view).
    pub fn scrolled(&self) -> usize {
        self.scrolled
    }

    /// Edits the input line; Enter hands the line back as [`Action::Send`]
    /// (empty lines are not sent, as in the original), Esc and Ctrl-C quit,
    /// Ctrl-T toggles source addresses, Ctrl-U clears the line, PageUp and
    /// PageDown scroll the history by a screenful.
    pub fn handle_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => Action::Quit,
            KeyCode::Char('c') if ctrl => Action::Quit,
            KeyCode::Char('t') if ctrl => {
                self.show_source = !self.show_source;
                Action::None
            }
            KeyCode::Char('u') if ctrl => {
                self.input.clear();
                Action::None
            }
            KeyCode::Char(c) if !ctrl => {
                self.input.push(c);
                Action::None
            }
            KeyCode::PageUp => {
                self.scrolled = (self.scrolled + self.page()).min(self.max_scroll());
                Action::None
            }
            KeyCode::PageDown => {
                self.scrolled = self
                    .scrolled
                    .min(self.max_scroll())
                    .saturating_sub(self.page());
                Action::None
            }
            KeyCode::Backspace => {
                self.input.pop();
                Action::None
            }
            KeyCode::Enter if !self.input.is_empty() => {
                Action::Send(std::mem::take(&mut self.input))
            }
            _ => Action::None,
        }
    }

    /// Draws the window over the whole frame: history rows, divider, input line.
    pub fn render(&self, frame: &mut Frame) {
        let area = frame.area();
        if area.height == 0 || area.width == 0 {
            return;
        }
        let input_y = area.bottom() - 1;
        let rows = area.height.saturating_sub(2);

        // History: wrapped rows, newest at the bottom once the screen is
        // full; only the newest messages that reach the screen are wrapped.
        let width = usize::from(area.width);
        let wanted = self.scrolled + usize::from(rows);
        self.last_width.set(width);
        self.last_rows.set(usize::from(rows));
        let mut newest_first: Vec<String> = Vec::new();
        for entry in self.history.iter().rev() {
            if newest_first.len() >= wanted {
                break;
            }
            let mut entry_rows = wrap(&entry.line(self.show_source), width);
            entry_rows.reverse();
            newest_first.extend(entry_rows);
        }
        // Scrolled past the oldest row: show the oldest screenful.
        let skip = self
            .scrolled
            .min(newest_first.len().saturating_sub(usize::from(rows)));
        let lines: Vec<Line> = newest_first
            .into_iter()
            .skip(skip)
            .take(usize::from(rows))
            .rev()
            .map(Line::raw)
            .collect();
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(area.x, area.y, area.width, rows),
        );

        // Divider: reverse video across the full width.
        if area.height >= 2 {
            let divider = Rect::new(area.x, input_y - 1, area.width, 1);
            frame.render_widget(
                Paragraph::new(self.divider_text(usize::from(area.width)))
                    .style(Style::default().add_modifier(Modifier::REVERSED)),
                divider,
            );
        }

        // Input line: the tail of what is typed, so the cursor stays visible.
        let width = usize::from(area.width).saturating_sub(1);
        let typed: Vec<char> = self.input.chars().collect();
        let visible: String = typed[typed.len().saturating_sub(width)..].iter().collect();
        let cursor_x = area.x + visible.chars().count() as u16;
        frame.render_widget(
            Paragraph::new(sanitize(&visible)),
            Rect::new(area.x, input_y, area.width, 1),
        );
        frame.set_cursor_position((cursor_x, input_y));
    }

    fn divider_text(&self, width: usize) -> String {
        let mut status = Vec::new();
        if self.scrolled > 0 {
            status.push("scrolled up".to_string());
        }
        if self.show_source {
            status.push("sources shown".to_string());
        }
        if self.ignored > 0 {
            status.push(format!("{} ignored", self.ignored));
        }
        let right = if status.is_empty() {
            String::new()
        } else {
            format!("{} ", status.join(" · "))
        };
        let left_len = DIVIDER.chars().count();
        let right_len = right.chars().count();
        if left_len + 1 + right_len > width {
            return format!("{DIVIDER:<width$}");
        }
        format!(
            "{DIVIDER}{}{right}",
            " ".repeat(width - left_len - right_len)
        )
    }
}

/// `line` cut into rows of `width` characters (one empty row for an empty line).
///
/// Counts characters, not display columns: wide (CJK, emoji) characters make a
/// row longer than the screen, and ratatui cuts it at the edge.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let chars: Vec<char> = line.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width)
        .map(|row| row.iter().collect())
        .collect()
}
