//! The fetch transport against the scripted server: headers, method and body, the
//! real `Last-Event-ID` header, HTTP statuses, comments and the idle timer, byte-by-byte
//! streams and the event size limit.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use common::*;
use serde::Deserialize;
use sse_wasm::{live_closures, ConnectionState, SseClient, SseError, Transport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The server's `echo` event: the request as it arrived.
#[derive(Deserialize, Debug, Clone)]
struct Echo {
    method: String,
    headers: BTreeMap<String, String>,
    body: String,
}

fn record_echoes(client: &SseClient) -> (Log<Echo>, sse_wasm::Subscription) {
    let log = Log::new();
    let sink = log.clone();
    let subscription = client.on::<Echo>("echo", move |echo| sink.push(echo));
    (log, subscription)
}

#[wasm_bindgen_test]
async fn headers_arrive_and_the_header_function_runs_before_every_connect() {
    let session = new_session("fetch-headers");
    let calls = Rc::new(Cell::new(0u32));
    let counter = calls.clone();
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&echo=1&count=2&drop_after=2"
    )))
    .header("X-Fixed", "fixed")
    .headers_with(move || {
        counter.set(counter.get() + 1);
        vec![(
            "Authorization".into(),
            format!("Bearer token-{}", counter.get()),
        )]
    })
    .backoff(quick_backoff(20))
    .connect()
    .unwrap();
    let (echoes, _s) = record_echoes(&client);
    wait_for("two connections' echoes", ms(8000), || echoes.len() >= 2).await;
    client.close();
    let echoes = echoes.get();
    assert_eq!(echoes[0].headers["x-fixed"], "fixed");
    assert_eq!(echoes[0].headers["authorization"], "Bearer token-1");
    assert_eq!(
        echoes[1].headers["authorization"], "Bearer token-2",
        "a fresh token"
    );
    assert_eq!(echoes[0].headers["accept"], "text/event-stream");
    assert!(calls.get() >= 2);
    assert_eq!(echoes[0].method, "GET");
}

/// A token that takes a turn of the event loop to arrive, like one fetched first.
async fn later<T>(value: T) -> T {
    sleep_ms(5).await;
    value
}

#[wasm_bindgen_test]
async fn an_async_header_hook_runs_before_every_connect_and_its_failure_is_retried() {
    let session = new_session("fetch-async-headers");
    let calls = Rc::new(Cell::new(0u32));
    let counter = calls.clone();
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&echo=1&count=2&drop_after=2"
    )))
    .headers_with_async(move || {
        counter.set(counter.get() + 1);
        let call = counter.get();
        async move {
            // The second attempt fails: it is reported and retried, not fatal.
            if call == 2 {
                return Err(SseError::Network {
                    message: "no token yet".into(),
                });
            }
            Ok(later(vec![(
                "Authorization".into(),
                format!("Bearer token-{call}"),
            )])
            .await)
        }
    })
    .backoff(quick_backoff(20))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (echoes, _s) = record_echoes(&client);
    wait_for("two connections' echoes", ms(8000), || echoes.len() >= 2).await;
    client.close();
    let echoes = echoes.get();
    assert_eq!(echoes[0].headers["authorization"], "Bearer token-1");
    assert_eq!(echoes[1].headers["authorization"], "Bearer token-3");
    assert!(
        watch
            .errors
            .get()
            .iter()
            .any(|error| error.to_string().contains("no token yet")),
        "the hook's failure is reported: {:?}",
        watch.errors.get()
    );

    // A hook that makes headers no request can carry closes the client.
    let client = SseClient::builder(sse_url("count=1&then=hold"))
        .headers_with_async(|| async { Ok(vec![("Bad Name".into(), "x".into())]) })
        .connect()
        .unwrap();
    let watch = Watch::new(&client);
    wait_for("closed", ms(5000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    assert_eq!(watch.error_kinds(), ["invalid"]);
}

#[wasm_bindgen_test]
async fn a_post_body_arrives_with_its_method() {
    let client = SseClient::builder(sse_url("echo=1&count=1&then=hold"))
        .header("Content-Type", "application/json")
        .body(r#"{"prompt":"hello"}"#)
        .connect()
        .unwrap();
    let (echoes, _s) = record_echoes(&client);
    wait_for("the echo", ms(5000), || echoes.len() == 1).await;
    client.close();
    let echo = &echoes.get()[0];
    assert_eq!(echo.method, "POST", "a body makes the default method POST");
    assert_eq!(echo.body, r#"{"prompt":"hello"}"#);
    assert_eq!(echo.headers["content-type"], "application/json");
}

#[wasm_bindgen_test]
async fn every_reconnect_sends_the_real_last_event_id_header() {
    let session = new_session("fetch-resume");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=9&drop_after=3&then=hold"
    )))
    .transport(Transport::Fetch)
    .backoff(quick_backoff(20))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("nine events", ms(8000), || seqs.len() >= 9).await;
    client.reconnect();
    let stats = wait_for_stats("the manual reconnect", &session, ms(5000), |stats| {
        stats.connections.len() >= 4
    })
    .await;
    client.close();
    assert_eq!(seqs.get(), (1..=9).collect::<Vec<_>>());
    let ids: Vec<_> = stats
        .connections
        .iter()
        .map(|c| c.last_event_id.clone())
        .collect();
    assert_eq!(
        ids[..4],
        [None, Some("3".into()), Some("6".into()), Some("9".into())],
        "after drops and after reconnect()"
    );
    // From the header, not a query parameter: the URL stays as given.
    assert!(stats.connections[1..4]
        .iter()
        .all(|c| c.id_source.as_deref() == Some("header")));
    assert!(watch.error_kinds().iter().all(|kind| *kind == "network"));
}

