//! A scripted SSE server that lives in the test page (feature `testing`), so that a
//! component using `sse-wasm` can be tested with `wasm-pack test --headless` and no
//! server beside it.
//!
//! [`MockServer::install`] makes every [`SseClient`](crate::SseClient) of the page that
//! connects to its URL's path (relative or absolute, any query string) talk to it
//! instead of the network; the code under test does not change. What the test sends
//! goes through the library's own parser, state machine, backoff, resume and status
//! rules, so the component sees what production would:
//!
//! - on the fetch transport the scripted bytes are read like a response body
//!   (statuses, `Retry-After`, `Content-Type`, `retry:` and comments count);
//! - on the native transport the client sees only what a browser's `EventSource` shows:
//!   `open`, an `error` without a status, and message events with their data, type and
//!   last event id. Comments, `retry:` and statuses stay hidden, as in the browser.
//!
//! Timers are real: make the client's backoff short in tests rather than waiting.
//! Dropping the [`MockServer`] uninstalls it: its open streams are lost and later
//! requests go to the network again.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sse_wasm::SseError> {
//! use std::time::Duration;
//! use sse_wasm::testing::MockServer;
//! use sse_wasm::{Backoff, Jitter, SseClient};
//!
//! let server = MockServer::install("/events");
//! let client = SseClient::builder("/events?room=1")
//!     .backoff(Backoff::exponential(Duration::from_millis(10)).jitter(Jitter::None))
//!     .connect()?;
//! let first = server.next_connection().await;      // the client's request
//! assert_eq!(first.last_event_id, None);
//! server.send(sse_wasm::testing::Event::new("tick", "1").id("1"));
//! server.drop_streams();                            // the connection is lost…
//! let second = server.next_connection().await;     // …and the client resumes
//! assert_eq!(second.last_event_id.as_deref(), Some("1"));
//! # drop(client);
//! # Ok(())
//! # }
//! ```
//!
//! The server serves every client of its path at once: what it sends goes to every open
//! stream, and what it is told to send while no stream is open waits for the next one
//! that opens (as a server replaying what was missed would).

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use crate::delivery::Delivery;
use crate::event::SseError;
use crate::runtime;
use crate::transport::{Connection as Open, FetchConfig, SignalSink, Transport};

mod fetch;
mod native;
mod state;
mod wire;

use state::{Chunk, Reply, ServerState};
pub use wire::Event;

/// A scripted SSE server for one URL path, installed in the page until it is dropped.
///
/// ```no_run
/// # async fn demo() {
/// use sse_wasm::testing::{MockServer, Refusal};
///
/// let server = MockServer::install("/events");
/// server.refuse_next(2, Refusal::status(503).retry_after("1")); // two 503s first
/// // … mount the component: it retries, and the third request opens …
/// server.event("tick", "{\"price\":3}");
/// assert_eq!(server.connections().len(), 3);
/// # }
/// ```
pub struct MockServer {
    state: Rc<RefCell<ServerState>>,
    path: String,
}

impl MockServer {
    /// Serves every client of the page whose URL has the path of `url` (resolved
    /// against the document, like `EventSource` resolves it; the query string does not
    /// matter). When two servers are installed for one path, the newer one answers.
    ///
    /// # Panics
    ///
    /// If `url` is not an `http:` or `https:` URL: a mistake in the test itself.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// let server = MockServer::install("/events");
    /// assert_eq!(server.path(), "/events");
    /// // `http://localhost:8080/events?x=1` and `/events` reach it too.
    /// ```
    pub fn install(url: &str) -> MockServer {
        let path = match runtime::resolve_url(url) {
            Ok(url) => url.pathname(),
            Err(error) => panic!("MockServer::install: {error}"),
        };
        let state = Rc::new(RefCell::new(ServerState::default()));
        state::install(path.clone(), &state);
        MockServer { state, path }
    }

    /// The path this server answers.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// assert_eq!(MockServer::install("https://example.com/a/b?c").path(), "/a/b");
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Sends an event to every open stream.
    ///
    /// ```no_run
    /// use sse_wasm::testing::{Event, MockServer};
    ///
    /// let server = MockServer::install("/events");
    /// server.send(Event::new("tick", "1").id("1"));
    /// server.send(Event::message("no type: the client sees \"message\""));
    /// ```
    pub fn send(&self, event: Event) {
        self.bytes(event.to_bytes());
    }

    /// Sends an event of this type with this data (no id).
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").event("news", "{\"headline\":\"hello\"}");
    /// ```
    pub fn event(&self, event_type: &str, data: &str) {
        self.send(Event::new(event_type, data));
    }

