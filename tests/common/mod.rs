//! Shared by the browser suites: the scripted server's address, its stats, waiting, and
//! recorders for what a client reports.

#![allow(dead_code)]

pub mod page;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use serde::Deserialize;
use sse_wasm::{ConnectionState, SseClient, SseError, SseEvent, Subscription};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where `make server` listens by default: the suites' server when nothing else is
/// given, so that `wasm-pack test --headless --chrome` works next to `make server`.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// The scripted server: the address `make test` (scripts/test.sh) gives at compile time
/// in `SSE_TEST_SERVER`, or [`DEFAULT_SERVER`].
pub fn server() -> &'static str {
    option_env!("SSE_TEST_SERVER").unwrap_or(DEFAULT_SERVER)
}

/// Says in one line what to start when the server does not answer.
fn unreachable_server(what: &str) -> String {
    format!(
        "{what}: nothing answers at {} — start the test server with `make server` (or \
         run `make test`, which starts one and passes its address in SSE_TEST_SERVER)",
        server()
    )
}

/// A URL of the scripted stream with these query parameters.
pub fn sse_url(query: &str) -> String {
    format!("{}/sse?{query}", server())
}

/// A session name no other test uses, for the server's per-session stats.
pub fn new_session(label: &str) -> String {
    format!("{label}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// Data of the server's JSON events.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct Seq {
    pub seq: u64,
    #[serde(rename = "type")]
    pub event_type: String,
}

/// One request the server saw.
#[derive(Deserialize, Debug, Clone)]
pub struct SeenConnection {
    pub at_ms: f64,
    pub last_event_id: Option<String>,
    pub id_source: Option<String>,
    pub status: u16,
    pub events_sent: u64,
    pub closed_at_ms: Option<f64>,
    /// Request headers, names in lower case.
    pub headers: std::collections::BTreeMap<String, String>,
}

/// What the server recorded for a session.
#[derive(Deserialize, Debug, Clone)]
pub struct Stats {
    pub open: u32,
    pub connections: Vec<SeenConnection>,
}

impl Stats {
    /// Milliseconds between consecutive requests.
    pub fn gaps_ms(&self) -> Vec<f64> {
        self.connections
            .windows(2)
            .map(|pair| pair[1].at_ms - pair[0].at_ms)
            .collect()
    }
}

pub async fn stats(session: &str) -> Stats {
    let url = format!("{}/stats?session={session}", server());
    let window = web_sys::window().expect("a window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .unwrap_or_else(|_| panic!("{}", unreachable_server("GET /stats")))
        .unchecked_into();
    assert!(response.ok(), "GET /stats answered {}", response.status());
    let text = JsFuture::from(response.text().expect("a body"))
        .await
        .expect("the stats body")
        .as_string()
        .expect("text");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("stats {text}: {error}"))
}

/// Ends the session's open streams on the server (`/drop`), as a lost connection would.
pub async fn drop_session(session: &str) {
    let url = format!("{}/drop?session={session}", server());
    let window = web_sys::window().expect("a window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .unwrap_or_else(|_| panic!("{}", unreachable_server("GET /drop")))
        .unchecked_into();
    assert!(response.ok(), "GET /drop answered {}", response.status());
}

/// A new, empty element at the end of the test page's body, to mount components in.
pub fn mount_point() -> web_sys::HtmlElement {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .expect("a document");
    let element: web_sys::HtmlElement = document
        .create_element("div")
        .expect("a div")
        .unchecked_into();
    document
        .body()
        .expect("a body")
        .append_child(&element)
        .expect("appended to the body");
    element
}

/// The text of the element inside `root` with this `id`, or `None` if there is none.
pub fn text_by_id(root: &web_sys::HtmlElement, id: &str) -> Option<String> {
    root.query_selector(&format!("#{id}"))
        .expect("a valid selector")
        .map(|element| element.text_content().unwrap_or_default())
}

/// Waits until the element with this `id` inside `root` shows `expected`.
pub async fn wait_for_text(root: &web_sys::HtmlElement, id: &str, expected: &str, limit: Duration) {
    let start = js_sys::Date::now();
    loop {
        let text = text_by_id(root, id);
        if text.as_deref() == Some(expected) {
            return;
        }
        if js_sys::Date::now() - start > limit.as_millis() as f64 {
            panic!(
                "timed out after {} ms waiting for #{id} to show {expected:?}; it shows {text:?}",
                limit.as_millis()
            );
        }
        sleep_ms(10).await;
    }
}

pub async fn sleep(duration: Duration) {
    let ms = duration.as_millis() as i32;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("a timer");
}

pub async fn sleep_ms(ms: u64) {
    sleep(Duration::from_millis(ms)).await
}

/// Waits until `done` holds, checking every 10 ms; fails the test after `limit`.
pub async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !done() {
        if js_sys::Date::now() - start > limit.as_millis() as f64 {
            panic!(
                "timed out after {} ms waiting for {what}",
                limit.as_millis()
            );
        }
        sleep_ms(10).await;
    }
}

/// How long the server may take to see a connection the client let go of. Chromium
/// keeps the socket of a cancelled response that has not ended for up to 5 s, to drain
/// it for reuse, when the cancel comes between two of its reads: then a closed client's
/// stream stays open on the server that long.
pub const CLOSE_SEEN_WITHIN: Duration = Duration::from_secs(8);

/// Like [`wait_for`] for a condition that needs the server's stats.
pub async fn wait_for_stats<F>(what: &str, session: &str, limit: Duration, mut done: F) -> Stats
where
    F: FnMut(&Stats) -> bool,
{
    let start = js_sys::Date::now();
    loop {
        let stats = stats(session).await;
        if done(&stats) {
            return stats;
        }
        if js_sys::Date::now() - start > limit.as_millis() as f64 {
            panic!(
                "timed out after {} ms waiting for {what}; stats: {stats:?}",
                limit.as_millis()
            );
        }
        sleep_ms(20).await;
    }
}

/// A list a handler appends to and a test reads.
#[derive(Clone)]
pub struct Log<T>(Rc<RefCell<Vec<T>>>);

impl<T: Clone> Log<T> {
    pub fn new() -> Self {
        Log(Rc::default())
    }
    pub fn push(&self, item: T) {
        self.0.borrow_mut().push(item);
    }
    pub fn get(&self) -> Vec<T> {
        self.0.borrow().clone()
    }
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

impl<T: Clone> Default for Log<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Records a client's states and errors for the whole test.
pub struct Watch {
    pub states: Log<ConnectionState>,
    pub errors: Log<SseError>,
    _subscriptions: [Subscription; 2],
}

impl Watch {
    pub fn new(client: &SseClient) -> Self {
        let (states, errors) = (Log::new(), Log::new());
        let subscriptions = [
            {
                let states = states.clone();
                client.on_state(move |state| states.push(state))
            },
            {
                let errors = errors.clone();
                client.on_error(move |error| errors.push(error.clone()))
            },
        ];
        Watch {
            states,
            errors,
            _subscriptions: subscriptions,
        }
    }

    /// The state names in order, e.g. `["open", "reconnecting", "connecting", "open"]`.
    pub fn state_names(&self) -> Vec<&'static str> {
        self.states
            .get()
            .iter()
            .map(ConnectionState::as_str)
            .collect()
    }

    pub fn error_kinds(&self) -> Vec<&'static str> {
        self.errors.get().iter().map(SseError::kind).collect()
    }
}