/// What a fetch client made of a server answering as `query` asks, once it closed:
/// its errors, the requests the server saw, and the events delivered.
struct Fatal {
    errors: Vec<SseError>,
    requests: usize,
    events: Vec<u64>,
}

async fn until_closed(label: &str, query: &str) -> Fatal {
    let session = new_session(label);
    let client = SseClient::builder(sse_url(&format!("session={session}&{query}")))
        .transport(Transport::Fetch)
        .backoff(quick_backoff(10))
        .connect()
        .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("closed", ms(5000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    // Long enough for a retry that should not happen to reach the server.
    sleep_ms(200).await;
    Fatal {
        errors: watch.errors.get(),
        requests: stats(&session).await.connections.len(),
        events: seqs.get(),
    }
}

#[wasm_bindgen_test]
async fn no_content_stops_for_good() {
    let fatal = until_closed("fetch-204", "fail_status=204&fail_first=5").await;
    assert_eq!(fatal.requests, 1, "no retry after 204");
    assert!(matches!(
        fatal.errors[..],
        [SseError::Http { status: 204, .. }]
    ));
}

#[wasm_bindgen_test]
async fn not_found_is_fatal() {
    let fatal = until_closed("fetch-404", "fail_status=404&fail_first=5").await;
    assert_eq!(fatal.requests, 1, "no retry after 404");
    assert!(matches!(
        fatal.errors[..],
        [SseError::Http { status: 404, .. }]
    ));
    assert!(fatal.errors[0].to_string().contains("404"));
}

#[wasm_bindgen_test]
async fn service_unavailable_waits_at_least_its_retry_after() {
    let session = new_session("fetch-503");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&fail_status=503&fail_first=1&retry_after=1&count=1&then=hold"
    )))
    .transport(Transport::Fetch)
    .backoff(quick_backoff(10))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the event after the retry", ms(6000), || seqs.len() == 1).await;
    client.close();
    let stats = stats(&session).await;
    let gap = stats.gaps_ms()[0];
    assert!(
        gap >= 1000.0,
        "retried after {gap} ms, before Retry-After: 1"
    );
    assert!(matches!(
        watch.errors.get()[0],
        SseError::Http { status: 503, .. }
    ));
}

#[wasm_bindgen_test]
async fn a_wrong_content_type_is_fatal() {
    let fatal = until_closed("fetch-ctype", "content_type=text/plain&count=3").await;
    assert_eq!(fatal.requests, 1);
    assert!(fatal.events.is_empty());
    assert!(matches!(
        &fatal.errors[..],
        [SseError::ContentType { content_type }] if content_type == "text/plain"
    ));
}