    /// Sends an event whose data is `value` as JSON.
    ///
    /// # Panics
    ///
    /// If `value` cannot be written as JSON (a map with keys that are not strings, or a
    /// `Serialize` implementation that fails): a mistake in the test itself.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Tick { symbol: &'static str, price: f64 }
    ///
    /// MockServer::install("/events").json("tick", &Tick { symbol: "ACME", price: 3.5 });
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(&self, event_type: &str, value: &T) {
        match serde_json::to_string(value) {
            Ok(data) => self.event(event_type, &data),
            Err(error) => panic!("MockServer::json({event_type:?}): {error}"),
        }
    }

    /// Sets the stream's last event id without an event (`id:` and a blank line): the
    /// id a reconnect resumes from.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").id("42");
    /// ```
    pub fn id(&self, id: &str) {
        self.bytes(wire::id_only(id));
    }

    /// Sends `retry:` (and a blank line): the least wait before the client's next
    /// reconnect, on the fetch transport.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").retry(Duration::from_millis(300));
    /// ```
    pub fn retry(&self, retry: Duration) {
        self.bytes(wire::retry_only(retry));
    }

    /// Sends a comment (a heartbeat: it keeps the fetch transport's idle timer quiet).
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").comment("ping");
    /// ```
    pub fn comment(&self, text: &str) {
        self.bytes(wire::comment(text));
    }

    /// Sends raw bytes as one chunk of the stream: split events, lines and UTF-8
    /// sequences across calls as a network would.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// let server = MockServer::install("/events");
    /// server.bytes("event: ti");
    /// server.bytes(b"ck\r\ndata: 1\r\n\r\n"); // one event, in two chunks
    /// ```
    pub fn bytes(&self, bytes: impl AsRef<[u8]>) {
        self.state.borrow_mut().send(Rc::from(bytes.as_ref()));
    }

    /// Ends every open stream cleanly, as a server that finished. The fetch transport
    /// tells this from a lost connection; the native one cannot.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").end_streams();
    /// ```
    pub fn end_streams(&self) {
        self.state.borrow_mut().close_streams(|| Chunk::End);
    }

    /// Drops every open stream, as a lost connection: the client reconnects after its
    /// backoff, resuming from the last id it saw.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").drop_streams();
    /// ```
    pub fn drop_streams(&self) {
        self.state.borrow_mut().close_streams(|| Chunk::Lost);
    }

    /// Answers the next `n` requests with `refusal` instead of a stream (requests that
    /// come after those get streams again).
    ///
    /// ```no_run
    /// use sse_wasm::testing::{MockServer, Refusal};
    ///
    /// let server = MockServer::install("/events");
    /// server.refuse_next(1, Refusal::status(429).retry_after("2")); // retried after 2 s
    /// server.refuse_next(1, Refusal::content_type("text/html"));    // then fatal
    /// ```
    pub fn refuse_next(&self, n: usize, refusal: Refusal) {
        let replies = (0..n).map(|_| Reply::Refuse(refusal.clone()));
        self.state.borrow_mut().answer_next(replies);
    }

    /// Never answers the next `n` requests: the client waits (for its idle timeout, if
    /// it has one).
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// MockServer::install("/events").stall_next(1);
    /// ```
    pub fn stall_next(&self, n: usize) {
        let replies = (0..n).map(|_| Reply::Stall);
        self.state.borrow_mut().answer_next(replies);
    }

    /// Every request this server saw, oldest first.
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// let server = MockServer::install("/events");
    /// // … after two reconnects …
    /// let seen = server.connections();
    /// let gap = seen[2].at - seen[1].at; // the second backoff delay, roughly
    /// ```
    pub fn connections(&self) -> Vec<Connection> {
        self.state.borrow().seen.clone()
    }

