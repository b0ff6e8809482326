//! The live demo's backend: what `make demo` serves next to `www/`.
//!
//! Routes (all streams are `text/event-stream` with `Cache-Control: no-cache` and
//! `X-Accel-Buffering: no`, so a proxy such as nginx passes them through unbuffered):
//!
//! - `GET /demo/stream?client=ID` — the live feed: `tick`, `news`, `notification`
//!   and `status` events on one connection, numbered by one global sequence (the
//!   event id, also `seq` in the data). A new client first gets a `snapshot` event
//!   (id = the sequence number it stands for) with the ticker's history, recent
//!   headlines and notifications. A client that comes back with the last id it saw
//!   (`Last-Event-ID` header, or the `lastEventId` query parameter that
//!   `sse-wasm`'s `EventSource` transport sends) gets a `resume` event (no id:
//!   `{from, head, replayed, missed}`) and then exactly the events after that id,
//!   replayed from a log of the last [`feed::REPLAY_EVENTS`]. `client` is optional;
//!   it names the client for `/demo/drop`.
//! - `POST /demo/drop?client=ID[&outage_ms=N]` — ends that client's feed streams;
//!   with `outage_ms`, its reconnects for that long get a stream that ends at once
//!   (HTTP 200, so the browser logs no error), which lets a person watch the
//!   backoff grow. Answers `{"dropped": n}`.
//! - `GET /demo/2fa/wait?user=U[&login=L]` — the two-factor login wait: a `pending`
//!   event (`{user, login, code}`), then `2fa-complete` (or `2fa-denied`, or
//!   `2fa-expired` after [`TWO_FA_TIMEOUT`]) and the stream ends.
//! - `POST /demo/2fa/approve?user=U`, `POST /demo/2fa/deny?user=U` — "the phone":
//!   ends every wait of user U, and only U's; 404 when U has no wait open.

pub mod clients;
pub mod feed;
pub mod generate;
pub mod twofa;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_core::Stream;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};

use crate::http::{bad_request, event_stream, last_event_id, now_ms};
use crate::script::decode_query;
use clients::{check_client, Clients, Refused};
use feed::{Feed, Pace};
use twofa::{check_user, match_code, Outcome, Registry};

/// A comment is sent on an otherwise quiet stream this often, so that proxies
/// and load balancers do not time it out.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a two-factor login waits for the phone.
pub const TWO_FA_TIMEOUT: Duration = Duration::from_secs(120);

/// The demo's shared state.
#[derive(Debug, Clone)]
pub struct Demo {
    feed: Arc<Feed>,
    twofa: Arc<Registry>,
    clients: Arc<Clients>,
    connections: Arc<AtomicU64>,
}

impl Default for Demo {
    fn default() -> Self {
        Demo::new(Pace::default())
    }
}

impl Demo {
    /// A demo whose generators run at `pace` (they start with the first feed stream).
    pub fn new(pace: Pace) -> Demo {
        let connections = Arc::new(AtomicU64::new(0));
        Demo {
            feed: Arc::new(Feed::new(pace, connections.clone())),
            twofa: Arc::default(),
            clients: Arc::default(),
            connections,
        }
    }

