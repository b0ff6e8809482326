//! Per-session record of every `/sse` request, served at `/stats`.
//!
//! Tests assert on reconnection timing and resumption from the server's side,
//! so each request is recorded as it arrives and its entry keeps updating while
//! the stream runs. Live counters are atomics shared with the stream's
//! [`ConnGuard`], so the hot path of a fast stream never takes the global lock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::watch;

/// Most sessions kept; the oldest is forgotten first.
pub const MAX_SESSIONS: usize = 10_000;
/// Most connection entries kept per session; later ones are counted but not listed.
pub const MAX_CONNECTIONS: usize = 10_000;

/// Where the id a stream resumed from came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdSource {
    /// The `Last-Event-ID` request header.
    Header,
    /// The query parameter named by `resume_param`.
    Query,
}

/// What is known about a request when it arrives.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// HTTP method.
    pub method: String,
    /// Raw last event id, if the request carried one.
    pub last_event_id: Option<String>,
    /// Where `last_event_id` came from.
    pub id_source: Option<IdSource>,
    /// Request headers, lowercase names.
    pub headers: BTreeMap<String, String>,
}

/// One recorded connection.
#[derive(Debug)]
struct Conn {
    index: u64,
    at_ms: f64,
    arrival: Arrival,
    status: u16,
    events_sent: AtomicU64,
    // f64 bits; NOT_CLOSED while the stream is open.
    closed_at_ms: AtomicU64,
}

const NOT_CLOSED: u64 = u64::MAX;

#[derive(Debug)]
struct Session {
    connections: Mutex<SessionConns>,
    open: AtomicUsize,
    // Bumped by /drop; open streams watch it and end when it changes.
    drops: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct SessionConns {
    // Counts every request, including those beyond MAX_CONNECTIONS, so that
    // fail_first keeps working on very long sessions.
    total: u64,
    list: Vec<Arc<Conn>>,
}

#[derive(Debug, Default)]
struct Sessions {
    by_name: HashMap<String, Arc<Session>>,
    order: VecDeque<String>,
}

/// All sessions, shared by every request.
#[derive(Debug)]
pub struct Stats {
    start: Instant,
    sessions: Mutex<Sessions>,
}

/// Serialized form of one connection.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionView {
    /// Position of the request in its session, from 0.
    pub index: u64,
    /// Arrival time, ms since server start.
    pub at_ms: f64,
    /// HTTP method.
    pub method: String,
    /// Raw last event id the request carried.
    pub last_event_id: Option<String>,
    /// Where it came from.
    pub id_source: Option<IdSource>,
    /// Status answered.
    pub status: u16,
    /// Events handed to the HTTP layer so far.
    pub events_sent: u64,
    /// When the stream ended, ms since server start; `None` while open.
    pub closed_at_ms: Option<f64>,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
}

/// Serialized form of a session, the body of `/stats`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionView {
    /// Session name.
    pub session: String,
    /// Streams of this session currently open.
    pub open: usize,
    /// Every recorded request, in arrival order.
    pub connections: Vec<ConnectionView>,
}

/// Outcome of recording a request.
#[derive(Debug)]
pub struct Registration {
    /// Position of the request in its session, from 0.
    pub index: u64,
    /// Status decided for it.
    pub status: u16,
    /// Present when the request was answered with a stream: tracks it.
    pub guard: Option<ConnGuard>,
    /// Fires when `/drop` is called for the session.
    pub drops: watch::Receiver<u64>,
}

/// Lives inside a stream's body: counts sent events and marks the connection
/// closed when dropped, which covers both a server-side end and the client
/// going away (hyper drops the body then).
#[derive(Debug)]
pub struct ConnGuard {
    conn: Arc<Conn>,
    session: Arc<Session>,
    start: Instant,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock must not take the stats down.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new(Instant::now())
    }
}

impl Stats {
    /// Empty stats whose `at_ms` values count from `start`.
    pub fn new(start: Instant) -> Stats {
        Stats {
            start,
            sessions: Mutex::new(Sessions::default()),
        }
    }

    /// Milliseconds since server start.
    pub fn now_ms(&self) -> f64 {
        ms_since(self.start)
    }

