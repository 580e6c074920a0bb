//! The chat window drawn on ratatui's `TestBackend`: what a person sees,
//! checked as snapshots, plus the keys that drive it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use ruby_port::{Action, ClientId, Entry, Event, Message, Rejection, Window};

fn from_peer(handle: &str, content: &str, source: &str) -> Event {
    Event::Message {
        message: Message::new(ClientId::from("0123456789"), handle, content),
        source: source.parse().unwrap(),
    }
}

fn draw(window: &Window, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| window.render(frame)).unwrap();
    terminal
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn type_text(window: &mut Window, text: &str) {
    for c in text.chars() {
        assert_eq!(window.handle_key(key(KeyCode::Char(c))), Action::None);
    }
}

fn a_conversation() -> Window {
    let mut window = Window::new(false);
    window.on_event(&from_peer("jules", "say what again", "10.0.0.2:6811"));
    window.push(Entry::sent(&Message::new(
        ClientId::from("aaaaaaaaaa"),
        "brett",
        "what?",
    )));
    window.on_event(&from_peer("jules", "say what again!", "10.0.0.2:6811"));
    window
}

/// The original's layout: history from the top as `<handle> content`, a
/// reverse-video ` [backchannel]` divider across the full width, input last.
#[test]
fn window_draws_history_divider_and_input_like_the_original() {
    let mut window = a_conversation();
    type_text(&mut window, "wh");
    let mut terminal = draw(&window, 40, 7);
    insta::assert_snapshot!(terminal.backend(), @r#"
    "<jules> say what again                  "
    "<brett> what?                           "
    "<jules> say what again!                 "
    "                                        "
    "                                        "
    " [backchannel]                          "
    "wh                                      "
    "#);
    let buffer = terminal.backend().buffer().clone();
    for x in 0..40 {
        assert!(
            buffer[(x, 5)].modifier.contains(Modifier::REVERSED),
            "divider cell {x}"
        );
        assert!(
            !buffer[(x, 4)].modifier.contains(Modifier::REVERSED),
            "history cell {x}"
        );
    }
    terminal.backend_mut().assert_cursor_position((2, 6));
}

/// Only the newest messages that fit are shown, newest at the bottom.
#[test]
fn only_the_newest_messages_that_fit_are_shown() {
    let mut window = Window::new(false);
    for n in 1..=20 {
        window.on_event(&from_peer("count", &n.to_string(), "10.0.0.2:6811"));
    }
    insta::assert_snapshot!(draw(&window, 20, 5).backend(), @r#"
    "<count> 18          "
    "<count> 19          "
    "<count> 20          "
    " [backchannel]      "
    "                    "
    "#);
}

/// Ctrl-T shows the observed source of each message (`[you]` for our own),
/// because the handle is only what the peer claims; Ctrl-T again hides it.
#[test]
fn ctrl_t_toggles_the_observed_source_address() {
    let mut window = a_conversation();
    window.on_event(&from_peer("jules", "it's me, really", "10.0.0.66:40000"));
    assert_eq!(window.handle_key(ctrl('t')), Action::None);
    insta::assert_snapshot!(draw(&window, 50, 6).backend(), @r#"
    "[10.0.0.2:6811] <jules> say what again            "
    "[you] <brett> what?                               "
    "[10.0.0.2:6811] <jules> say what again!           "
    "[10.0.0.66:40000] <jules> it's me, really         "
    " [backchannel]                      sources shown "
    "                                                  "
    "#);
    window.handle_key(ctrl('t'));
    assert!(!window.shows_source());
}

/// Peer text cannot drive the terminal: escapes, newlines and bidi overrides
/// are drawn as inert symbols on the message's own line, and datagrams that
/// were not messages only raise the count on the divider.
#[test]
fn hostile_peer_text_is_drawn_inert() {
    let mut window = Window::new(false);
    window.on_event(&from_peer(
        "eve\x1b[2J",
        "\x1b[31mred\r\n<bob> fake\u{202e}",
        "10.0.0.66:6811",
    ));
    let ignored = Event::Rejected {
        rejection: Rejection::NotUtf8,
        source: "10.0.0.66:6811".parse().unwrap(),
    };
    window.on_event(&ignored);
    window.on_event(&ignored);
    insta::assert_snapshot!(draw(&window, 50, 4).backend(), @r#"
    "<eve␛[2J> ␛[31mred␍␊<bob> fake\u{202e}            "
    "                                                  "
    " [backchannel]                          2 ignored "
    "                                                  "
    "#);
}

/// Resizing redraws everything to the new size: the divider spans the new
/// width, and fewer rows keep the newest lines.
#[test]
fn resizing_redraws_to_the_new_size() {
    let window = a_conversation();
    let mut terminal = draw(&window, 30, 6);
    terminal.backend_mut().resize(24, 4);
    terminal.draw(|frame| window.render(frame)).unwrap();
    insta::assert_snapshot!(terminal.backend(), @r#"
    "<brett> what?           "
    "<jules> say what again! "
    " [backchannel]          "
    "                        "
    "#);
    let buffer = terminal.backend().buffer().clone();
    assert!((0..24).all(|x| buffer[(x, 2)].modifier.contains(Modifier::REVERSED)));
}

/// Enter hands the typed line back to be sent and clears the input; an empty
/// line is not sent; Backspace and Ctrl-U edit; Esc and Ctrl-C quit.
#[test]
fn keys_edit_send_and_quit() {
    let mut window = Window::new(false);
    assert_eq!(window.handle_key(key(KeyCode::Enter)), Action::None);
    type_text(&mut window, "hellp");
    window.handle_key(key(KeyCode::Backspace));
    type_text(&mut window, "o");
    assert_eq!(
        window.handle_key(key(KeyCode::Enter)),
        Action::Send("hello".into())
    );
    assert_eq!(window.input(), "");
    type_text(&mut window, "oops");
    window.handle_key(ctrl('u'));
    assert_eq!(window.input(), "");
    assert_eq!(window.handle_key(key(KeyCode::Esc)), Action::Quit);
    assert_eq!(window.handle_key(ctrl('c')), Action::Quit);
}

/// A line longer than the screen scrolls so the cursor stays visible.
#[test]
fn long_input_scrolls_to_keep_the_cursor_visible() {
    let mut window = Window::new(false);
    type_text(&mut window, "abcdefghijklmnopqrstuvwxyz");
    let mut terminal = draw(&window, 16, 3);
    insta::assert_snapshot!(terminal.backend(), @r#"
    "                "
    " [backchannel]  "
    "lmnopqrstuvwxyz "
    "#);
    terminal.backend_mut().assert_cursor_position((15, 2));
}

/// The history is bounded: beyond its scrollback the oldest messages are
/// forgotten, so a flood of messages cannot grow the window without end.
#[test]
fn history_keeps_only_the_newest_scrollback_messages() {
    let mut window = Window::new(false).with_scrollback(100);
    for n in 1..=10_000 {
        window.on_event(&from_peer("flood", &n.to_string(), "10.0.0.66:6811"));
    }
    assert_eq!(window.len(), 100);
    insta::assert_snapshot!(draw(&window, 20, 4).backend(), @r#"
    "<flood> 9999        "
    "<flood> 10000       "
    " [backchannel]      "
    "                    "
    "#);
    assert_eq!(Window::new(false).len(), 0);
    let mut default = Window::new(false);
    for n in 0..Window::DEFAULT_SCROLLBACK + 5 {
        default.on_event(&from_peer("flood", &n.to_string(), "10.0.0.66:6811"));
    }
    assert_eq!(default.len(), Window::DEFAULT_SCROLLBACK);
}

/// A message longer than the screen is wrapped onto the rows it needs,
/// instead of being cut at the edge.
#[test]
fn long_messages_wrap_onto_several_rows() {
    let mut window = Window::new(false);
    window.on_event(&from_peer(
        "jules",
        "the path of the righteous man is beset on all sides",
        "10.0.0.2:6811",
    ));
    window.on_event(&from_peer("vincent", "ok", "10.0.0.3:6811"));
    insta::assert_snapshot!(draw(&window, 20, 7).backend(), @r#"
    "<jules> the path of "
    "the righteous man is"
    " beset on all sides "
    "<vincent> ok        "
    "                    "
    " [backchannel]      "
    "                    "
    "#);
}

/// PageUp scrolls back a screenful (less one row) and says so on the divider,
/// new arrivals do not move a scrolled view, PageDown returns to the newest.
#[test]
fn page_up_and_page_down_scroll_through_the_history() {
    let mut window = Window::new(false);
    for n in 1..=20 {
        window.on_event(&from_peer("count", &n.to_string(), "10.0.0.2:6811"));
    }
    let mut terminal = draw(&window, 30, 6);
    window.handle_key(key(KeyCode::PageUp));
    terminal.draw(|frame| window.render(frame)).unwrap();
    insta::assert_snapshot!(terminal.backend(), @r#"
    "<count> 14                    "
    "<count> 15                    "
    "<count> 16                    "
    "<count> 17                    "
    " [backchannel]    scrolled up "
    "                              "
    "#);
    window.on_event(&from_peer("count", "21", "10.0.0.2:6811"));
    terminal.draw(|frame| window.render(frame)).unwrap();
    assert!(
        format!("{:?}", terminal.backend()).contains("<count> 14"),
        "the view stays where it was"
    );
    for _ in 0..10 {
        window.handle_key(key(KeyCode::PageUp));
    }
    terminal.draw(|frame| window.render(frame)).unwrap();
    assert!(format!("{:?}", terminal.backend()).contains("<count> 1 "));
    for _ in 0..10 {
        window.handle_key(key(KeyCode::PageDown));
    }
    assert_eq!(window.scrolled(), 0);
    terminal.draw(|frame| window.render(frame)).unwrap();
    insta::assert_snapshot!(terminal.backend(), @r#"
    "<count> 18                    "
    "<count> 19                    "
    "<count> 20                    "
    "<count> 21                    "
    " [backchannel]                "
    "                              "
    "#);
}
