//! The demo routes over real TCP: headers that keep proxies from buffering, the
//! snapshot and the gap-free sequence, replay from `Last-Event-ID` (header or
//! query), per-user two-factor routing, per-client drops and outages, bad input,
//! and streams that end at shutdown.

use std::net::SocketAddr;
use std::time::Duration;

mod common;

use serde_json::Value;
use sse_server::AppState;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::timeout;

use common::{assert_stream_headers, feed_events, get, ids, post, Conn, WAIT};

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

async fn start() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(sse_server::serve(
        listener,
        AppState::new(None),
        async move {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        stop: Some(stop),
    }
}

#[tokio::test]
async fn the_feed_starts_with_a_snapshot_then_one_gap_free_sequence() {
    let s = start().await;
    let mut feed = get(s.addr, "/demo/stream").await;
    assert_stream_headers(&feed);
    let snapshot = feed.event().await.unwrap();
    assert_eq!(snapshot.event, "snapshot");
    let head = snapshot.id.unwrap();
    assert_eq!(snapshot.data["head"].as_u64(), Some(head));
    let quotes = snapshot.data["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 5);
    assert!(quotes
        .iter()
        .all(|q| q["history"].as_array().unwrap().len() == 60));
    assert!(!snapshot.data["news"].as_array().unwrap().is_empty());
    assert!(!snapshot.data["notifications"]
        .as_array()
        .unwrap()
        .is_empty());

    let events = feed_events(&mut feed, 8).await;
    let expected: Vec<u64> = (head + 1..=head + 8).collect();
    assert_eq!(ids(&events), expected);
    let tick = events.iter().find(|e| e.event == "tick").unwrap();
    for field in ["symbol", "price", "change", "changePct", "time"] {
        assert!(!tick.data[field].is_null(), "{field}: {tick:?}");
    }
    let status = events.iter().find(|e| e.event == "status").unwrap();
    // The status panel's connection count is real: this stream is open.
    assert!(status.data["connections"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn a_returning_client_gets_exactly_the_events_it_missed() {
    let s = start().await;
    let mut first = get(s.addr, "/demo/stream").await;
    first.event().await.unwrap(); // snapshot
    let seen = feed_events(&mut first, 10).await;
    let last = seen[3].id.unwrap();

    // The same events again, byte for byte, after `last`: by header and by query.
    let header_value = last.to_string();
    let by_header = Conn::open(
        s.addr,
        "GET",
        "/demo/stream",
        &[("Last-Event-ID", header_value.as_str())],
    )
    .await;
    let by_query = get(s.addr, &format!("/demo/stream?client=q&lastEventId={last}")).await;
    // The header wins over the query parameter.
    let both = Conn::open(
        s.addr,
        "GET",
        &format!("/demo/stream?lastEventId={}", last + 2),
        &[("Last-Event-ID", header_value.as_str())],
    )
    .await;
    for mut conn in [by_header, by_query, both] {
        assert_stream_headers(&conn);
        let resume = conn.event().await.unwrap();
        assert_eq!(resume.event, "resume");
        assert_eq!(resume.id, None, "the resume event must not move the id");
        assert_eq!(resume.data["from"].as_u64(), Some(last));
        assert_eq!(resume.data["missed"].as_u64(), Some(0));
        assert!(resume.data["replayed"].as_u64().unwrap() >= 6);
        let replayed = feed_events(&mut conn, 6).await;
        assert_eq!(replayed, seen[4..].to_vec());
    }

    // An id this server never gave out (a restarted server, a typo) gets a snapshot.
    for id in ["99999999", "x", ""] {
        let mut conn = get(s.addr, &format!("/demo/stream?lastEventId={id}")).await;
        assert_eq!(conn.event().await.unwrap().event, "snapshot", "{id:?}");
    }
}

#[tokio::test]
async fn two_factor_approval_reaches_that_users_streams_only() {
    let s = start().await;
    let mut alice = get(s.addr, "/demo/2fa/wait?user=alice&login=a1").await;
    let mut alice_tab = get(s.addr, "/demo/2fa/wait?user=alice&login=a2").await;
    let mut bob = get(s.addr, "/demo/2fa/wait?user=bob&login=b1").await;
    for (conn, user, login) in [
        (&mut alice, "alice", "a1"),
        (&mut alice_tab, "alice", "a2"),
        (&mut bob, "bob", "b1"),
    ] {
        assert_stream_headers(conn);
        let pending = conn.event().await.unwrap();
        assert_eq!(pending.event, "pending");
        assert_eq!(pending.id, None);
        assert_eq!(pending.data["user"], user);
        assert_eq!(pending.data["login"], login);
        let code = pending.data["code"].as_u64().unwrap();
        assert!((10..100).contains(&code));
    }

    let (status, body) = post(s.addr, "/demo/2fa/approve?user=bob").await;
    assert_eq!((status, &body["resolved"]), (200, &Value::from(1)));
    let complete = bob.event().await.unwrap();
    assert_eq!(complete.event, "2fa-complete");
    assert_eq!(complete.data["user"], "bob");
    assert!(complete.data["at"].is_u64());
    assert_eq!(
        bob.event().await,
        None,
        "the stream ends after 2fa-complete"
    );

    // Alice's waits heard nothing.
    assert!(alice.quiet_for(Duration::from_millis(400)).await);
    assert!(alice_tab.quiet_for(Duration::from_millis(100)).await);

    // Nobody named bob or carol waits any more.
    assert_eq!(post(s.addr, "/demo/2fa/approve?user=bob").await.0, 404);
    assert_eq!(post(s.addr, "/demo/2fa/deny?user=carol").await.0, 404);

    let (status, body) = post(s.addr, "/demo/2fa/deny?user=alice").await;
    assert_eq!((status, &body["resolved"]), (200, &Value::from(2)));
    for conn in [&mut alice, &mut alice_tab] {
        assert_eq!(conn.event().await.unwrap().event, "2fa-denied");
        assert_eq!(conn.event().await, None);
    }

    // A wait whose browser went away is forgotten.
    let gone = get(s.addr, "/demo/2fa/wait?user=dave").await;
    drop(gone);
    let deadline = tokio::time::Instant::now() + WAIT;
    while post(s.addr, "/demo/2fa/approve?user=dave").await.0 != 404 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "dave's wait was never forgotten"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_drop_ends_only_that_clients_stream_and_an_outage_turns_it_away() {
    let s = start().await;
    let mut one = get(s.addr, "/demo/stream?client=one").await;
    let mut two = get(s.addr, "/demo/stream?client=two").await;
    one.event().await.unwrap();
    two.event().await.unwrap();

    let (status, body) = post(s.addr, "/demo/drop?client=one").await;
    assert_eq!((status, &body["dropped"]), (200, &Value::from(1)));
    while one.event().await.is_some() {}
    // The other client's stream goes on.
    feed_events(&mut two, 3).await;

    // An outage: the stream ends and comes back empty until the outage is over.
    let (status, body) = post(s.addr, "/demo/drop?client=two&outage_ms=700").await;
    assert_eq!((status, &body["outageMs"]), (200, &Value::from(700)));
    while let Some(event) = two.event().await {
        assert!(event.id.is_some());
    }
    drop(two);
    let mut refused = get(s.addr, "/demo/stream?client=two&lastEventId=1").await;
    assert_stream_headers(&refused);
    assert_eq!(refused.event().await, None, "no events during the outage");
    // Others are not affected.
    let mut three = get(s.addr, "/demo/stream?client=three").await;
    assert_eq!(three.event().await.unwrap().event, "snapshot");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut back = get(s.addr, "/demo/stream?client=two&lastEventId=1").await;
    assert_eq!(back.event().await.unwrap().event, "resume");
    assert_eq!(feed_events(&mut back, 1).await[0].id, Some(2));

    // Dropping a client with no open stream is not an error.
    assert_eq!(
        post(s.addr, "/demo/drop?client=nobody").await,
        (200, serde_json::json!({ "dropped": 0, "outageMs": 0 }))
    );
}

#[tokio::test]
async fn bad_input_is_refused() {
    let s = start().await;
    for target in [
        "/demo/2fa/wait",
        "/demo/2fa/wait?user=",
        "/demo/2fa/wait?user=a%20b",
        "/demo/2fa/wait?user=alice&login=",
    ] {
        let mut conn = get(s.addr, target).await;
        let text = conn.text().await;
        assert_eq!(conn.status, 400, "{target}: {text}");
    }
    for target in [
        "/demo/drop",
        "/demo/drop?client=",
        "/demo/drop?client=a&outage_ms=600001",
        "/demo/drop?client=a&outage_ms=x",
        "/demo/2fa/approve",
        "/demo/2fa/approve?user=%3Cscript%3E",
    ] {
        assert_eq!(post(s.addr, target).await.0, 400, "{target}");
    }
    assert_eq!(get(s.addr, "/demo/stream?client=").await.status, 400);
    // Approvals change state: POST only.
    assert_eq!(get(s.addr, "/demo/2fa/approve?user=bob").await.status, 405);
    assert_eq!(get(s.addr, "/demo/drop?client=a").await.status, 405);
}

#[tokio::test]
async fn demo_streams_end_promptly_at_shutdown() {
    let mut s = start().await;
    let mut feed = get(s.addr, "/demo/stream?client=c").await;
    let mut wait = get(s.addr, "/demo/2fa/wait?user=erin").await;
    feed.event().await.unwrap();
    wait.event().await.unwrap();
    drop(s.stop.take());
    let ended = async {
        while feed.event_inner().await.is_some() {}
        while wait.event_inner().await.is_some() {}
    };
    timeout(Duration::from_secs(2), ended)
        .await
        .expect("streams still open 2 s after shutdown");
}