    fn session(&self, name: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).by_name.get(name).cloned()
    }

    fn session_or_insert(&self, name: &str) -> Arc<Session> {
        let mut sessions = lock(&self.sessions);
        if let Some(session) = sessions.by_name.get(name) {
            return session.clone();
        }
        while sessions.by_name.len() >= MAX_SESSIONS {
            match sessions.order.pop_front() {
                Some(oldest) => {
                    sessions.by_name.remove(&oldest);
                }
                None => break,
            }
        }
        let session = Arc::new(Session {
            connections: Mutex::new(SessionConns::default()),
            open: AtomicUsize::new(0),
            drops: watch::Sender::new(0),
        });
        sessions.by_name.insert(name.to_owned(), session.clone());
        sessions.order.push_back(name.to_owned());
        session
    }

    /// Records a request of session `name`. `fail` maps the request's index in
    /// the session to the status of a scripted failure, or `None` when a stream
    /// (status 200) follows, in which case a guard is returned.
    pub fn register(
        &self,
        name: &str,
        arrival: Arrival,
        fail: impl FnOnce(u64) -> Option<u16>,
    ) -> Registration {
        let session = self.session_or_insert(name);
        let at_ms = self.now_ms();
        let mut conns = lock(&session.connections);
        let index = conns.total;
        conns.total += 1;
        let failure = fail(index);
        let streaming = failure.is_none();
        let status = failure.unwrap_or(200);
        let conn = Arc::new(Conn {
            index,
            at_ms,
            arrival,
            status,
            events_sent: AtomicU64::new(0),
            closed_at_ms: AtomicU64::new(if streaming {
                NOT_CLOSED
            } else {
                at_ms.to_bits()
            }),
        });
        if conns.list.len() < MAX_CONNECTIONS {
            conns.list.push(conn.clone());
        }
        // Subscribe while holding the lock so that a /drop that sees this
        // connection as open is guaranteed to reach it.
        let drops = session.drops.subscribe();
        let guard = streaming.then(|| {
            session.open.fetch_add(1, Ordering::SeqCst);
            ConnGuard {
                conn,
                session: session.clone(),
                start: self.start,
            }
        });
        drop(conns);
        Registration {
            index,
            status,
            guard,
            drops,
        }
    }

    /// Ends every open stream of session `name`; returns how many were open.
    pub fn drop_session(&self, name: &str) -> usize {
        let Some(session) = self.session(name) else {
            return 0;
        };
        let conns = lock(&session.connections);
        let open = session.open.load(Ordering::SeqCst);
        session.drops.send_modify(|n| *n = n.wrapping_add(1));
        drop(conns);
        open
    }

    /// Snapshot of session `name`; an unknown session is empty.
    pub fn view(&self, name: &str) -> SessionView {
        let Some(session) = self.session(name) else {
            return SessionView {
                session: name.to_owned(),
                open: 0,
                connections: Vec::new(),
            };
        };
        let conns = lock(&session.connections);
        let connections = conns
            .list
            .iter()
            .map(|conn| {
                let closed = conn.closed_at_ms.load(Ordering::SeqCst);
                ConnectionView {
                    index: conn.index,
                    at_ms: conn.at_ms,
                    method: conn.arrival.method.clone(),
                    last_event_id: conn.arrival.last_event_id.clone(),
                    id_source: conn.arrival.id_source,
                    status: conn.status,
                    events_sent: conn.events_sent.load(Ordering::SeqCst),
                    closed_at_ms: (closed != NOT_CLOSED).then(|| f64::from_bits(closed)),
                    headers: conn.arrival.headers.clone(),
                }
            })
            .collect();
        SessionView {
            session: name.to_owned(),
            open: session.open.load(Ordering::SeqCst),
            connections,
        }
    }
}

impl ConnGuard {
    /// Counts `n` more events as sent.
    pub fn add_events(&self, n: u64) {
        if n > 0 {
            self.conn.events_sent.fetch_add(n, Ordering::SeqCst);
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        // Close the entry before decrementing `open`, so a reader that sees
        // open == 0 also sees closed_at_ms set.
        self.conn
            .closed_at_ms
            .store(ms_since(self.start).to_bits(), Ordering::SeqCst);
        self.session.open.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival() -> Arrival {
        Arrival {
            method: "GET".into(),
            last_event_id: None,
            id_source: None,
            headers: BTreeMap::new(),
        }
    }

    #[test]
    fn records_and_closes() {
        let stats = Stats::default();
        let failed = stats.register("s", arrival(), |i| (i < 1).then_some(503));
        assert_eq!((failed.index, failed.status), (0, 503));
        assert!(failed.guard.is_none());
        let ok = stats.register("s", arrival(), |_| None);
        assert_eq!(ok.index, 1);
        let guard = ok.guard.unwrap();
        guard.add_events(3);
        let view = stats.view("s");
        assert_eq!(view.open, 1);
        assert_eq!(
            view.connections[0].closed_at_ms,
            Some(view.connections[0].at_ms)
        );
        assert_eq!(view.connections[1].events_sent, 3);
        assert_eq!(view.connections[1].closed_at_ms, None);
        drop(guard);
        let view = stats.view("s");
        assert_eq!(view.open, 0);
        assert!(view.connections[1].closed_at_ms.is_some());
        assert_eq!(stats.view("other").connections.len(), 0);
    }

    #[test]
    fn drop_notifies() {
        let stats = Stats::default();
        let reg = stats.register("s", arrival(), |_| None);
        assert!(!reg.drops.has_changed().unwrap());
        assert_eq!(stats.drop_session("s"), 1);
        assert!(reg.drops.has_changed().unwrap());
        assert_eq!(stats.drop_session("nobody"), 0);
    }

    #[test]
    fn evicts_oldest_session() {
        let stats = Stats::default();
        for i in 0..=MAX_SESSIONS {
            stats.register(&format!("s{i}"), arrival(), |_| Some(204));
        }
        assert!(stats.view("s0").connections.is_empty());
        assert_eq!(stats.view("s1").connections.len(), 1);
        assert_eq!(stats.view(&format!("s{MAX_SESSIONS}")).connections.len(), 1);
    }
}
