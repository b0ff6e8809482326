//! `SseClientBuilder::share`: clients of one share name share one connection to the
//! real server. The clients here are in one page (a Web Lock and a BroadcastChannel
//! reach every client of the origin, in this page or another tab); the tabs of a
//! browser are covered by www/tests/share.test.mjs, on the same protocol.
#![cfg(target_arch = "wasm32")]

mod common;

use common::page::page_event;
use common::*;
use sse_wasm::{live_closures, ConnectionState, Role, SseClient, SseError, Transport};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn shared(url: &str, name: &str, transport: Transport) -> SseClient {
    SseClient::builder(url)
        .share(name)
        .transport(transport)
        .backoff(quick_backoff(50))
        .connect()
        .unwrap()
}

/// `seqs` is from..=to with nothing missing or repeated.
fn assert_run(seqs: &[u64], to: u64, what: &str) {
    let from = seqs.first().copied().unwrap_or(0);
    let expected: Vec<u64> = (from..=to).collect();
    assert_eq!(seqs, expected, "{what}: every event once, in order");
}

#[wasm_bindgen_test]
async fn clients_of_one_name_share_one_connection_and_a_takeover_resumes() {
    let before = live_closures();
    for transport in [Transport::EventSource, Transport::Fetch] {
        let session = new_session("share");
        let url = sse_url(&format!("session={session}&count=60&interval=25&then=hold"));
        let name = format!("share-{session}");
        let first = shared(&url, &name, transport);
        let second = shared(&url, &name, transport);
        let (first_seqs, _a) = record_seqs(&first, "message");
        let (second_seqs, _b) = record_seqs(&second, "message");
        let watch = Watch::new(&second);
        wait_for("both to hear events", ms(5000), || {
            first_seqs.len() >= 10 && second_seqs.len() >= 10
        })
        .await;
        assert_eq!(first.role(), Role::Leader, "{transport:?}");
        assert_eq!(second.role(), Role::Follower, "{transport:?}");
        assert_eq!(
            second.state(),
            ConnectionState::Open,
            "the state is mirrored"
        );
        assert_eq!(stats(&session).await.connections.len(), 1, "{transport:?}");
        let at = first_seqs.len() as u64;

        // The leader closes: the follower takes over and resumes where it was.
        first.close();
        assert_eq!(first.state(), ConnectionState::Closed);
        wait_for("the takeover", ms(5000), || second.role() == Role::Leader).await;
        wait_for("the last event", ms(8000), || {
            second_seqs.get().last() == Some(&60)
        })
        .await;
        assert_run(&second_seqs.get(), 60, "the follower that took over");
        assert_eq!(second.last_event_id(), "60");
        let stats = stats(&session).await;
        assert_eq!(stats.connections.len(), 2, "{transport:?}: {stats:?}");
        let resumed: u64 = stats.connections[1]
            .last_event_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        assert!(resumed >= at, "resumed from {resumed}, the leader had {at}");
        assert!(watch.errors.get().is_empty(), "a takeover is no error");
        second.close();
        assert_eq!(second.state(), ConnectionState::Closed);
    }
    sleep_ms(100).await;
    assert_eq!(live_closures(), before, "nothing of either client is left");
}

#[wasm_bindgen_test]
async fn a_follower_gets_a_type_only_it_listens_to_and_its_close_is_its_own() {
    let session = new_session("share-types");
    let url = sse_url(&format!(
        "session={session}&count=80&interval=25&types=tick,news&then=hold"
    ));
    let name = format!("share-{session}");
    let leader = shared(&url, &name, Transport::EventSource);
    let (ticks, _t) = record_seqs(&leader, "tick");
    wait_for("the leader", ms(5000), || leader.role() == Role::Leader).await;
    let follower = shared(&url, &name, Transport::EventSource);
    let (news, _n) = record_seqs(&follower, "news");
    wait_for("news in the follower", ms(5000), || news.len() >= 4).await;
    let seen = news.get();
    assert!(seen.iter().all(|seq| seq % 2 == 0), "news only: {seen:?}");
    assert!(
        seen.windows(2).all(|pair| pair[1] == pair[0] + 2),
        "{seen:?}"
    );
    assert!(ticks.get().iter().all(|seq| seq % 2 == 1));

    let follower_watch = Watch::new(&follower);
    follower.close();
    assert_eq!(follower.state(), ConnectionState::Closed);
    assert_eq!(follower_watch.state_names(), ["closed"]);
    let stopped = news.len();
    let ticks_then = ticks.len();
    wait_for("more ticks", ms(5000), || ticks.len() >= ticks_then + 4).await;
    assert_eq!(news.len(), stopped, "a closed follower hears nothing more");
    assert_eq!(leader.state(), ConnectionState::Open);
    assert_eq!(stats(&session).await.connections.len(), 1);
    leader.close();
}

