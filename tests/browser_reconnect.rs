//! Reconnection, backoff, resume and idle timeout, checked by the client and by the
//! scripted server's record of every request.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use sse_wasm::{Backoff, ConnectionState, SseClient, SseError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The suites that test the network need the scripted server; when it is not there,
/// this says what to start (`make server` serves on the suites' default address).
#[wasm_bindgen_test]
async fn the_scripted_server_answers() {
    let seen = stats(&new_session("probe")).await;
    assert_eq!(
        seen.connections.len(),
        0,
        "a new session has seen no request"
    );
}

#[wasm_bindgen_test]
async fn ten_forced_drops_resume_without_loss_or_duplicates() {
    let session = new_session("drops");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=53&drop_after=5&interval=5&then=hold"
    )))
    .backoff(quick_backoff(20))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("53 events", ms(15_000), || seqs.len() >= 53).await;
    sleep_ms(100).await;
    assert_eq!(
        seqs.get(),
        (1..=53).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert_eq!(client.last_event_id(), "53");

    let stats = stats(&session).await;
    let resumed: Vec<Option<String>> = stats
        .connections
        .iter()
        .take(11)
        .map(|seen| seen.last_event_id.clone())
        .collect();
    let expected: Vec<Option<String>> = std::iter::once(None)
        .chain((1..=10).map(|drop| Some((drop * 5).to_string())))
        .collect();
    assert_eq!(
        resumed, expected,
        "each request resumed after the last event delivered"
    );
    assert!(stats.connections[1..11]
        .iter()
        .all(|seen| seen.id_source.as_deref() == Some("query")));
    let sent: u64 = stats.connections.iter().map(|seen| seen.events_sent).sum();
    assert_eq!(sent, 53, "the server sent each event once");
    assert_eq!(
        watch
            .error_kinds()
            .iter()
            .filter(|kind| **kind == "network")
            .count(),
        10,
        "each drop is reported once"
    );
    client.close();
}

#[wasm_bindgen_test]
async fn backoff_gaps_seen_by_the_server_double_and_a_failure_before_open_is_retried() {
    let session = new_session("backoff");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&fail_status=500&fail_first=4&count=1&then=hold"
    )))
    .backoff(quick_backoff(100))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the event after four failures", ms(10_000), || {
        seqs.len() == 1
    })
    .await;
    let stats = stats(&session).await;
    let statuses: Vec<u16> = stats.connections.iter().map(|seen| seen.status).collect();
    assert_eq!(statuses, [500, 500, 500, 500, 200]);
    let gaps = stats.gaps_ms();
    for (gap, expected) in gaps.iter().zip([100.0, 200.0, 400.0, 800.0]) {
        assert!(
            *gap >= expected - 15.0 && *gap <= expected + 250.0,
            "gap {gap:.0} ms where {expected} ms was due; all gaps {gaps:?}"
        );
    }
    let reconnecting: Vec<ConnectionState> = watch
        .states
        .get()
        .into_iter()
        .filter(|state| matches!(state, ConnectionState::Reconnecting { .. }))
        .collect();
    assert_eq!(
        reconnecting,
        [1, 2, 3, 4].map(|attempt| ConnectionState::Reconnecting {
            attempt,
            delay: ms(100 << (attempt - 1)),
        })
    );
    assert_eq!(watch.error_kinds(), ["network"; 4]);
    assert_eq!(client.state(), ConnectionState::Open);
    client.close();
}

#[wasm_bindgen_test]
async fn exhausting_max_retries_closes_with_the_exhausted_error() {
    let session = new_session("exhaust");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&fail_status=503&fail_first=1000"
    )))
    .backoff(quick_backoff(20).max_retries(Some(2)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    wait_for("closed", ms(5000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    sleep_ms(300).await;
    assert_eq!(
        stats(&session).await.connections.len(),
        3,
        "2 retries = 3 requests"
    );
    assert_eq!(
        watch.error_kinds(),
        ["network", "network", "network", "retries-exhausted"]
    );
    assert_eq!(
        watch.errors.get().last(),
        Some(&SseError::RetriesExhausted { attempts: 2 })
    );
    assert_eq!(watch.state_names().last(), Some(&"closed"));
    assert_eq!(
        watch
            .state_names()
            .iter()
            .filter(|state| **state == "closed")
            .count(),
        1
    );
}

#[wasm_bindgen_test]
async fn the_retry_budget_resets_after_an_event() {
    let session = new_session("budget");
    // Every connection delivers one event and ends: each end is a failure, but each
    // event resets the budget, so a budget of 2 never runs out.
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=6&drop_after=1&then=hold"
    )))
    .backoff(quick_backoff(20).max_retries(Some(2)))
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("six events over six connections", ms(10_000), || {
        seqs.len() == 6
    })
    .await;
    assert_eq!(seqs.get(), [1, 2, 3, 4, 5, 6]);
    assert_ne!(client.state(), ConnectionState::Closed);
    assert!(stats(&session).await.connections.len() >= 6);
    client.close();
}