#[wasm_bindgen_test]
async fn a_charset_parameter_and_odd_case_are_still_an_event_stream() {
    let client = SseClient::builder(sse_url(
        "content_type=Text/Event-Stream;%20charset=utf-8&count=2&then=hold",
    ))
    .transport(Transport::Fetch)
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("two events", ms(5000), || seqs.len() == 2).await;
    client.close();
}

#[wasm_bindgen_test]
async fn comments_keep_a_quiet_stream_alive_and_a_stall_reconnects() {
    // Comments every 100 ms, no events after the first: the idle timer must not fire.
    let quiet = new_session("fetch-quiet");
    let client = SseClient::builder(sse_url(&format!(
        "session={quiet}&count=1&then=hold&comment_every=100"
    )))
    .transport(Transport::Fetch)
    .idle_timeout(Some(ms(400)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    sleep_ms(1500).await;
    client.close();
    assert_eq!(
        stats(&quiet).await.connections.len(),
        1,
        "reconnected despite comments"
    );
    assert!(!watch.error_kinds().contains(&"idle"));

    // Silence after two events: the idle timer reconnects.
    let stalled = new_session("fetch-stall");
    let client = SseClient::builder(sse_url(&format!(
        "session={stalled}&count=10&stall_after=2&then=hold"
    )))
    .transport(Transport::Fetch)
    .idle_timeout(Some(ms(300)))
    .backoff(quick_backoff(20))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    wait_for_stats("a reconnect after the stall", &stalled, ms(5000), |stats| {
        stats.connections.len() >= 2
    })
    .await;
    client.close();
    assert!(watch.error_kinds().contains(&"idle"));
}

#[wasm_bindgen_test]
async fn a_stream_written_one_byte_at_a_time_gives_the_same_events() {
    let query = "count=6&types=tick,,news&ids=on&line_end=crlf&then=hold";
    let whole = SseClient::builder(sse_url(query))
        .transport(Transport::Fetch)
        .connect()
        .unwrap();
    let bytes = SseClient::builder(sse_url(&format!("{query}&byte_by_byte=1")))
        .transport(Transport::Fetch)
        .connect()
        .unwrap();
    let mut logs = Vec::new();
    for client in [&whole, &bytes] {
        let mut per_type = Vec::new();
        for event_type in ["tick", "message", "news"] {
            per_type.push(record_raw(client, event_type));
        }
        logs.push(per_type);
    }
    let total = |logs: &Vec<(Log<sse_wasm::SseEvent>, sse_wasm::Subscription)>| {
        logs.iter().map(|(log, _)| log.len()).sum::<usize>()
    };
    wait_for("six events each", ms(10_000), || {
        total(&logs[0]) == 6 && total(&logs[1]) == 6
    })
    .await;
    whole.close();
    bytes.close();
    for (whole, bytes) in logs[0].iter().zip(&logs[1]) {
        assert_eq!(whole.0.get(), bytes.0.get());
    }
    assert_eq!(bytes.last_event_id(), "6");
}

#[wasm_bindgen(inline_js = "
let byobReads = 0;
const byobRead = ReadableStreamBYOBReader.prototype.read;
ReadableStreamBYOBReader.prototype.read = function (view, options) {
  byobReads++;
  return byobRead.call(this, view, options);
};
export function byob_reads() { return byobReads; }
const getReader = ReadableStream.prototype.getReader;
export function refuse_byob_readers(refuse) {
  ReadableStream.prototype.getReader = refuse
    ? function (options) {
        if (options?.mode === 'byob') throw new TypeError('not a byte stream');
        return getReader.call(this, options);
      }
    : getReader;
}
")]
extern "C" {
    /// How many reads a BYOB reader has made in this page.
    fn byob_reads() -> u32;
    /// Makes `getReader({ mode: "byob" })` throw, as it does for a body that is not a
    /// byte stream (in browsers whose fetch bodies are not), or stops doing so.
    fn refuse_byob_readers(refuse: bool);
}

/// Undoes `refuse_byob_readers(true)` when dropped, even if the test fails.
struct NoByobReaders;

impl NoByobReaders {
    fn new() -> NoByobReaders {
        refuse_byob_readers(true);
        NoByobReaders
    }
}

impl Drop for NoByobReaders {
    fn drop(&mut self) {
        refuse_byob_readers(false);
    }
}

/// 3,000 events of 400 B: several reads' worth of one buffer.
async fn a_long_stream_arrives_whole_and_in_order(label: &str) {
    let count = 3000;
    let client = SseClient::builder(sse_url(&format!(
        "session={}&count={count}&size=400&then=hold",
        new_session(label)
    )))
    .transport(Transport::Fetch)
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    let watch = Watch::new(&client);
    wait_for("every event", ms(10_000), || seqs.len() >= count).await;
    client.close();
    assert_eq!(seqs.get(), (1..=count as u64).collect::<Vec<_>>());
    assert!(watch.errors.get().is_empty(), "{:?}", watch.errors.get());
}

/// The body is read into one buffer that each read takes and gives back; bytes that
/// arrive in one read must not be overwritten by the next before they are parsed.
#[wasm_bindgen_test]
async fn a_body_is_read_into_one_buffer_and_a_long_stream_arrives_whole() {
    let before = byob_reads();
    a_long_stream_arrives_whole_and_in_order("fetch-byob").await;
    assert!(
        byob_reads() - before >= 5,
        "{} BYOB reads",
        byob_reads() - before
    );
}

#[wasm_bindgen_test]
async fn a_body_that_is_not_a_byte_stream_is_read_with_the_default_reader() {
    let _refused = NoByobReaders::new();
    let before = byob_reads();
    a_long_stream_arrives_whole_and_in_order("fetch-default-reader").await;
    assert_eq!(byob_reads(), before);
}

/// LaunchDarkly's sse-contract-tests send one 10 MiB event ("large message in two
/// chunks"); the native `EventSource` takes it, so the default limit must too.
#[wasm_bindgen_test]
async fn a_10_mib_event_arrives_whole_under_the_default_limit() {
    let session = new_session("fetch-10mib");
    let size = 10 * 1024 * 1024;
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=1&size={size}&then=hold"
    )))
    .transport(Transport::Fetch)
    .connect()
    .unwrap();
    let lengths = Rc::new(std::cell::RefCell::new(Vec::new()));
    let _events = client.on_raw("message", {
        let lengths = lengths.clone();
        move |event| lengths.borrow_mut().push(event.data.len())
    });
    let watch = Watch::new(&client);
    wait_for("the 10 MiB event", ms(20000), || {
        !lengths.borrow().is_empty()
    })
    .await;
    assert!(lengths.borrow()[0] >= size, "{:?}", lengths.borrow());
    assert!(watch.errors.get().is_empty(), "{:?}", watch.errors.get());
    client.close();
}

