//! Scripted Server-Sent Events server.
//!
//! One binary with two jobs: it serves the demo's static files, and it is the
//! fault injector every browser test and benchmark of `sse-wasm` talks to. The
//! `/sse` endpoint is driven entirely by its query string (see [`script`]), and
//! every request of a named session is recorded for `/stats` (see [`stats`]), so
//! tests can assert on reconnection timing and resumption from the server side.
//!
//! Routes:
//! - `GET|POST /sse` — the scripted stream;
//! - `GET /stats?session=S` — JSON record of a session;
//! - `GET|POST /drop?session=S` — end the session's open streams;
//! - `GET /health` — `ok`;
//! - `/demo/…` — the live demo's feed, two-factor login wait and drop control
//!   (see [`demo`]);
//! - `OPTIONS` anything — CORS preflight;
//! - `/pkg/…` — the built npm package from `--pkg`, if given;
//! - anything else — static files from `--www`, if given.

#![warn(missing_docs)]

pub mod config;
pub mod cors;
pub mod demo;
pub mod http;
pub mod script;
pub mod stats;
pub mod stream;

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{middleware, Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::http::bad_request;
use crate::script::{check_session, decode_query, Fail, Script, ScriptError};
use crate::stats::{Arrival, ConnGuard, IdSource, Stats};

/// How long shutdown waits for open connections before giving up on them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Shared state of all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    stats: Stats,
    www: Option<PathBuf>,
    pkg: Option<PathBuf>,
    shutdown: watch::Sender<bool>,
    demo: demo::Demo,
}

impl AppState {
    /// Fresh state; `www` is the static file directory, if any.
    pub fn new(www: Option<PathBuf>) -> AppState {
        AppState::serving(www, None)
    }

    /// Fresh state serving `www` at `/` and the npm package directory `pkg` at
    /// `/pkg/`.
    pub fn serving(www: Option<PathBuf>, pkg: Option<PathBuf>) -> AppState {
        AppState::with_demo(www, pkg, demo::Demo::default())
    }

    /// Fresh state serving `www` and `pkg` (see [`AppState::serving`]) with this
    /// `demo` (e.g. an instance of a cluster, [`demo::Demo::clustered`]).
    pub fn with_demo(www: Option<PathBuf>, pkg: Option<PathBuf>, demo: demo::Demo) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                stats: Stats::default(),
                www,
                pkg,
                shutdown: watch::Sender::new(false),
                demo,
            }),
        }
    }

    /// The per-session records.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// The live demo's state.
    pub fn demo(&self) -> &demo::Demo {
        &self.inner.demo
    }

    /// Turns `true` when the server shuts down.
    pub(crate) fn shutdown_receiver(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Ends every open stream; used on shutdown so that graceful shutdown does
    /// not wait for long-lived streams.
    pub fn end_all_streams(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

/// The complete application: routes, static files and CORS.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .route("/sse", get(sse).post(sse))
        .route("/stats", get(stats))
        .route("/drop", get(drop_streams).post(drop_streams))
        .route("/health", get(|| async { "ok" }))
        .merge(demo::routes(
            state.demo().clone(),
            state.shutdown_receiver(),
        ));
    let router = match &state.inner.pkg {
        Some(dir) => router.nest_service("/pkg", ServeDir::new(dir)),
        None => router,
    };
    let router = match &state.inner.www {
        Some(dir) => router.fallback_service(ServeDir::new(dir)),
        None => router.fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") }),
    };
    router
        .layer(middleware::from_fn(cors::layer))
        .with_state(state)
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        map.entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}

/// Where a stream resumes: the raw id, its source, and the first sequence number.
fn resume_point(headers: &HeaderMap, script: &Script) -> (Option<String>, Option<IdSource>, u64) {
    match http::last_event_id(headers, &script.query, &script.resume_param) {
        Some((raw, source)) => {
            let first = raw
                .trim()
                .parse::<u64>()
                .map_or(1, |last| last.saturating_add(1));
            (Some(raw), Some(source), first)
        }
        None => (None, None, 1),
    }
}

#[derive(Serialize)]
struct Echo<'a> {
    method: &'a str,
    headers: &'a BTreeMap<String, String>,
    query: &'a BTreeMap<String, String>,
    body: String,
}

