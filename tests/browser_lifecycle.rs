//! Closing, dropping, invalid input and the closure leak check; the page's life
//! (`online`, visibility, `pause_when_hidden`, the back/forward cache's
//! `pagehide`/`pageshow`).
#![cfg(target_arch = "wasm32")]

mod common;

use common::page::*;
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
        CLOSE_SEEN_WITHIN,
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
        CLOSE_SEEN_WITHIN,
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
    let stats = wait_for_stats(
        "the stream to close",
        &session,
        CLOSE_SEEN_WITHIN,
        |stats| stats.open == 0,
    )
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

// ---------------------------------------------------------------------------
// The page's life (common/page.rs: a hidden page, `online`, `pagehide`, `pageshow`).

#[wasm_bindgen_test]
async fn online_skips_the_rest_of_the_backoff_wait_and_keeps_the_attempt_count() {
    let session = new_session("online");
    // Two failures, then a stream; a backoff far longer than the test waits.
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&fail_status=500&fail_first=2&count=1&then=hold"
    )))
    .backoff(quick_backoff(20_000).max(ms(60_000)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the first retry to be scheduled", ms(5000), || {
        matches!(client.state(), ConnectionState::Reconnecting { .. })
    })
    .await;
    sleep_ms(300).await;
    assert_eq!(stats(&session).await.connections.len(), 1, "still waiting");
    going_online();
    wait_for("the second retry to be scheduled", ms(3000), || {
        matches!(
            client.state(),
            ConnectionState::Reconnecting { attempt: 2, .. }
        )
    })
    .await;
    going_online();
    wait_for("the event after the second online", ms(3000), || {
        seqs.len() == 1
    })
    .await;
    let stats = stats(&session).await;
    let statuses: Vec<u16> = stats.connections.iter().map(|seen| seen.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    for gap in stats.gaps_ms() {
        assert!(
            gap < 2000.0,
            "a request came at once, not after 20 s: {stats:?}"
        );
    }
    // The attempt count was kept: the second wait was the second delay.
    let waits: Vec<ConnectionState> = watch
        .states
        .get()
        .into_iter()
        .filter(|state| matches!(state, ConnectionState::Reconnecting { .. }))
        .collect();
    assert_eq!(
        waits,
        [
            ConnectionState::Reconnecting {
                attempt: 1,
                delay: ms(20_000)
            },
            ConnectionState::Reconnecting {
                attempt: 2,
                delay: ms(40_000)
            }
        ]
    );
    // Online while connected does nothing.
    going_online();
    sleep_ms(300).await;
    assert_eq!(common::stats(&session).await.connections.len(), 3);
    assert_eq!(client.state(), ConnectionState::Open);
    client.close();
}

#[wasm_bindgen_test]
async fn a_page_becoming_visible_skips_the_rest_of_the_backoff_wait() {
    let (client, session) = {
        let session = new_session("visible");
        let client = SseClient::builder(sse_url(&format!(
            "session={session}&fail_status=500&fail_first=1&count=1&then=hold"
        )))
        .backoff(quick_backoff(20_000))
        .connect()
        .unwrap();
        (client, session)
    };
    wait_for("the retry to be scheduled", ms(5000), || {
        matches!(client.state(), ConnectionState::Reconnecting { .. })
    })
    .await;
    let hidden = Hidden::new();
    sleep_ms(300).await;
    assert_eq!(
        stats(&session).await.connections.len(),
        1,
        "hiding does not connect"
    );
    drop(hidden);
    wait_for("the client to connect", ms(3000), || {
        client.state() == ConnectionState::Open
    })
    .await;
    let stats = stats(&session).await;
    assert_eq!(stats.connections.len(), 2);
    assert!(stats.gaps_ms()[0] < 2000.0, "{stats:?}");
    client.close();
}