#[wasm_bindgen_test]
async fn an_event_over_the_size_limit_is_an_error_and_a_reconnect() {
    let session = new_session("fetch-big");
    // The first event is padded to 64 KiB; later ones are small.
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=3&size=65536&then=hold"
    )))
    .transport(Transport::Fetch)
    .max_event_size(16 * 1024)
    .backoff(quick_backoff(20).max_retries(Some(2)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    wait_for("closed after the retries", ms(8000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    let errors = watch.errors.get();
    assert!(
        errors[0].to_string().contains("limit of 16384 bytes"),
        "{errors:?}"
    );
    assert_eq!(
        stats(&session).await.connections.len(),
        3,
        "reconnected each time"
    );
}

#[wasm_bindgen_test]
async fn the_servers_retry_field_raises_the_delay_floor() {
    let session = new_session("fetch-retry");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&retry=600&count=2&drop_after=1"
    )))
    .transport(Transport::Fetch)
    .backoff(quick_backoff(10))
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("both events", ms(5000), || seqs.len() == 2).await;
    client.close();
    let gap = stats(&session).await.gaps_ms()[0];
    assert!(
        gap >= 600.0,
        "reconnected after {gap} ms despite retry: 600"
    );
}

#[wasm_bindgen_test]
async fn close_aborts_the_request() {
    let session = new_session("fetch-close");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=1000&interval=50&then=hold"
    )))
    .transport(Transport::Fetch)
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("an event", ms(5000), || seqs.len() >= 1).await;
    client.close();
    let stats = wait_for_stats(
        "the server to see the close",
        &session,
        CLOSE_SEEN_WITHIN,
        |stats| stats.open == 0,
    )
    .await;
    assert_eq!(stats.connections.len(), 1);
    let at_close = seqs.len();
    sleep_ms(200).await;
    assert_eq!(seqs.len(), at_close, "events after close()");
}

