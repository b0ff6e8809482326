//! Closing, dropping, invalid input and the closure leak check.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use sse_wasm::{live_closures, Backoff, ConnectionState, Jitter, SseClient};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn close_stops_every_request_and_reports_closed_once() {
    let session = new_session("close");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=1&then=hold&comment_every=50"
    )))
    .backoff(Backoff::exponential(ms(10)).jitter(Jitter::None))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the first event", ms(5000), || seqs.len() == 1).await;
    client.close();
    client.close();
    assert_eq!(client.state(), ConnectionState::Closed);
    wait_for_stats(
        "the server to see the stream closed",
        &session,
        ms(3000),
        |stats| stats.open == 0,
    )
    .await;
    sleep_ms(2000).await;
    let stats = stats(&session).await;
    assert_eq!(
        stats.connections.len(),
        1,
        "no request after close(): {stats:?}"
    );
    assert_eq!(watch.state_names(), ["open", "closed"]);
    assert!(watch.errors.get().is_empty(), "close() is not an error");
}

/// A client whose server fails every request, waiting out its first backoff delay.
async fn client_in_backoff(label: &str) -> (SseClient, String) {
    let session = new_session(label);
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&fail_status=500&fail_first=1000"
    )))
    .backoff(Backoff::exponential(ms(300)).jitter(Jitter::None))
    .connect()
    .unwrap();
    wait_for("the retry to be scheduled", ms(5000), || {
        matches!(client.state(), ConnectionState::Reconnecting { .. })
    })
    .await;
    (client, session)
}

#[wasm_bindgen_test]
async fn close_during_backoff_cancels_the_pending_retry() {
    let (client, session) = client_in_backoff("close-backoff").await;
    client.close();
    sleep_ms(1000).await;
    assert_eq!(stats(&session).await.connections.len(), 1);
}

#[wasm_bindgen_test]
async fn dropping_the_last_handle_closes_the_connection() {
    let session = new_session("drop");
    let client = SseClient::connect(sse_url(&format!(
        "session={session}&count=1&then=hold&comment_every=50"
    )))
    .unwrap();
    let second_handle = client.clone();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the first event", ms(5000), || seqs.len() == 1).await;
    drop(client);
    sleep_ms(300).await;
    assert_eq!(
        stats(&session).await.open,
        1,
        "a clone keeps the connection"
    );
    assert_eq!(second_handle.state(), ConnectionState::Open);
    drop(second_handle);
    wait_for_stats(
        "the server to see the stream closed",
        &session,
        ms(3000),
        |stats| stats.open == 0,
    )
    .await;
    sleep_ms(2000).await;
    assert_eq!(stats(&session).await.connections.len(), 1);
}

#[wasm_bindgen_test]
async fn dropping_the_last_handle_during_backoff_stops_retrying() {
    let (client, session) = client_in_backoff("drop-backoff").await;
    drop(client);
    sleep_ms(1000).await;
    assert_eq!(stats(&session).await.connections.len(), 1);
}

#[wasm_bindgen_test]
fn invalid_urls_and_options_are_errors_not_panics() {
    for url in ["http://[::1", "ftp://example.com/x", "javascript:alert(1)"] {
        let error = SseClient::connect(url).unwrap_err();
        assert_eq!(error.kind(), "invalid", "{url}: {error}");
    }
    let bad_backoff = SseClient::builder(sse_url("count=1"))
        .backoff(Backoff::default().factor(f64::NAN))
        .connect()
        .unwrap_err();
    assert_eq!(bad_backoff.kind(), "invalid");
    let empty_param = SseClient::builder(sse_url("count=1"))
        .resume_param("")
        .connect();
    assert_eq!(empty_param.unwrap_err().kind(), "invalid");
}

#[wasm_bindgen_test]
fn url_is_absolute_and_resolved_against_the_document() {
    let client = SseClient::connect("/relative/events?x=1").unwrap();
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    assert_eq!(client.url(), format!("{origin}/relative/events?x=1"));
    client.close();
}

#[wasm_bindgen_test]
async fn connect_close_cycles_leave_no_closure_behind() {
    let baseline = live_closures();
    let mut peak = baseline;
    for cycle in 0..200u32 {
        let client = SseClient::builder(sse_url("count=3&then=hold"))
            .idle_timeout(Some(ms(10_000)))
            .connect()
            .unwrap();
        let (seqs, _s) = record_seqs(&client, "message");
        let _tick = client.on_raw("tick", |_| {});
        let _state = client.on_state(|_| {});
        if cycle % 10 == 0 {
            wait_for("an event", ms(5000), || !seqs.get().is_empty()).await;
        }
        peak = peak.max(live_closures());
        if cycle % 2 == 0 {
            client.close();
        }
        drop(client);
    }
    assert!(
        peak > baseline,
        "the counter saw the library's closures ({peak})"
    );
    assert_eq!(live_closures(), baseline, "every closure was dropped");
}

