//! The lab's live web view (`cargo lab --web`, `cargo lab web`): a page, served by the lab
//! binary itself, that shows what an [`Observer`] sees, and the same state as JSON.
//!
//! | path | what |
//! |---|---|
//! | `/` | the page (`index.html`, `app.js`, `style.css`: no CDN, no build step) |
//! | `/picture.svg` | the lab's picture, drawn by [`crate::picture`] as the book's are |
//! | `/state` | the whole [`State`] as JSON |
//! | `/events` | server-sent events: one `state` event with the whole [`State`] at once, then one after each change, at most one per [`UPDATE_PERIOD`] (changes in between are coalesced) |
//!
//! **Safe by default.** The server binds to `127.0.0.1` unless [`Options::listen`] says
//! otherwise; on loopback it answers only requests whose `Host` is a loopback name (so a
//! web page elsewhere cannot read it through DNS rebinding). It is read-only: every route
//! is a `GET`, nothing on the page runs anything. Peer bytes reach it already made inert
//! ([`mcast_vocab::sanitize`]), and the page puts them into the document with
//! `textContent` only, never as markup; the `Content-Security-Policy` header allows no
//! inline script, so even markup that got in would not run.
//!
//! **Bounded.** Every client gets the latest state, never a queue of old ones (a `watch`
//! channel), so a slow page costs memory for one state, and the state itself is capped by
//! the observer.

pub mod bench;

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as Extract};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::Stream;
use tokio::sync::watch;

pub use crate::observe::{Observer, State};

/// The page updates at most once per this period (about 10 times a second).
pub const UPDATE_PERIOD: Duration = Duration::from_millis(100);

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                      frame-ancestors 'none'";

/// Where the server listens.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The address to bind; port 0 picks a free one. `127.0.0.1:0` by default.
    pub listen: SocketAddr,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// A running web view. Dropping it stops the server and closes every connection (the
/// observer stops when its last holder drops it).
pub struct Server {
    address: SocketAddr,
    updates: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves `observer` as the module docs say; returns once the socket listens.
    pub fn start(observer: Arc<Observer>, options: Options) -> std::io::Result<Server> {
        let listener = TcpListener::bind(options.listen).map_err(|e| {
            std::io::Error::new(e.kind(), format!("listening on {}: {e}", options.listen))
        })?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let updates = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let counted = updates.clone();
        let thread = std::thread::Builder::new()
            .name("web view".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let first = Arc::<str>::from(json(&observer.snapshot()));
                    let (tx, rx) = watch::channel(first);
                    tokio::spawn(publish(observer.clone(), tx, counted));
                    let app = router(observer, rx, address);
                    tokio::spawn(async move { axum::serve(listener, app).await });
                    let _ = stopped.await;
                });
                // Dropping the runtime drops every task: open event streams end with it.
                drop(runtime);
            })?;
        Ok(Server {
            address,
            updates,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The page's address, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// How many updates it has published (each to every open page) since it started.
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn json(state: &State) -> String {
    serde_json::to_string(state).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Publishes the state after each change, at most once per [`UPDATE_PERIOD`].
async fn publish(observer: Arc<Observer>, tx: watch::Sender<Arc<str>>, updates: Arc<AtomicU64>) {
    let mut published = observer.version();
    let mut tick = tokio::time::interval(UPDATE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let version = observer.version();
        if version == published {
            continue;
        }
        published = version;
        let text = Arc::<str>::from(json(&observer.snapshot()));
        updates.fetch_add(1, Ordering::Relaxed);
        if tx.send(text).is_err() {
            return;
        }
    }
}

#[derive(Clone)]
struct Shared {
    observer: Arc<Observer>,
    states: watch::Receiver<Arc<str>>,
    address: SocketAddr,
}

fn router(
    observer: Arc<Observer>,
    states: watch::Receiver<Arc<str>>,
    address: SocketAddr,
) -> Router {
    let shared = Shared {
        observer,
        states,
        address,
    };
    Router::new()
        .route(
            "/",
            get(|| async { text("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { text("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/style.css",
            get(|| async { text("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/picture.svg",
            get(|Extract(shared): Extract<Shared>| async move {
                text("image/svg+xml", shared.observer.picture().to_owned())
            }),
        )
        .route(
            "/state",
            get(|Extract(shared): Extract<Shared>| async move {
                let state = shared.states.borrow().clone();
                text("application/json", state.to_string())
            }),
        )
        .route("/events", get(events))
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// A response with the page's security headers.
fn text(kind: &'static str, body: impl Into<String>) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// On a loopback address, answers only requests for a loopback name: a page of another
/// site that a browser was tricked into sending here (DNS rebinding) names its own host.
async fn guard(Extract(shared): Extract<Shared>, request: Request, next: Next) -> Response {
    if shared.address.ip().is_loopback() {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "this lab's web view answers only to 127.0.0.1 or localhost\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

async fn events(
    Extract(shared): Extract<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut states = shared.states.clone();
    // The current state first, then each change.
    states.mark_changed();
    let stream = futures_util::stream::unfold(states, |mut states| async move {
        states.changed().await.ok()?;
        let state = states.borrow_and_update().clone();
        Some((Ok(Event::default().event("state").data(&*state)), states))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Why `cargo lab web` could not serve a running lab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The lab could not be entered.
    #[error(transparent)]
    Attach(#[from] crate::AttachError),
    /// A host could not be observed.
    #[error("observing the lab: {0}")]
    Observe(String),
    /// The server could not listen.
    #[error("starting the web view: {0}")]
    Listen(std::io::Error),
}

/// `cargo lab web`: serves the web view of the running lab (or paused test) `entry` until it
/// ends, calling `ready` with the page's address once it listens. Returns the exit code.
/// Call it while the process has one thread: it enters the lab's user namespace first (see
/// `attach.rs`); only its observer threads enter the hosts.
pub fn serve_running(
    entry: &harness::registry::Entry,
    options: Options,
    ready: impl FnOnce(&str),
) -> Result<i32, ServeError> {
    let lab = crate::attach::lab_pidfd(entry)?;
    crate::attach::enter_user_namespace(entry)?;
    let observer = Observer::start(entry).map_err(ServeError::Observe)?;
    let server = Server::start(Arc::new(observer), options).map_err(ServeError::Listen)?;
    ready(&server.url());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    // Until the lab's process ends, or (a paused test, whose process goes on) its entry goes.
    let entry_file = harness::registry::directory()
        .map(|dir| dir.join(format!("{}.lab", entry.id)))
        .ok();
    loop {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(lab.as_fd(), PollFlags::POLLIN)];
        let ended = poll(&mut fds, PollTimeout::from(500u16)).is_ok_and(|n| n > 0);
        if ended || entry_file.as_ref().is_some_and(|f| !f.exists()) {
            eprintln!("lab {} ended", entry.id);
            return Ok(0);
        }
    }
}
