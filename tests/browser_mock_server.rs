//! The test kit (`sse_wasm::testing`): a server scripted inside the page answers the
//! clients of its path on both transports, through the library's own parser, status
//! rules, backoff and resume. No network is involved, so no `server/` either.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use sse_wasm::testing::{Event, MockServer, Refusal};
use sse_wasm::{ConnectionState, SseClient, Transport};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fetch_client(url: &str) -> SseClient {
    SseClient::builder(url)
        .transport(Transport::Fetch)
        .backoff(quick_backoff(20))
        .connect()
        .unwrap()
}

fn native_client(url: &str) -> SseClient {
    SseClient::builder(url)
        .transport(Transport::EventSource)
        .backoff(quick_backoff(20))
        .connect()
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_relative_install_serves_an_absolute_url_with_a_query_on_fetch() {
    let (server, url) = mock_server("fetch-basics");
    let client = SseClient::builder(format!("{url}?room=7"))
        .header("authorization", "Bearer t0k3n")
        .method("POST")
        .body("{\"q\":1}")
        .backoff(quick_backoff(20))
        .connect()
        .unwrap();
    let watch = Watch::new(&client);
    let (ticks, _t) = record_raw(&client, "tick");
    let seen = within(ms(5000), "the request", server.next_connection()).await;
    assert_eq!(seen.transport, Transport::Fetch);
    assert_eq!(seen.url, format!("{url}?room=7"));
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.body.as_deref(), Some("{\"q\":1}"));
    assert_eq!(seen.header("Authorization"), Some("Bearer t0k3n"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert_eq!(seen.last_event_id, None);
    server.comment("hello");
    server.send(Event::new("tick", "a\nb").id("1"));
    server.json("tick", &[1, 2]);
    wait_for("two ticks", ms(5000), || ticks.len() == 2).await;
    let got: Vec<_> = ticks
        .get()
        .into_iter()
        .map(|event| (event.data, event.last_event_id))
        .collect();
    assert_eq!(
        got,
        [("a\nb".into(), "1".into()), ("[1,2]".into(), "1".into())]
    );
    assert_eq!(watch.state_names(), ["open"]);
    assert_eq!(server.open_streams(), 1);
    client.close();
    assert_eq!(server.open_streams(), 0, "a closed client has no stream");
}

#[wasm_bindgen_test]
async fn bytes_in_arbitrary_chunks_parse_as_one_stream() {
    let (server, url) = mock_server("chunks");
    let client = fetch_client(&url);
    let (notes, _n) = record_raw(&client, "note");
    within(ms(5000), "the request", server.next_connection()).await;
    let stream = "event: note\r\ndata: caf\u{e9} \u{1F600}\r\nid: 9\r\n\r\n".as_bytes();
    for byte in stream {
        server.bytes([*byte]);
    }
    wait_for("the note", ms(5000), || notes.len() == 1).await;
    assert_eq!(notes.get()[0].data, "caf\u{e9} \u{1F600}");
    assert_eq!(client.last_event_id(), "9");
    client.close();
}

#[wasm_bindgen_test]
async fn a_dropped_fetch_stream_resumes_with_the_last_event_id_header() {
    let (server, url) = mock_server("fetch-resume");
    let client = fetch_client(&url);
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    within(ms(5000), "the first request", server.next_connection()).await;
    send_seqs(&server, 1, &["", ""]);
    wait_for("two events", ms(5000), || seqs.len() == 2).await;
    server.drop_streams();
    let second = within(ms(5000), "the reconnect", server.next_connection()).await;
    assert_eq!(second.last_event_id.as_deref(), Some("2"));
    assert_eq!(second.header("last-event-id"), Some("2"));
    send_seqs(&server, 3, &[""]);
    wait_for("the third event", ms(5000), || seqs.len() == 3).await;
    assert_eq!(seqs.get(), [1, 2, 3]);
    assert_eq!(watch.error_kinds(), ["network"]);
    assert_eq!(
        watch.state_names(),
        ["open", "reconnecting", "connecting", "open"]
    );
    client.close();
}

#[wasm_bindgen_test]
async fn statuses_go_through_the_clients_rules_with_retry_after() {
    let (server, url) = mock_server("statuses");
    server.refuse_next(1, Refusal::status(503).retry_after("1"));
    server.refuse_next(1, Refusal::status(404));
    let client = fetch_client(&url);
    let watch = Watch::new(&client);
    wait_for("closed", ms(10_000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    let seen = server.connections();
    assert_eq!(seen.len(), 2, "a 404 is not retried: {seen:?}");
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= ms(990), "Retry-After: 1 waits a second, not {gap:?}");
    let statuses: Vec<_> = watch
        .errors
        .get()
        .iter()
        .map(|error| match error {
            sse_wasm::SseError::Http { status, .. } => *status,
            other => panic!("expected HTTP errors, got {other:?}"),
        })
        .collect();
    assert_eq!(statuses, [503, 404]);
}

#[wasm_bindgen_test]
async fn a_wrong_content_type_or_a_204_closes_for_good() {
    for (refusal, kind) in [
        (Refusal::content_type("text/html"), "content-type"),
        (Refusal::status(204), "http"),
    ] {
        let (server, url) = mock_server("fatal");
        server.refuse_next(1, refusal);
        let client = fetch_client(&url);
        let watch = Watch::new(&client);
        wait_for("closed", ms(5000), || {
            client.state() == ConnectionState::Closed
        })
        .await;
        assert_eq!(watch.error_kinds(), [kind]);
        sleep_ms(100).await;
        assert_eq!(server.connections().len(), 1, "no retry after {kind}");
    }
}

#[wasm_bindgen_test]
async fn an_ended_stream_is_reopened_unless_told_otherwise() {
    let (server, url) = mock_server("end");
    let client = SseClient::builder(&url)
        .transport(Transport::Fetch)
        .reconnect_on_end(false)
        .connect()
        .unwrap();
    let watch = Watch::new(&client);
    within(ms(5000), "the request", server.next_connection()).await;
    server.end_streams();
    wait_for("closed", ms(5000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    assert_eq!(watch.error_kinds(), ["network"]);
}

#[wasm_bindgen_test]
async fn retry_raises_the_next_delay_on_fetch() {
    let (server, url) = mock_server("retry");
    let client = fetch_client(&url);
    let first = within(ms(5000), "the request", server.next_connection()).await;
    server.retry(ms(400));
    server.drop_streams();
    let second = within(ms(5000), "the reconnect", server.next_connection()).await;
    let gap = second.at - first.at;
    assert!(gap >= ms(400), "retry: 400 beats a 20 ms backoff: {gap:?}");
    client.close();
}

#[wasm_bindgen_test]
async fn a_stalled_request_meets_the_idle_timeout() {
    let (server, url) = mock_server("stall");
    server.stall_next(1);
    let client = SseClient::builder(&url)
        .transport(Transport::Fetch)
        .backoff(quick_backoff(20))
        .idle_timeout(Some(ms(200)))
        .connect()
        .unwrap();
    let watch = Watch::new(&client);
    within(ms(5000), "the stalled request", server.next_connection()).await;
    within(ms(5000), "the retry", server.next_connection()).await;
    wait_for("open", ms(5000), || client.state() == ConnectionState::Open).await;
    assert_eq!(watch.error_kinds(), ["idle"]);
    client.close();
}

#[wasm_bindgen_test]
async fn the_native_transport_sees_only_what_an_event_source_would() {
    let (server, url) = mock_server("native");
    let client = native_client(&url);
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    let (raw, _r) = record_raw(&client, "tick");
    let first = within(ms(5000), "the request", server.next_connection()).await;
    assert_eq!(first.transport, Transport::EventSource);
    assert_eq!(first.method, "GET");
    server.comment("invisible");
    send_seqs(&server, 1, &["", "tick", ""]);
    wait_for("three events", ms(5000), || seqs.len() + raw.len() == 3).await;
    assert_eq!(seqs.get(), [1, 3]);
    assert_eq!(raw.get()[0].last_event_id, "2");
    server.drop_streams();
    let second = within(ms(5000), "the reconnect", server.next_connection()).await;
    assert_eq!(second.last_event_id.as_deref(), Some("3"));
    assert_eq!(second.url, format!("{url}?lastEventId=3"));
    send_seqs(&server, 4, &[""]);
    wait_for("the fourth event", ms(5000), || seqs.len() == 3).await;
    assert_eq!(seqs.get(), [1, 3, 4]);
    // An EventSource cannot tell a lost stream from an ended one.
    assert_eq!(watch.error_kinds(), ["network"]);
    client.close();
    assert_eq!(server.open_streams(), 0);
}

#[wasm_bindgen_test]
async fn the_native_transport_cannot_see_a_status_so_it_retries() {
    let (server, url) = mock_server("native-status");
    server.refuse_next(2, Refusal::status(404));
    let client = native_client(&url);
    let watch = Watch::new(&client);
    wait_for("open", ms(5000), || client.state() == ConnectionState::Open).await;
    assert_eq!(server.connections().len(), 3);
    let errors = watch.errors.get();
    assert_eq!(errors.len(), 2);
    assert!(
        errors
            .iter()
            .all(|error| error.kind() == "network"
                && error.to_string().contains("HTTP error status")),
        "no status, only that the browser gave up: {errors:?}"
    );
    client.close();
}

#[wasm_bindgen_test]
async fn dropping_the_server_uninstalls_it() {
    let (older, url) = mock_server("uninstall");
    let newer = MockServer::install(older.path());
    let client = fetch_client(&url);
    within(ms(5000), "the newer one answers", newer.next_connection()).await;
    assert!(older.connections().is_empty());
    drop(newer);
    // Its stream is lost; the reconnect goes to the server still installed.
    within(ms(5000), "the older one answers", older.next_connection()).await;
    wait_for("open", ms(5000), || client.state() == ConnectionState::Open).await;
    client.close();
}

#[wasm_bindgen_test]
async fn events_sent_before_the_stream_opens_wait_for_it() {
    let (server, url) = mock_server("pending");
    send_seqs(&server, 1, &["", ""]);
    let client = native_client(&url);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("two events", ms(5000), || seqs.len() == 2).await;
    assert_eq!(seqs.get(), [1, 2]);
    client.close();
}