#[wasm_bindgen_test]
async fn an_end_for_good_closes_every_client_of_the_share() {
    let session = new_session("share-end");
    // 204 is the server's stop: fatal on the fetch transport.
    let url = sse_url(&format!("session={session}&fail_status=204&fail_first=10"));
    let name = format!("share-{session}");
    let leader = shared(&url, &name, Transport::Fetch);
    let follower = shared(&url, &name, Transport::Fetch);
    let watch = Watch::new(&follower);
    wait_for("both closed", ms(5000), || {
        leader.state() == ConnectionState::Closed && follower.state() == ConnectionState::Closed
    })
    .await;
    sleep_ms(500).await;
    assert_eq!(
        stats(&session).await.connections.len(),
        1,
        "nobody took over"
    );
    assert_eq!(watch.state_names().last(), Some(&"closed"));
    let errors = watch.errors.get();
    assert!(
        errors
            .iter()
            .any(|error| matches!(error, SseError::Http { status: 204, .. })),
        "the leader's error reaches the follower, typed: {errors:?}"
    );
}

/// `pagehide` with `persisted` (the page goes into the back/forward cache) takes every
/// client of this page out of the share: the leader's connection stands by. On
/// `pageshow` they join again; whichever leads connects (a stood-by connection starts
/// again), resuming from the newest id, and both hear the stream again.
#[wasm_bindgen_test]
async fn the_back_forward_cache_stands_a_leader_by_and_a_restored_page_shares_again() {
    let session = new_session("share-bfcache");
    let url = sse_url(&format!(
        "session={session}&count=400&interval=25&then=hold"
    ));
    let name = format!("share-{session}");
    let first = shared(&url, &name, Transport::EventSource);
    let second = shared(&url, &name, Transport::EventSource);
    let (first_seqs, _a) = record_seqs(&first, "message");
    let (second_seqs, _b) = record_seqs(&second, "message");
    wait_for("events in both", ms(5000), || {
        first_seqs.len() >= 5 && second_seqs.len() >= 5
    })
    .await;
    assert_eq!(first.role(), Role::Leader);

    page_event("pagehide", true);
    assert_eq!(
        first.role(),
        Role::Follower,
        "out of the share while cached"
    );
    assert_eq!(first.state(), ConnectionState::Paused);
    wait_for_stats(
        "the stream to close",
        &session,
        CLOSE_SEEN_WITHIN,
        |stats| stats.open == 0,
    )
    .await;

    page_event("pageshow", true);
    wait_for("a leader again", ms(5000), || {
        (first.role() == Role::Leader) != (second.role() == Role::Leader)
    })
    .await;
    let (first_then, second_then) = (first_seqs.len(), second_seqs.len());
    wait_for("events again in both", ms(5000), || {
        first_seqs.len() >= first_then + 5 && second_seqs.len() >= second_then + 5
    })
    .await;
    assert_eq!(first.state(), ConnectionState::Open);
    assert_eq!(second.state(), ConnectionState::Open);
    let stats = stats(&session).await;
    assert_eq!(stats.connections.len(), 2, "{stats:?}");
    assert_eq!(stats.open, 1);
    let resumed: u64 = stats.connections[1]
        .last_event_id
        .as_deref()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    assert!(resumed >= 5, "resumed from {resumed}");
    // Whoever leads, the connection resumed where the share was: no event twice.
    for (what, seqs) in [("first", first_seqs.get()), ("second", second_seqs.get())] {
        assert!(
            seqs.windows(2).all(|pair| pair[1] > pair[0]),
            "{what}: {seqs:?}"
        );
    }
    first.close();
    second.close();
}

#[wasm_bindgen_test]
fn an_empty_share_name_is_invalid() {
    let error = SseClient::builder("/sse").share("").connect().unwrap_err();
    assert!(matches!(error, SseError::Invalid { .. }), "{error:?}");
    assert_eq!(
        SseClient::connect("/sse?count=0").unwrap().role(),
        Role::Solo
    );
}