fn failure(status: StatusCode, retry_after: Option<u64>) -> Response {
    // 204 and 304 responses cannot carry a body (1xx never gets here: the
    // script parser rejects it).
    let bodiless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    let mut response = if bodiless {
        Response::new(Body::empty())
    } else {
        let mut response = Response::new(Body::from(format!("scripted failure: {status}\n")));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    };
    *response.status_mut() = status;
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

async fn sse(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let script = match Script::parse(query.as_deref()) {
        Ok(script) => script,
        Err(e) => return bad_request(e),
    };
    let (last_event_id, id_source, first_seq) = resume_point(&headers, &script);
    let header_map = header_map(&headers);

    let (guard, drops) = match &script.session {
        Some(session) => {
            let arrival = Arrival {
                method: method.to_string(),
                last_event_id,
                id_source,
                headers: header_map.clone(),
            };
            match register(&state, session, &script, arrival) {
                Ok(registered) => registered,
                Err(fail) => return failure(fail.status, fail.retry_after),
            }
        }
        None => (None, None),
    };
    let echo = script
        .echo
        .then(|| echo_json(&method, &header_map, &script, &body));

    let content_type = script.content_type.clone();
    let plan = stream::Plan {
        script,
        first_seq,
        echo,
        started,
    };
    let stops = stream::Stops {
        drops,
        shutdown: state.inner.shutdown.subscribe(),
    };
    http::stream_response(stream::body(plan, guard, stops), content_type)
}

/// Records the request in its session. A scripted failure for this request is the
/// `Err`: what to answer instead of the stream.
fn register(
    state: &AppState,
    session: &str,
    script: &Script,
    arrival: Arrival,
) -> Result<(Option<ConnGuard>, Option<watch::Receiver<u64>>), Fail> {
    let fail = script.fail.clone();
    let registration = state.stats().register(session, arrival, |index| {
        fail.as_ref()
            .filter(|fail| index < fail.first)
            .map(|fail| fail.status.as_u16())
    });
    match fail.filter(|_| registration.guard.is_none()) {
        Some(fail) => Err(fail),
        None => Ok((registration.guard, Some(registration.drops))),
    }
}

/// The `echo` event's data: the request as the server saw it.
fn echo_json(
    method: &Method,
    headers: &BTreeMap<String, String>,
    script: &Script,
    body: &[u8],
) -> String {
    let echo = Echo {
        method: method.as_str(),
        headers,
        query: &script.query,
        body: String::from_utf8_lossy(body).into_owned(),
    };
    // Serializing string maps cannot fail; fall back to an empty object anyway.
    serde_json::to_string(&echo).unwrap_or_else(|_| "{}".to_owned())
}

fn session_param(query: Option<&str>) -> Result<String, ScriptError> {
    let session = decode_query(query)
        .remove("session")
        .ok_or_else(|| ScriptError("session: required".to_owned()))?;
    check_session(&session)?;
    Ok(session)
}

async fn stats(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    match session_param(query.as_deref()) {
        Ok(session) => Json(state.stats().view(&session)).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn drop_streams(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    match session_param(query.as_deref()) {
        Ok(session) => {
            let dropped = state.stats().drop_session(&session);
            Json(serde_json::json!({ "dropped": dropped })).into_response()
        }
        Err(e) => bad_request(e),
    }
}

/// Serves [`app`] on `listener` until `shutdown` completes, then ends every
/// open stream and waits for connections to finish.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    // Small SSE writes must not wait for Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let router = app(state.clone());
    state.demo().start(&state.shutdown_receiver());
    let signal = async move {
        shutdown.await;
        state.end_all_streams();
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .await
}

/// Writes `port` to `path` through a temporary file and a rename, so that a
/// reader polling for the file never sees it half written.
pub fn write_port_file(path: &Path, port: u16) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, port.to_string())?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The demo for `config`: in one process, or an instance of the cluster on
/// `--redis` (an error when Redis cannot be reached). `addr` names the instance
/// unless `--instance` does.
async fn make_demo(config: &Config, addr: SocketAddr) -> io::Result<demo::Demo> {
    let Some(url) = &config.redis else {
        return Ok(demo::Demo::default());
    };
    let mut options = demo::cluster::Options::new(
        url.clone(),
        config.instance.clone().unwrap_or_else(|| addr.to_string()),
    );
    options.allow_restart = config.allow_restart;
    let cluster = demo::cluster::Cluster::connect(options)
        .await
        .map_err(|e| io::Error::new(io::ErrorKind::ConnectionRefused, e))?;
    Ok(demo::Demo::clustered(demo::feed::Pace::default(), cluster))
}

/// Binds according to `config`, joins the cluster if `--redis` names one, announces
/// the address on stdout (and in the port file), then serves until SIGINT/SIGTERM
/// (or, in a cluster with `--allow-restart`, until asked to restart).
pub async fn run(config: Config) -> io::Result<()> {
    let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
    let addr: SocketAddr = listener.local_addr()?;
    let demo = make_demo(&config, addr).await?;
    // Port file first: whoever sees the stdout line can rely on the file too.
    if let Some(path) = &config.port_file {
        write_port_file(path, addr.port())?;
    }
    {
        let mut stdout = io::stdout().lock();
        match demo.cluster() {
            Some(cluster) => writeln!(
                stdout,
                "sse-server listening on http://{addr} (instance {} of the cluster on {})",
                cluster.instance(),
                config.redis.as_deref().unwrap_or_default()
            )?,
            None => writeln!(stdout, "sse-server listening on http://{addr}")?,
        }
        stdout.flush()?;
    }
    let state = AppState::with_demo(config.www.clone(), config.pkg.clone(), demo.clone());
    let (signalled_tx, mut signalled) = watch::channel(false);
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            () = demo.restart_requested() => {}
        }
        signalled_tx.send_replace(true);
    };
    tokio::select! {
        result = serve(listener, state, shutdown) => result,
        // A client that stopped reading can keep a connection open forever;
        // do not let it block the exit.
        _ = async {
            let _ = signalled.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    }
}