    /// The next request not handed out by an earlier call, as soon as it arrives (the
    /// first call gives the first request, whenever it came). Await one at a time.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use sse_wasm::testing::MockServer;
    ///
    /// let server = MockServer::install("/events");
    /// // … mount the component …
    /// let request = server.next_connection().await;
    /// assert_eq!(request.header("accept"), Some("text/event-stream"));
    /// # }
    /// ```
    pub async fn next_connection(&self) -> Connection {
        std::future::poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            match state.seen.get(state.taken).cloned() {
                Some(seen) => {
                    state.taken += 1;
                    Poll::Ready(seen)
                }
                None => {
                    state.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// How many streams are open now (a client that closed, or a component that
    /// unmounted, has none).
    ///
    /// ```no_run
    /// use sse_wasm::testing::MockServer;
    ///
    /// let server = MockServer::install("/events");
    /// // … unmount the component …
    /// assert_eq!(server.open_streams(), 0);
    /// ```
    pub fn open_streams(&self) -> usize {
        self.state.borrow().open_streams()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        state::uninstall(&self.state);
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.close_streams(|| Chunk::Lost);
        }
    }
}

/// How the server answers a request it refuses: a status (with `Retry-After`), or a
/// 200 that is not an event stream. The client's status rules decide what follows —
/// 5xx, 408 and 429 are retried, 204 and other statuses close, a wrong Content-Type
/// closes. A native `EventSource` sees none of it: it only fails, and is retried.
///
/// ```
/// use sse_wasm::testing::Refusal;
///
/// let busy = Refusal::status(503).retry_after("1");
/// let not_sse = Refusal::content_type("text/html; charset=utf-8");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
}

impl Refusal {
    /// This status, without a body. A 200 this way has no Content-Type: it is refused.
    ///
    /// ```
    /// use sse_wasm::testing::Refusal;
    ///
    /// let stop = Refusal::status(204); // the server's "stop": the client closes
    /// ```
    pub fn status(status: u16) -> Refusal {
        Refusal {
            status,
            content_type: None,
            retry_after: None,
        }
    }

    /// A 200 with this Content-Type (anything but `text/event-stream` is fatal).
    ///
    /// ```
    /// use sse_wasm::testing::Refusal;
    ///
    /// let json = Refusal::content_type("application/json");
    /// ```
    pub fn content_type(content_type: &str) -> Refusal {
        Refusal {
            content_type: Some(content_type.to_owned()),
            ..Refusal::status(200)
        }
    }

    /// Adds a `Retry-After` header, as sent: delay-seconds or an HTTP date.
    ///
    /// ```
    /// use sse_wasm::testing::Refusal;
    ///
    /// let later = Refusal::status(429).retry_after("Wed, 21 Oct 2026 07:28:00 GMT");
    /// ```
    pub fn retry_after(mut self, value: &str) -> Refusal {
        self.retry_after = Some(value.to_owned());
        self
    }
}

/// One request the server saw.
///
/// ```no_run
/// # async fn demo() {
/// use sse_wasm::testing::MockServer;
/// use sse_wasm::Transport;
///
/// let server = MockServer::install("/events");
/// let seen = server.next_connection().await;
/// if seen.transport == Transport::Fetch {
///     assert_eq!(seen.header("authorization"), Some("Bearer t0k3n"));
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connection {
    /// When it was made, on the clock of `performance.now()`.
    pub at: Duration,
    /// The transport that made it: [`Transport::EventSource`] or [`Transport::Fetch`].
    pub transport: Transport,
    /// The absolute URL requested (with the resume parameter on the native transport).
    pub url: String,
    /// The HTTP method.
    pub method: String,
    /// The request headers, names in lower case (the native transport sends `accept`).
    pub headers: Vec<(String, String)>,
    /// The request body, if any.
    pub body: Option<String>,
    /// The id the client resumed from: the `Last-Event-ID` header (fetch) or the resume
    /// query parameter (native); `None` when it sent none.
    pub last_event_id: Option<String>,
}

impl Connection {
    /// The value of a request header (`name` in any case).
    ///
    /// ```no_run
    /// # async fn demo(server: sse_wasm::testing::MockServer) {
    /// let seen = server.next_connection().await;
    /// assert_eq!(seen.header("Accept"), Some("text/event-stream"));
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What the driver knows of a request it is about to make.
pub(crate) struct Intercepted<'a> {
    /// The absolute URL, without the resume parameter.
    pub(crate) url: &'a str,
    /// `Some` on the fetch transport.
    pub(crate) fetch: Option<&'a Rc<FetchConfig>>,
    /// The resume parameter's name and the id to resume from, when resuming is on.
    pub(crate) resume: Option<(&'a str, &'a str)>,
    pub(crate) delivery: &'a Rc<dyn Delivery>,
    pub(crate) sink: &'a SignalSink,
}

/// The connection a scripted server makes for this request, when one is installed for
/// its path; `None` sends it to the network.
pub(crate) fn intercept(request: Intercepted<'_>) -> Option<Result<Box<dyn Open>, SseError>> {
    let server = state::find(request.url)?;
    let resume_from = request.resume.map(|(_, id)| id);
    Some(match request.fetch {
        Some(config) => Ok(fetch::open(
            server,
            request.url,
            resume_from,
            config.clone(),
            request.sink.clone(),
        )),
        None => native::open(
            server,
            runtime::request_url(request.url, request.resume),
            resume_from,
            request.delivery.clone(),
            request.sink.clone(),
        ),
    })
}