    /// Open demo streams (feed and two-factor waits).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// What the demo's handlers share: the demo, and the server's shutdown signal (which
/// ends every demo stream).
#[derive(Debug, Clone)]
struct DemoState {
    demo: Demo,
    shutdown: watch::Receiver<bool>,
}

/// The demo's routes, with their own state: `demo`, and `shutdown`, which turns `true`
/// when the server shuts down.
pub fn routes<S>(demo: Demo, shutdown: watch::Receiver<bool>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/demo/stream", get(stream))
        .route("/demo/drop", post(drop_client))
        .route("/demo/2fa/wait", get(wait))
        .route("/demo/2fa/approve", post(approve))
        .route("/demo/2fa/deny", post(deny))
        .with_state(DemoState { demo, shutdown })
}

/// Counts an open stream for the status panel while it lives.
struct Counted(Arc<AtomicU64>);

impl Counted {
    fn new(counter: &Arc<AtomicU64>) -> Counted {
        counter.fetch_add(1, Ordering::Relaxed);
        Counted(counter.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body fed by a task through a channel; it ends when the task drops
/// its sender.
struct ChannelBody<T>(mpsc::Receiver<T>);

impl<T> Stream for ChannelBody<T> {
    type Item = Result<T, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(Ok))
    }
}

/// Runs `produce` in a task that feeds what it sends to the returned body; the task
/// also ends when the client goes away or the server shuts down.
fn spawn_producer<T, F, Fut>(state: &DemoState, produce: F) -> ChannelBody<T>
where
    T: Send + 'static,
    F: FnOnce(mpsc::Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    let closed = tx.clone();
    let mut shutdown = state.shutdown.clone();
    let work = produce(tx);
    tokio::spawn(async move {
        tokio::select! {
            _ = work => {}
            _ = closed.closed() => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
    ChannelBody(rx)
}

/// A stream of raw bytes (the feed sends frames it keeps for replay).
fn spawn_stream<F, Fut>(state: &DemoState, produce: F) -> Response
where
    F: FnOnce(mpsc::Sender<Bytes>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    event_stream(Body::from_stream(spawn_producer(state, produce)))
}

/// Waits until `until`, sending a heartbeat comment every [`HEARTBEAT`] meanwhile.
/// Returns `Err` when the client is gone.
async fn quiet_until(tx: &mpsc::Sender<Bytes>, until: Instant) -> Result<(), ()> {
    loop {
        let beat = Instant::now() + HEARTBEAT;
        if beat >= until {
            sleep_until(until).await;
            return Ok(());
        }
        sleep_until(beat).await;
        tx.send(Bytes::from_static(b": keep-alive\n\n"))
            .await
            .map_err(|_| ())?;
    }
}

/// Sends `opening`, then every new event of the feed, until the client is gone.
async fn follow(
    feed: &Feed,
    tx: &mpsc::Sender<Bytes>,
    opening: feed::Opening,
    head: &mut watch::Receiver<u64>,
) -> Result<(), ()> {
    tx.send(opening.bytes).await.map_err(|_| ())?;
    let mut cursor = opening.cursor;
    loop {
        let (bytes, next) = feed.since(cursor);
        if !bytes.is_empty() {
            tx.send(bytes).await.map_err(|_| ())?;
            cursor = next;
        }
        tokio::select! {
            changed = head.changed() => changed.map_err(|_| ())?,
            result = quiet_until(tx, Instant::now() + HEARTBEAT * 2) => result?,
        }
    }
}

async fn stream(
    State(state): State<DemoState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = decode_query(query.as_deref());
    let demo = state.demo.clone();
    let connected = match query.get("client") {
        Some(id) => {
            if let Err(e) = check_client(id) {
                return bad_request(e);
            }
            match demo.clients.connect(id) {
                Ok(connected) => Some(connected),
                Err(Refused::Outage(_)) => {
                    // Opens and ends at once: the client reconnects with backoff.
                    return event_stream(Body::from(": outage, come back later\n\n"));
                }
                Err(Refused::Full) => {
                    return (StatusCode::SERVICE_UNAVAILABLE, "too many demo clients\n")
                        .into_response()
                }
            }
        }
        None => None,
    };
    let last_id = last_event_id(&headers, &query, "lastEventId").map(|(id, _)| id);

    demo.feed.start(state.shutdown.clone());
    // Watch first, then read: nothing published in between can be missed.
    let mut head = demo.feed.watch();
    let opening = demo.feed.open(last_id.as_deref());
    let counted = Counted::new(&demo.connections);
    let feed = demo.feed.clone();
    spawn_stream(&state, move |tx| async move {
        let _counted = counted;
        let mut dropped = connected.as_ref().map(|c| c.dropped.clone());
        let follow = follow(&feed, &tx, opening, &mut head);
        let drop_signal = async {
            match dropped.as_mut() {
                Some(rx) => {
                    let _ = rx.changed().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = follow => {}
            _ = drop_signal => {}
        }
        drop(connected);
    })
}

async fn drop_client(State(state): State<DemoState>, RawQuery(query): RawQuery) -> Response {
    let query = decode_query(query.as_deref());
    let Some(id) = query.get("client") else {
        return bad_request("client: required");
    };
    if let Err(e) = check_client(id) {
        return bad_request(e);
    }
    let outage = match query.get("outage_ms").map(|v| v.parse::<u64>()) {
        None => Duration::ZERO,
        Some(Ok(ms)) if ms <= clients::MAX_OUTAGE.as_millis() as u64 => Duration::from_millis(ms),
        Some(_) => {
            return bad_request(format!(
                "outage_ms: expected 0 to {}",
                clients::MAX_OUTAGE.as_millis()
            ))
        }
    };
    let dropped = state.demo.clients.drop_client(id, outage);
    Json(serde_json::json!({ "dropped": dropped, "outageMs": outage.as_millis() as u64 }))
        .into_response()
}

fn user_param(query: Option<&str>) -> Result<(String, Option<String>), String> {
    let mut query = decode_query(query);
    let user = query.remove("user").ok_or("user: required")?;
    check_user(&user).map_err(|e| e.0)?;
    let login = query.remove("login");
    if login
        .as_ref()
        .is_some_and(|l| l.is_empty() || l.chars().count() > 64)
    {
        return Err("login: must be 1 to 64 characters long".to_owned());
    }
    Ok((user, login))
}

async fn wait(State(state): State<DemoState>, RawQuery(query): RawQuery) -> Response {
    let (user, login) = match user_param(query.as_deref()) {
        Ok(found) => found,
        Err(e) => return bad_request(e),
    };
    let demo = state.demo.clone();
    let Some(wait) = demo.twofa.wait(&user) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many logins waiting\n").into_response();
    };
    let login = login.unwrap_or_default();
    let code = match_code(&user, &login);
    let counted = Counted::new(&demo.connections);
    let events = spawn_producer(&state, move |tx| async move {
        let _counted = counted;
        let mut wait = wait;
        let data = serde_json::json!({
            "user": user,
            "login": login,
            "code": code,
            "expiresInMs": TWO_FA_TIMEOUT.as_millis() as u64,
        });
        let pending = Event::default().event("pending").data(data.to_string());
        if tx.send(pending).await.is_err() {
            return;
        }
        let (event, at) = tokio::select! {
            outcome = &mut wait.outcome => match outcome {
                Ok(Outcome::Approved) => ("2fa-complete", now_ms()),
                Ok(Outcome::Denied) => ("2fa-denied", now_ms()),
                Err(_) => return,
            },
            () = tokio::time::sleep(TWO_FA_TIMEOUT) => ("2fa-expired", now_ms()),
        };
        let data = serde_json::json!({ "user": user, "login": login, "at": at });
        let _ = tx
            .send(Event::default().event(event).data(data.to_string()))
            .await;
        // Returning drops the sender: the stream ends after this event.
    });
    // Typed events need no raw bytes: axum writes them and the heartbeat comments.
    let heartbeat = KeepAlive::new().interval(HEARTBEAT).text(" keep-alive");
    let mut response = Sse::new(events).keep_alive(heartbeat).into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn resolve(state: &DemoState, query: Option<&str>, outcome: Outcome) -> Response {
    let (user, _) = match user_param(query) {
        Ok(found) => found,
        Err(e) => return bad_request(e),
    };
    let told = state.demo.twofa.resolve(&user, outcome);
    let body = Json(serde_json::json!({ "user": user, "resolved": told }));
    if told == 0 {
        (StatusCode::NOT_FOUND, body).into_response()
    } else {
        body.into_response()
    }
}

async fn approve(State(state): State<DemoState>, RawQuery(query): RawQuery) -> Response {
    resolve(&state, query.as_deref(), Outcome::Approved)
}

async fn deny(State(state): State<DemoState>, RawQuery(query): RawQuery) -> Response {
    resolve(&state, query.as_deref(), Outcome::Denied)
}