/// Records the sequence numbers of one event type.
pub fn record_seqs(client: &SseClient, event_type: &str) -> (Log<u64>, Subscription) {
    let log = Log::new();
    let sink = log.clone();
    let subscription = client.on::<Seq>(event_type, move |data| sink.push(data.seq));
    (log, subscription)
}

/// Records raw events of one type.
pub fn record_raw(client: &SseClient, event_type: &str) -> (Log<SseEvent>, Subscription) {
    let log = Log::new();
    let sink = log.clone();
    let subscription = client.on_raw(event_type, move |event| sink.push(event.clone()));
    (log, subscription)
}

/// Runs a future with a time limit, failing the test when it is exceeded.
pub async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    use futures::future::{select, Either};
    let timeout = Box::pin(sleep(limit));
    match select(Box::pin(future), timeout).await {
        Either::Left((value, _)) => value,
        Either::Right(_) => panic!("{what} took longer than {} ms", limit.as_millis()),
    }
}

/// Exponential backoff from `initial_ms` without jitter, so delays can be asserted.
pub fn quick_backoff(initial_ms: u64) -> sse_wasm::Backoff {
    sse_wasm::Backoff::exponential(ms(initial_ms)).jitter(sse_wasm::Jitter::None)
}

pub fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A scripted server in the page on a path no other test uses, and its absolute URL.
pub fn mock_server(label: &str) -> (sse_wasm::testing::MockServer, String) {
    let path = format!("/mock/{}", new_session(label));
    let server = sse_wasm::testing::MockServer::install(&path);
    let origin = web_sys::window()
        .expect("a window")
        .location()
        .origin()
        .expect("an origin");
    (server, format!("{origin}{path}"))
}

/// Sends events of the scripted server's `Seq` form, numbered from `first`, with ids,
/// one type after the other in turn (an empty type is an event without `event:`).
pub fn send_seqs(server: &sse_wasm::testing::MockServer, first: u64, types: &[&str]) {
    for (seq, event_type) in (first..).zip(types) {
        let wire_type = if event_type.is_empty() {
            "message"
        } else {
            event_type
        };
        let data = format!("{{\"seq\":{seq},\"type\":\"{wire_type}\"}}");
        let event = if event_type.is_empty() {
            sse_wasm::testing::Event::message(data)
        } else {
            sse_wasm::testing::Event::new(*event_type, data)
        };
        server.send(event.id(seq.to_string()));
    }
}

/// The text of the first element inside `root` that `selector` matches ("" if none).
pub fn text_of(root: &web_sys::HtmlElement, selector: &str) -> String {
    root.query_selector(selector)
        .expect("a valid selector")
        .and_then(|element| element.text_content())
        .unwrap_or_default()
}

/// Waits until the first element inside `root` that `selector` matches shows `expected`.
pub async fn wait_for_selector_text(
    root: &web_sys::HtmlElement,
    selector: &str,
    expected: &str,
    limit: Duration,
) {
    let start = js_sys::Date::now();
    loop {
        let text = text_of(root, selector);
        if text == expected {
            return;
        }
        if js_sys::Date::now() - start > limit.as_millis() as f64 {
            panic!(
                "timed out after {} ms waiting for {selector} to show {expected:?}; it shows {text:?}",
                limit.as_millis()
            );
        }
        sleep_ms(10).await;
    }
}

/// Sends a `tick` (numbered on from `*next`) every 30 ms until `done` holds, as a live
/// stream would, for components that subscribe at their own pace; fails the test after
/// `limit`.
pub async fn tick_until(
    server: &sse_wasm::testing::MockServer,
    next: &mut u64,
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) {
    let start = js_sys::Date::now();
    while !done() {
        if js_sys::Date::now() - start > limit.as_millis() as f64 {
            panic!(
                "timed out after {} ms waiting for {what}",
                limit.as_millis()
            );
        }
        send_seqs(server, *next, &["tick"]);
        *next += 1;
        sleep_ms(30).await;
    }
}