#[wasm_bindgen_test]
async fn reconnect_cycles_leave_no_closure_behind() {
    let baseline = live_closures();
    let client = SseClient::builder(sse_url("count=1000&interval=5"))
        .idle_timeout(Some(ms(10_000)))
        .connect()
        .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("an event", ms(5000), || !seqs.get().is_empty()).await;
    let during = live_closures();
    for _ in 0..50 {
        client.reconnect();
        sleep_ms(5).await;
    }
    assert_eq!(
        live_closures(),
        during,
        "reconnects replace closures, never add"
    );
    drop(client);
    assert_eq!(live_closures(), baseline);
}

#[wasm_bindgen_test]
async fn with_credentials_sends_cookies_cross_origin() {
    // Cookies belong to a host, not a port: one set by the test page (on another port
    // of 127.0.0.1) goes to the server only when credentials are included.
    let document = js_sys::Reflect::get(&js_sys::global(), &"document".into()).unwrap();
    js_sys::Reflect::set(
        &document,
        &"cookie".into(),
        &"sse_wasm_probe=1; path=/".into(),
    )
    .unwrap();
    let mut cookies = Vec::new();
    for with_credentials in [true, false] {
        let session = new_session("credentials");
        let client = SseClient::builder(sse_url(&format!("session={session}&count=1&then=hold")))
            .with_credentials(with_credentials)
            .connect()
            .unwrap();
        let (seqs, _s) = record_seqs(&client, "message");
        wait_for("an event", ms(5000), || seqs.len() == 1).await;
        client.close();
        let stats = stats(&session).await;
        cookies.push(stats.connections[0].headers.get("cookie").cloned());
    }
    assert_eq!(cookies, [Some("sse_wasm_probe=1".to_owned()), None]);
}

/// A client of `query` on `transport` that ends its stream as `end` says, and what it
/// saw by the time it closed: raw events of `types`, its states and errors, and the
/// server's record.
async fn ended_stream(
    label: &str,
    query: &str,
    transport: sse_wasm::Transport,
    end: impl FnOnce(sse_wasm::SseClientBuilder) -> sse_wasm::SseClientBuilder,
    types: &[&str],
) -> (Vec<String>, Watch, Stats) {
    let session = new_session(label);
    let builder = SseClient::builder(sse_url(&format!("session={session}&{query}")))
        .transport(transport)
        .backoff(quick_backoff(30));
    let client = end(builder).connect().unwrap();
    let watch = Watch::new(&client);
    let seen = Log::new();
    let _subscriptions: Vec<_> = types
        .iter()
        .map(|event_type| {
            let sink = seen.clone();
            client.on_raw(event_type, move |event| {
                sink.push(format!("{} {}", event.event_type, event.data))
            })
        })
        .collect();
    wait_for("the client to close at the end", ms(8000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    let stats = wait_for_stats("the stream to close", &session, ms(3000), |stats| {
        stats.open == 0
    })
    .await;
    sleep_ms(300).await;
    (seen.get(), watch, stats)
}

#[wasm_bindgen_test]
async fn end_on_type_delivers_the_last_event_then_closes_without_error_or_request() {
    for transport in [sse_wasm::Transport::EventSource, sse_wasm::Transport::Fetch] {
        let (seen, watch, stats) = ended_stream(
            "end-type",
            "count=6&types=tick,tick,done&format=text&then=hold",
            transport,
            |builder| builder.end_on_type("done"),
            &["tick", "done"],
        )
        .await;
        assert_eq!(
            seen,
            ["tick event 1", "tick event 2", "done event 3"],
            "{transport:?}"
        );
        assert_eq!(watch.state_names(), ["open", "closed"], "{transport:?}");
        assert!(watch.errors.get().is_empty(), "{transport:?}");
        assert_eq!(stats.connections.len(), 1, "{transport:?}: {stats:?}");
    }
}

#[wasm_bindgen_test]
async fn end_on_data_closes_without_delivering_it_even_with_no_handler_of_its_type() {
    for transport in [sse_wasm::Transport::EventSource, sse_wasm::Transport::Fetch] {
        let (seen, watch, stats) = ended_stream(
            "end-data",
            "count=6&format=text&then=hold",
            transport,
            |builder| builder.end_on_data("event 3"),
            &["message"],
        )
        .await;
        assert_eq!(
            seen,
            ["message event 1", "message event 2"],
            "{transport:?}"
        );
        assert!(watch.errors.get().is_empty(), "{transport:?}");
        assert_eq!(stats.connections.len(), 1, "{transport:?}: {stats:?}");
        // No handler at all: the end is still heard, and nothing else happens.
        let (seen, watch, stats) = ended_stream(
            "end-data-unheard",
            "count=6&format=text&then=hold",
            transport,
            |builder| builder.end_on_data("event 2"),
            &[],
        )
        .await;
        assert!(seen.is_empty());
        assert_eq!(watch.state_names(), ["open", "closed"], "{transport:?}");
        assert_eq!(stats.connections.len(), 1, "{transport:?}: {stats:?}");
    }
}
