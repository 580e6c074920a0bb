//! The lab's web view, looked at the way a person looks at it: in a real browser (headless
//! Chromium, driven over the DevTools protocol), and as JSON by a script.
//!
//! The browser test builds a lab `a b c` with the library (the same `Lab`, `Observer` and
//! `Server` that `cargo lab --web` starts), so that it can send the harness's hostile set
//! from host a; the other tests drive the `lab` binary itself. The browser and the server it
//! reads run in a network namespace of their own (a `Sandbox`, `lo` only, no route out): a
//! browser may try the network by itself (updates, discovery), and nothing of this test may
//! reach the machine's real one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::flood::Flood;
use harness::{Group, Listen, Running, Sandbox};
use lab::observe::Observer;
use lab::web::{Options, Server};
use lab::{Lab, Network};
use serde_json::{Value, json};

use crate::pcap;

const LAB: &str = env!("CARGO_BIN_EXE_lab");
/// Bounds a failure; never waited on the happy path.
const DEADLINE: Duration = Duration::from_secs(20);

/// Headless Chromium with its DevTools protocol on a WebSocket, one page attached.
struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<TcpStream>,
    session: String,
    next: u64,
    profile: PathBuf,
}

impl Browser {
    /// Starts Chromium in `room` (a throwaway profile; `--no-sandbox`, which root and a user
    /// namespace need) and opens `url` in a page 1100 px wide.
    fn open(room: &Sandbox, chromium: &Path, url: &str) -> Browser {
        let profile = pcap::scratch("chromium-profile");
        std::fs::create_dir_all(&profile).unwrap();
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .env("HOME", &profile)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = room.spawn(&mut command).unwrap();
        // Chromium says where its protocol listens on standard error.
        let mut said = BufReader::new(child.stderr.take().unwrap());
        let mut everything = String::new();
        let endpoint = loop {
            let mut line = String::new();
            if said.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!("chromium ended before it listened:\n{everything}");
            }
            everything.push_str(&line);
            if let Some(at) = line.find("ws://") {
                break line[at..].trim().to_owned();
            }
        };
        // The rest of what it says is read and dropped, so it never blocks writing.
        std::thread::spawn(move || std::io::copy(&mut said, &mut std::io::sink()));
        // ws://127.0.0.1:PORT/devtools/browser/ID, in the room: connected from there.
        let address = endpoint["ws://".len()..]
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let stream = room.run(|| TcpStream::connect(&address)).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let (socket, _) = tungstenite::client(endpoint.as_str(), stream).unwrap();
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next: 0,
            profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1100, "height": 1250, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser.call("Page.navigate", json!({"url": url}));
        browser
    }

    /// Sends one protocol command (to the page, once attached) and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(tungstenite::Message::text(message.to_string()))
            .unwrap();
        loop {
            let reply = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            let Ok(text) = reply.to_text() else { continue };
            let reply: Value = serde_json::from_str(text).unwrap();
            if reply["id"] == json!(id) {
                assert!(reply["error"].is_null(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page; panics with `what` and the page's text
    /// after [`DEADLINE`].
    fn wait_for(&mut self, what: &str, expression: &str) {
        let until = Instant::now() + DEADLINE;
        while self.eval(expression) != json!(true) {
            if Instant::now() > until {
                let page = self.eval("document.body.innerText");
                panic!("{what}: not within {DEADLINE:?}; the page shows:\n{page}");
            }
            // The page updates at most 10 times a second: no need to ask faster.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A PNG of the page.
    fn screenshot(&mut self) -> Vec<u8> {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        decode_base64(shot["data"].as_str().unwrap())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium's helpers are in its process group, which is its own (process_group(0)).
        let group = nix::unistd::Pid::from_raw(-(self.child.id() as i32));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    bytes
        .chunks(4)
        .flat_map(|chunk| {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &v)| n | u32::from(v) << (18 - 6 * i));
            let all = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            all.into_iter().take(chunk.len().saturating_sub(1))
        })
        .collect()
}

/// The hostile set's valid datagrams carry markup that would run if the page took it for
/// HTML, and a bidi override; the set adds terminal escapes and bytes that are not UTF-8.
fn hostile(n: u64, text: &str) -> Vec<u8> {
    format!(
        "{n} <script>window.pwned={n}</script><img src=x onerror=\"window.pwned={n}\">\u{202e}{text}"
    )
    .into_bytes()
}

/// In a real browser: b's join appears (with the source of a source-specific join), a's
/// datagram appears as a flow that reached b, and the hostile set shows as inert text:
/// nothing runs, no element is made, escapes and overrides are visible. With
/// `UPDATE_PICTURES=1` the test's screenshot replaces the book's
/// (`docs/src/pictures/lab-web.png`).
#[test]
fn the_page_shows_joins_flows_and_hostile_payloads_as_text() {
    let chromium = harness::or_skip!(harness::tool(harness::Capability::Chromium));
    let lab = harness::or_skip!(Lab::new(Network::Lan(vec![
        "a".into(),
        "b".into(),
        "c".into()
    ])));
    let room = harness::or_skip!(Sandbox::new());
    let observer = Arc::new(Observer::start(lab.entry()).unwrap());
    let server = room
        .run(|| Server::start(observer, Options::default()))
        .unwrap();
    let mut browser = Browser::open(&room, &chromium, &server.url());
    browser.wait_for("the page is live", "window.labUpdates > 0");
    browser.wait_for(
        "the picture with a counter on each cable",
        "document.querySelectorAll('#topology line[data-cable]').length === 3",
    );

    let group = Group::parse("239.1.2.3:5000").unwrap();
    let ssm = Group::parse("232.1.1.1:5001").unwrap();
    let a = lab.host("a").unwrap();
    let b = lab.host("b").unwrap();
    let on_b = b.listen(group).unwrap();
    let _ssm_on_b = b
        .listen_with(
            ssm,
            Listen::default().source(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        )
        .unwrap();
    browser.wait_for(
        "b's membership of 239.1.2.3",
        "[...document.querySelectorAll('#memberships tbody tr')]\
         .some(r => r.dataset.host === 'b' && r.dataset.group === '239.1.2.3')",
    );
    browser.wait_for(
        "b's source-specific membership of 232.1.1.1 from 10.0.0.1",
        "[...document.querySelectorAll('#memberships tbody tr')]\
         .some(r => r.dataset.host === 'b' && r.dataset.group === '232.1.1.1' \
                 && r.innerText.includes('include') && r.innerText.includes('10.0.0.1'))",
    );
    assert!(
        browser.eval(
            "[...document.querySelectorAll('#memberships tbody tr')]\
             .every(r => r.dataset.host === 'b')"
        ) == json!(true),
        "only b joined a group: {}",
        browser.eval("document.querySelector('#memberships').innerText")
    );

    a.run(|| {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
        socket.send_to(b"hello from a", group.socket_addr())
    })
    .unwrap();
    on_b.expect(1).within(DEADLINE).unwrap();
    browser.wait_for(
        "a's flow to 239.1.2.3:5000, reaching b",
        "[...document.querySelectorAll('#flows tbody tr')]\
         .some(r => r.dataset.group === '239.1.2.3:5000' \
                 && r.dataset.reached.split(' ').includes('b') \
                 && r.cells[0].textContent === 'a')",
    );

    Flood::new(5, hostile)
        .oversized(600)
        .send(a, group)
        .unwrap();
    browser.wait_for(
        "the hostile set in the log",
        "document.querySelector('#log').textContent.includes('<script>window.pwned=3</script>')",
    );
    let log = browser.eval("document.querySelector('#log tbody').textContent");
    let log = log.as_str().unwrap();
    for shown in [
        "<script>window.pwned=0</script>",
        "<img src=x onerror=\"window.pwned=0\">",
        "\\u{202e}",
        "␛[2J",
        "\u{fffd}",
    ] {
        assert!(
            log.contains(shown),
            "{shown:?} is not shown in the log: {log}"
        );
    }
    for raw in ['\u{1b}', '\u{202e}', '\u{9b}', '\u{7}'] {
        assert!(!log.contains(raw), "{raw:?} reached the page raw: {log:?}");
    }
    assert_eq!(
        browser.eval("typeof window.pwned"),
        json!("undefined"),
        "a payload ran"
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('#log script, #log img').length"),
        json!(0),
        "a payload became an element"
    );

    let shot = browser.screenshot();
    assert!(shot.starts_with(b"\x89PNG"), "not a PNG");
    let path = pcap::scratch("lab-web.png");
    std::fs::write(&path, &shot).unwrap();
    if std::env::var_os("UPDATE_PICTURES").is_some() {
        let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/pictures/lab-web.png");
        std::fs::write(book, &shot).unwrap();
    }
    let _ = std::fs::remove_file(path);
}

/// One HTTP GET to `address`, as a script would; the status line and the body.
fn get(address: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// A `lab` process started with `args` (no tmux, no build, a registry of the test's own)
/// and the page address it printed (with `--web`; without, once it is ready); `None` after a visible skip where no lab can be built.
fn start(registry: &Path, args: &[&str]) -> Option<(Running, String)> {
    let mut lab = Running::start_here(
        Command::new(LAB)
            .env("HARNESS_LAB_DIR", registry)
            .env_remove("CARGO")
            .args(["--no-tmux", "--no-build"])
            .args(args),
    )
    .unwrap();
    let until = Instant::now() + DEADLINE;
    loop {
        match lab.next_line(until) {
            Ok(line) => {
                if let Some(at) = line.find("http://") {
                    let url = line[at..].trim().to_owned();
                    return Some((lab, url));
                }
                if !args.contains(&"--web") && line.contains("is ready") {
                    return Some((lab, String::new()));
                }
            }
            Err(e) => {
                let stderr = lab.kill().join("\n");
                if stderr.contains("no network namespace") && !harness::sandbox_required() {
                    harness::skip_because(stderr.trim());
                    return None;
                }
                panic!("lab printed no address: {e}\n{stderr}");
            }
        }
    }
}

/// `lab --web a b` prints `http://127.0.0.1:PORT/`; `/state` there is JSON naming both
/// hosts with their addresses, and a request for another host name is refused.
#[test]
fn lab_web_prints_a_loopback_address_serving_the_state_as_json() {
    let registry = pcap::scratch("web-registry");
    std::fs::create_dir_all(&registry).unwrap();
    let Some((mut lab, url)) = start(&registry, &["--web", "a", "b"]) else {
        return;
    };
    let address = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not a loopback address: {url}"));
    let address = format!("127.0.0.1:{address}");
    let (status, body) = get(&address, "/state");
    assert!(status.contains("200"), "{status}");
    let state: Value = serde_json::from_str(&body).unwrap();
    let hosts: Vec<(&str, &Value)> = state["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap(),
                &h["interfaces"][0]["addresses"][0],
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [("a", &json!("10.0.0.1/24")), ("b", &json!("10.0.0.2/24"))]
    );
    // A page of another site, rebound to this address, names its own host.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /state HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut refused = String::new();
    stream.read_to_string(&mut refused).unwrap();
    assert!(refused.starts_with("HTTP/1.1 421"), "{refused}");
    // The end of its input ends the lab.
    lab.finish(Instant::now() + DEADLINE).unwrap();
    let _ = std::fs::remove_dir_all(&registry);
}

/// `lab web` serves a lab that is already running, found through the registry like
/// `lab shell`: a group joined in b with `lab exec` shows in its `/state`, then in its event
/// stream too, and the view ends when the lab does.
#[test]
fn lab_web_serves_a_running_lab_and_ends_with_it() {
    let registry = pcap::scratch("web-running");
    std::fs::create_dir_all(&registry).unwrap();
    let Some((mut lab, _)) = start(&registry, &["a", "b"]) else {
        return;
    };
    let mut web = Running::start_here(
        Command::new(LAB)
            .env("HARNESS_LAB_DIR", &registry)
            .args(["web"]),
    )
    .unwrap();
    let line = web.next_line(Instant::now() + DEADLINE).unwrap();
    let url = &line[line.find("http://").unwrap_or_else(|| panic!("{line}"))..];
    let address = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut receiver =
        Running::start_here(Command::new(LAB).env("HARNESS_LAB_DIR", &registry).args([
            "exec",
            "b",
            "--",
            "python3",
            "-c",
            JOIN,
            "239.1.2.9",
        ]))
        .unwrap();
    assert_eq!(
        receiver
            .next_line(Instant::now() + DEADLINE)
            .unwrap()
            .trim(),
        "joined"
    );
    let until = Instant::now() + DEADLINE;
    loop {
        let (_, body) = get(address, "/state");
        let state: Value = serde_json::from_str(&body).unwrap();
        let b = &state["hosts"][1];
        assert_eq!(b["name"], "b");
        if b["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["group"] == "239.1.2.9" && m["interface"] == "eth0")
        {
            break;
        }
        assert!(Instant::now() < until, "b's join is not in /state: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = receiver.kill();
    lab.finish(Instant::now() + DEADLINE).unwrap();
    let ended = web.next_line(Instant::now() + DEADLINE);
    assert!(
        ended.is_err(),
        "the web view went on after its lab: {ended:?}"
    );
    let said = web.finish(Instant::now() + DEADLINE);
    assert!(said.is_ok(), "{said:?}");
    let _ = std::fs::remove_dir_all(&registry);
}

/// Joins a group on every interface, says `joined`, and waits for its input to close.
const JOIN: &str = r#"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton(sys.argv[1]), socket.inet_aton("0.0.0.0")))
print("joined", flush=True)
sys.stdin.read()
"#;

/// A listen address that is not one, or `--listen` without `--web`, gets one line naming
/// the value and exit status 2, before any lab is built.
#[test]
fn a_bad_listen_address_gets_one_line() {
    for (args, said) in [
        (
            &["--web", "--listen", "localhost"][..],
            "--listen \"localhost\": expected ADDRESS:PORT",
        ),
        (
            &["--listen", "127.0.0.1:0"][..],
            "--listen is for the web view",
        ),
    ] {
        let out = Command::new(LAB)
            .args(["--no-tmux", "--no-build"])
            .args(args)
            .env_remove("CARGO")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
}