#[wasm_bindgen_test]
async fn what_the_transport_cannot_send_is_refused_up_front() {
    let refused = |builder: sse_wasm::SseClientBuilder| match builder.connect() {
        Err(SseError::Invalid { message }) => message,
        other => panic!("expected an invalid-options error, got {other:?}"),
    };
    let message = refused(
        SseClient::builder(sse_url("count=1"))
            .transport(Transport::EventSource)
            .header("Authorization", "x"),
    );
    assert!(message.starts_with("headers: the \"eventsource\" transport cannot send"));
    let message = refused(
        SseClient::builder(sse_url("count=1"))
            .method("GET")
            .body("x"),
    );
    assert!(
        message.contains("GET request cannot have a body"),
        "{message}"
    );
    let message = refused(SseClient::builder(sse_url("count=1")).method("TRACE"));
    assert!(message.contains("does not allow"), "{message}");
    let message = refused(SseClient::builder(sse_url("count=1")).header("Bad Name", "x"));
    assert!(message.starts_with("headers: \"Bad Name\""), "{message}");
}

#[wasm_bindgen_test]
async fn connections_closed_dropped_or_reconnected_leave_nothing_running() {
    // Every earlier test let go of its clients; their aborted tasks end a moment
    // after, so nothing at all may be left once they have.
    wait_for("the earlier tests' tasks to end", ms(5000), || {
        live_closures() == 0
    })
    .await;
    let baseline = 0;
    let mut peak = baseline;
    for cycle in 0..60u32 {
        let client = SseClient::builder(sse_url("count=3&then=hold"))
            .transport(Transport::Fetch)
            .idle_timeout(Some(ms(10_000)))
            .connect()
            .unwrap();
        let (seqs, _s) = record_seqs(&client, "message");
        if cycle % 10 == 0 {
            wait_for("an event", ms(5000), || !seqs.get().is_empty()).await;
            client.reconnect();
        }
        peak = peak.max(live_closures());
        if cycle % 2 == 0 {
            client.close();
        }
        drop(client);
    }
    assert!(peak > baseline, "the counter saw the fetch tasks ({peak})");
    // An aborted task ends when its pending promise settles, a moment later.
    wait_for("every fetch task to end", ms(5000), || {
        live_closures() == baseline
    })
    .await;
}

#[wasm_bindgen_test]
async fn with_credentials_includes_cookies_cross_origin() {
    // The test page runs on another port of 127.0.0.1: a cookie it sets reaches the
    // server only with `credentials: "include"`.
    let document = js_sys::Reflect::get(&js_sys::global(), &"document".into()).unwrap();
    js_sys::Reflect::set(
        &document,
        &"cookie".into(),
        &"sse_wasm_fetch_probe=1; path=/".into(),
    )
    .unwrap();
    let mut cookies = Vec::new();
    for with_credentials in [true, false] {
        let session = new_session("fetch-credentials");
        let client = SseClient::builder(sse_url(&format!("session={session}&count=1&then=hold")))
            .transport(Transport::Fetch)
            .with_credentials(with_credentials)
            .connect()
            .unwrap();
        let (seqs, _s) = record_seqs(&client, "message");
        wait_for("an event", ms(5000), || seqs.len() == 1).await;
        client.close();
        let stats = stats(&session).await;
        let cookie = stats.connections[0].headers.get("cookie").cloned();
        cookies.push(cookie.is_some_and(|c| c.contains("sse_wasm_fetch_probe=1")));
    }
    assert_eq!(cookies, [true, false]);
}