#[wasm_bindgen_test]
async fn pause_when_hidden_pauses_a_hidden_page_and_resumes_from_the_last_id() {
    let session = new_session("pause");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=60&interval=40&then=hold"
    )))
    .pause_when_hidden(Some(ms(600)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("three events", ms(5000), || seqs.len() >= 3).await;

    // Hidden for less than the pause: nothing happens.
    let hidden = Hidden::new();
    sleep_ms(300).await;
    drop(hidden);
    sleep_ms(600).await;
    assert_eq!(
        client.state(),
        ConnectionState::Open,
        "never paused while visible"
    );

    let hidden = Hidden::new();
    sleep_ms(400).await;
    assert_eq!(
        client.state(),
        ConnectionState::Open,
        "not hidden long enough yet"
    );
    wait_for("the pause", ms(2000), || {
        client.state() == ConnectionState::Paused
    })
    .await;
    let paused_at = client.last_event_id();
    wait_for_stats(
        "the server to see the stream closed",
        &session,
        CLOSE_SEEN_WITHIN,
        |stats| stats.open == 0,
    )
    .await;
    // While paused, online does nothing.
    going_online();
    sleep_ms(500).await;
    assert_eq!(client.state(), ConnectionState::Paused);
    assert_eq!(stats(&session).await.connections.len(), 1);

    drop(hidden);
    wait_for("all sixty events", ms(10_000), || seqs.len() == 60).await;
    assert_eq!(
        seqs.get(),
        (1..=60).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    let stats = stats(&session).await;
    assert_eq!(stats.connections.len(), 2, "{stats:?}");
    assert_eq!(stats.connections[1].last_event_id, Some(paused_at));
    assert_eq!(
        watch.state_names(),
        ["open", "paused", "connecting", "open"]
    );
    assert!(watch.errors.get().is_empty(), "a pause is not an error");
    client.close();
}

#[wasm_bindgen_test]
async fn a_client_made_on_a_hidden_page_pauses_after_the_wait_too() {
    let session = new_session("hidden-from-start");
    let hidden = Hidden::new();
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=20&interval=40&then=hold"
    )))
    .pause_when_hidden(Some(ms(300)))
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the pause", ms(3000), || {
        client.state() == ConnectionState::Paused
    })
    .await;
    drop(hidden);
    wait_for("all twenty events", ms(8000), || seqs.len() == 20).await;
    assert_eq!(seqs.get(), (1..=20).collect::<Vec<_>>());
    assert_eq!(stats(&session).await.connections.len(), 2);
    client.close();
}

#[wasm_bindgen_test]
async fn reconnect_and_close_while_paused() {
    let baseline = live_closures();
    let session = new_session("paused-reconnect");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=1000&interval=50&then=hold"
    )))
    .pause_when_hidden(Some(ms(400)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("an event", ms(5000), || !seqs.get().is_empty()).await;
    let _hidden = Hidden::new();
    wait_for("the pause", ms(2000), || {
        client.state() == ConnectionState::Paused
    })
    .await;
    let paused_at = client.last_event_id();
    // reconnect() connects now; the page is still hidden, so the pause comes again.
    client.reconnect();
    assert_eq!(client.state(), ConnectionState::Connecting);
    wait_for("the new connection", ms(3000), || {
        client.state() == ConnectionState::Open
    })
    .await;
    wait_for("the second pause", ms(2000), || {
        client.state() == ConnectionState::Paused
    })
    .await;
    let stats_now = stats(&session).await;
    assert_eq!(stats_now.connections.len(), 2);
    assert_eq!(stats_now.connections[1].last_event_id, Some(paused_at));
    client.close();
    assert_eq!(client.state(), ConnectionState::Closed);
    assert_eq!(
        watch.state_names(),
        ["open", "paused", "connecting", "open", "paused", "closed"]
    );
    drop(_s);
    drop(watch);
    drop(client);
    assert_eq!(live_closures(), baseline, "the page's listeners were freed");
    sleep_ms(600).await;
    assert_eq!(
        stats(&session).await.connections.len(),
        2,
        "nothing after close()"
    );
}

#[wasm_bindgen_test]
async fn the_back_forward_cache_closes_the_connection_and_a_restore_resumes() {
    let baseline = live_closures();
    for transport in [sse_wasm::Transport::EventSource, sse_wasm::Transport::Fetch] {
        let session = new_session("bfcache");
        let client = SseClient::builder(sse_url(&format!(
            "session={session}&count=40&interval=40&then=hold"
        )))
        .transport(transport)
        .connect()
        .unwrap();
        let watch = Watch::new(&client);
        let (seqs, _s) = record_seqs(&client, "message");
        wait_for("three events", ms(5000), || seqs.len() >= 3).await;
        // A pagehide that does not go into the cache changes nothing.
        page_event("pagehide", false);
        assert_eq!(client.state(), ConnectionState::Open, "{transport:?}");
        page_event("pagehide", true);
        assert_eq!(client.state(), ConnectionState::Paused, "{transport:?}");
        let frozen_at = client.last_event_id();
        wait_for_stats(
            "the stream to close",
            &session,
            CLOSE_SEEN_WITHIN,
            |stats| stats.open == 0,
        )
        .await;
        page_event("pageshow", true);
        wait_for("all forty events", ms(8000), || seqs.len() == 40).await;
        assert_eq!(seqs.get(), (1..=40).collect::<Vec<_>>(), "{transport:?}");
        let stats = stats(&session).await;
        assert_eq!(stats.connections.len(), 2, "{transport:?}: {stats:?}");
        assert_eq!(stats.connections[1].last_event_id, Some(frozen_at));
        assert_eq!(
            watch.state_names(),
            ["open", "paused", "connecting", "open"],
            "{transport:?}"
        );
        client.close();
    }
    // The closed fetch task ends when its aborted read settles: wait for it, so the
    // leak checks of the other tests count from a quiet page.
    wait_for("the fetch task to end", ms(3000), || {
        live_closures() <= baseline
    })
    .await;
}