#[wasm_bindgen_test]
async fn an_idle_stream_is_reconnected_and_resumed() {
    let session = new_session("idle");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=100&stall_after=2"
    )))
    .backoff(quick_backoff(50))
    .idle_timeout(Some(ms(400)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("events of the second connection", ms(8000), || {
        seqs.len() >= 4
    })
    .await;
    assert_eq!(seqs.get()[..4], [1, 2, 3, 4]);
    assert_eq!(watch.errors.get()[0], SseError::Idle { timeout: ms(400) });
    let stats = stats(&session).await;
    assert_eq!(stats.connections[1].last_event_id.as_deref(), Some("2"));
    let gap = stats.gaps_ms()[0];
    assert!(
        gap >= 400.0,
        "reconnected after {gap:.0} ms, before the idle timeout"
    );
    client.close();
}

#[wasm_bindgen_test]
async fn reconnect_reconnects_at_once_and_resumes() {
    let session = new_session("reconnect");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=10&interval=30&then=hold"
    )))
    .backoff(Backoff::exponential(ms(5000)))
    .connect()
    .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("three events", ms(5000), || seqs.len() >= 3).await;
    let id_at_reconnect = client.last_event_id();
    client.reconnect();
    assert_eq!(client.state(), ConnectionState::Connecting);
    wait_for("all ten events", ms(5000), || seqs.len() == 10).await;
    assert_eq!(
        seqs.get(),
        (1..=10).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    let stats = stats(&session).await;
    assert_eq!(stats.connections.len(), 2);
    assert_eq!(stats.connections[1].last_event_id, Some(id_at_reconnect));
    assert!(watch.errors.get().is_empty(), "reconnect() reports nothing");
    assert_eq!(watch.state_names(), ["open", "connecting", "open"]);
    client.close();
    client.reconnect();
    sleep_ms(200).await;
    assert_eq!(
        client.state(),
        ConnectionState::Closed,
        "reconnect() does nothing once closed"
    );
    assert_eq!(common::stats(&session).await.connections.len(), 2);
}

#[wasm_bindgen_test]
async fn the_first_request_can_resume_from_a_given_id_under_another_name() {
    let session = new_session("resume-param");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=43&resume_param=from&then=hold"
    )))
    .resume_param("from")
    .last_event_id("41")
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("the events after 41", ms(5000), || seqs.len() == 2).await;
    assert_eq!(seqs.get(), [42, 43]);
    let stats = stats(&session).await;
    assert_eq!(stats.connections[0].last_event_id.as_deref(), Some("41"));
    client.close();
}

#[wasm_bindgen_test]
async fn resume_false_sends_no_id() {
    let session = new_session("no-resume");
    let client = SseClient::builder(sse_url(&format!(
        "session={session}&count=4&drop_after=2&then=hold"
    )))
    .resume(false)
    .last_event_id("7")
    .backoff(quick_backoff(20))
    .connect()
    .unwrap();
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("two connections", ms(5000), || seqs.len() >= 4).await;
    assert_eq!(
        seqs.get()[..4],
        [1, 2, 1, 2],
        "without resume the stream starts over"
    );
    let stats = stats(&session).await;
    assert!(stats
        .connections
        .iter()
        .all(|seen| seen.last_event_id.is_none()));
    client.close();
}

#[wasm_bindgen_test]
async fn reconnect_on_end_false_closes_when_the_stream_ends() {
    let session = new_session("no-reconnect");
    let client = SseClient::builder(sse_url(&format!("session={session}&count=2")))
        .reconnect_on_end(false)
        .backoff(quick_backoff(20))
        .connect()
        .unwrap();
    let watch = Watch::new(&client);
    let (seqs, _s) = record_seqs(&client, "message");
    wait_for("closed", ms(5000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    sleep_ms(200).await;
    assert_eq!(seqs.get(), [1, 2]);
    assert_eq!(stats(&session).await.connections.len(), 1);
    assert_eq!(watch.error_kinds(), ["network"], "the end is reported once");
}

#[wasm_bindgen_test]
async fn staying_open_for_the_stable_period_resets_the_budget() {
    // Each connection opens, delivers nothing and is ended by the server after 400 ms.
    let query = "count=0&then=hold&max_ms=400";
    let stable = new_session("stable");
    let client = SseClient::builder(sse_url(&format!("session={stable}&{query}")))
        .backoff(quick_backoff(20).max_retries(Some(1)).stable_after(ms(200)))
        .connect()
        .unwrap();
    wait_for_stats("four connections", &stable, ms(8000), |stats| {
        stats.connections.len() >= 4
    })
    .await;
    assert_ne!(
        client.state(),
        ConnectionState::Closed,
        "open 400 ms > 200 ms is healthy"
    );
    client.close();

    let flapping = new_session("flapping");
    let client = SseClient::builder(sse_url(&format!("session={flapping}&{query}")))
        .backoff(
            quick_backoff(20)
                .max_retries(Some(1))
                .stable_after(ms(2000)),
        )
        .connect()
        .unwrap();
    wait_for("closed", ms(5000), || {
        client.state() == ConnectionState::Closed
    })
    .await;
    let stats = stats(&flapping).await;
    assert_eq!(
        stats.connections.len(),
        2,
        "open 400 ms < 2 s is not healthy: one retry"
    );
}
