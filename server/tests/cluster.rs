//! The demo scaled out (`--redis`) against a real `redis-server` of each test's own:
//! two instances give out one sequence, byte for byte the same events; a client that
//! resumes on the other instance gets exactly what it missed; a two-factor approval,
//! a drop and an outage asked on one instance reach the other; the generator's lease
//! moves when its holder stops, cleanly or killed, without a gap in anyone's
//! sequence; an instance rides out losing Redis; and a Redis unreachable at start is
//! a clear error.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sse_server::demo::cluster::{Cluster, Options, LEASE};
use sse_server::demo::feed::Pace;
use sse_server::demo::Demo;
use sse_server::AppState;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use common::redis_server::RedisServer;
use common::{feed_events, get, ids, post, Conn, Event};

/// Fast enough for a test to see dozens of events in a second.
fn fast_pace() -> Pace {
    Pace {
        tick: Duration::from_millis(40),
        status: Duration::from_millis(200),
        news: (Duration::from_millis(100), Duration::from_millis(300)),
        notification: (Duration::from_millis(100), Duration::from_millis(300)),
        ..Pace::default()
    }
}

/// One instance of the cluster, in this process.
struct Instance {
    addr: SocketAddr,
    demo: Demo,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

async fn instance(redis: &RedisServer, name: &str) -> Instance {
    let mut options = Options::new(redis.url(), name);
    options.lease_ttl = Duration::from_secs(2);
    let cluster = Cluster::connect(options).await.expect("join the cluster");
    let demo = Demo::clustered(fast_pace(), cluster);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(sse_server::serve(
        listener,
        AppState::with_demo(None, None, demo.clone()),
        async move {
            let _ = stopped.await;
        },
    ));
    Instance {
        addr,
        demo,
        stop: Some(stop),
        served,
    }
}

impl Instance {
    fn name(&self) -> &str {
        self.demo.cluster().unwrap().instance()
    }

    /// Stops serving (what a SIGTERM does): streams end, the lease is given back.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.served).await;
    }

    async fn holder(&self) -> Option<String> {
        self.demo.cluster().unwrap().lease_holder().await.unwrap()
    }
}

/// A feed stream's opening: the `instance` event, then the `snapshot` or `resume`.
async fn opening(conn: &mut Conn) -> (String, Event) {
    let hello = conn.event().await.expect("instance event");
    assert_eq!(hello.event, "instance", "{hello:?}");
    assert_eq!(hello.id, None, "the instance event has no id");
    let name = hello.data["instance"].as_str().unwrap().to_owned();
    (name, conn.event().await.expect("snapshot or resume"))
}

/// Feed events until one with an id of at least `id`.
async fn feed_until(conn: &mut Conn, id: u64) -> Vec<Event> {
    let mut events = Vec::new();
    while events
        .last()
        .and_then(|e: &Event| e.id)
        .is_none_or(|last| last < id)
    {
        events.extend(feed_events(conn, 1).await);
    }
    events
}

fn assert_contiguous(ids: &[u64]) {
    for pair in ids.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "gap or repeat in {ids:?}");
    }
}

#[tokio::test]
async fn two_instances_give_out_one_sequence_byte_for_byte() {
    let redis = RedisServer::start();
    let a = instance(&redis, "a").await;
    let b = instance(&redis, "b").await;
    let mut on_a = get(a.addr, "/demo/stream").await;
    let mut on_b = get(b.addr, "/demo/stream").await;
    let (name_a, snap_a) = opening(&mut on_a).await;
    let (name_b, snap_b) = opening(&mut on_b).await;
    assert_eq!((name_a.as_str(), name_b.as_str()), ("a", "b"));
    assert_eq!(snap_a.event, "snapshot");
    assert_eq!(snap_b.event, "snapshot");
    // The same quotes and headlines, whichever instance a client lands on.
    assert_eq!(snap_a.data["quotes"].as_array().unwrap().len(), 5);
    assert!(!snap_b.data["news"].as_array().unwrap().is_empty());

    let start = snap_a.id.unwrap().max(snap_b.id.unwrap()) + 1;
    let from_a = feed_until(&mut on_a, start + 20).await;
    let from_b = feed_until(&mut on_b, start + 20).await;
    assert_contiguous(&ids(&from_a));
    assert_contiguous(&ids(&from_b));
    let window = |events: &[Event]| -> Vec<String> {
        events
            .iter()
            .filter(|e| (start..=start + 20).contains(&e.id.unwrap()))
            .map(|e| e.raw.clone())
            .collect()
    };
    assert_eq!(window(&from_a).len(), 21);
    assert_eq!(
        window(&from_a),
        window(&from_b),
        "both instances send the same bytes"
    );

    // One generator for the two, and the status panel counts the cluster's streams.
    let holder = a.holder().await.expect("somebody generates");
    assert!(["a", "b"].contains(&holder.as_str()), "{holder}");
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let events = feed_events(&mut on_b, 1).await;
        let event = &events[0];
        if event.event == "status" && event.data["connections"].as_u64() == Some(2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the count never reached 2: {event:?}"
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_client_resumes_on_the_other_instance_with_exactly_what_it_missed() {
    let redis = RedisServer::start();
    let a = instance(&redis, "a").await;
    let b = instance(&redis, "b").await;
    let mut first = get(a.addr, "/demo/stream").await;
    opening(&mut first).await;
    let seen = feed_events(&mut first, 5).await;
    let last = seen.last().unwrap().id.unwrap();
    drop(first);

    // Meanwhile the feed goes on (watched on b).
    let mut watcher = get(b.addr, "/demo/stream").await;
    opening(&mut watcher).await;
    let went_on = feed_until(&mut watcher, last + 30).await;

    // Back on b, by header; on a again, by the query parameter.
    let header = last.to_string();
    let mut by_header = Conn::open(
        b.addr,
        "GET",
        "/demo/stream",
        &[("Last-Event-ID", header.as_str())],
    )
    .await;
    let mut by_query = get(a.addr, &format!("/demo/stream?lastEventId={last}")).await;
    for (conn, on) in [(&mut by_header, "b"), (&mut by_query, "a")] {
        let (name, resume) = opening(conn).await;
        assert_eq!(name, on);
        assert_eq!(resume.event, "resume", "{resume:?}");
        assert_eq!(resume.id, None);
        assert_eq!(resume.data["from"].as_u64(), Some(last));
        assert_eq!(resume.data["missed"].as_u64(), Some(0));
        let replayed = resume.data["replayed"].as_u64().unwrap();
        assert!(replayed >= 30, "{resume:?}");
        let events = feed_until(conn, last + 30).await;
        let got = ids(&events);
        assert_eq!(got[0], last + 1, "the first event is the one after {last}");
        assert_contiguous(&got);
        // Byte for byte what the watcher got live.
        let live: Vec<&str> = went_on
            .iter()
            .filter(|e| e.id.unwrap() > last && e.id.unwrap() <= last + 30)
            .map(|e| e.raw.as_str())
            .collect();
        let resumed: Vec<&str> = events
            .iter()
            .filter(|e| e.id.unwrap() <= last + 30)
            .map(|e| e.raw.as_str())
            .collect();
        assert_eq!(resumed, live);
    }
    // An id no instance gave out yet is a fresh client.
    let mut unknown = get(b.addr, "/demo/stream?lastEventId=999999999").await;
    assert_eq!(opening(&mut unknown).await.1.event, "snapshot");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_two_factor_approval_crosses_instances() {
    let redis = RedisServer::start();
    let a = instance(&redis, "a").await;
    let b = instance(&redis, "b").await;
    let mut alice_on_a = get(a.addr, "/demo/2fa/wait?user=alice&login=l1").await;
    let mut alice_on_b = get(b.addr, "/demo/2fa/wait?user=alice&login=l2").await;
    let mut bob_on_a = get(a.addr, "/demo/2fa/wait?user=bob").await;
    for conn in [&mut alice_on_a, &mut alice_on_b, &mut bob_on_a] {
        assert_eq!(conn.event().await.unwrap().event, "pending");
    }
    // Nobody called carol: 404 from either instance.
    let (status, body) = post(b.addr, "/demo/2fa/approve?user=carol").await;
    assert_eq!((status, &body["resolved"]), (404, &Value::from(0)));

    // Approved on b: both of alice's waits end, the one on a included; bob's does not.
    let (status, body) = post(b.addr, "/demo/2fa/approve?user=alice").await;
    assert_eq!(
        (status, &body["resolved"]),
        (200, &Value::from(2)),
        "{body}"
    );
    for conn in [&mut alice_on_a, &mut alice_on_b] {
        let done = conn.event().await.unwrap();
        assert_eq!(done.event, "2fa-complete");
        assert_eq!(done.data["user"], "alice");
        assert!(
            conn.event().await.is_none(),
            "the wait ends after its outcome"
        );
    }
    assert!(bob_on_a.quiet_for(Duration::from_millis(500)).await);
    // Denied on b, waiting on a.
    let (status, _) = post(b.addr, "/demo/2fa/deny?user=bob").await;
    assert_eq!(status, 200);
    assert_eq!(bob_on_a.event().await.unwrap().event, "2fa-denied");
    let (status, _) = post(a.addr, "/demo/2fa/approve?user=alice").await;
    assert_eq!(status, 404, "alice waits nowhere any more");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_drop_and_an_outage_reach_the_tab_on_any_instance() {
    let redis = RedisServer::start();
    let a = instance(&redis, "a").await;
    let b = instance(&redis, "b").await;
    let mut tab = get(a.addr, "/demo/stream?client=tab-1").await;
    let mut other = get(a.addr, "/demo/stream?client=tab-2").await;
    opening(&mut tab).await;
    opening(&mut other).await;
    // Asked on b, the tab's stream on a ends, and nobody else's.
    let (status, body) = post(b.addr, "/demo/drop?client=tab-1&outage_ms=1500").await;
    assert_eq!((status, &body["dropped"]), (200, &Value::from(1)), "{body}");
    while tab.event().await.is_some() {}
    feed_events(&mut other, 3).await;
    // Its reconnects are turned away on both instances until the outage is over.
    for addr in [a.addr, b.addr] {
        let mut turned_away = get(addr, "/demo/stream?client=tab-1").await;
        assert_eq!(turned_away.status, 200);
        assert!(
            turned_away.event().await.is_none(),
            "an outage stream ends at once"
        );
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let mut again = get(b.addr, "/demo/stream?client=tab-1").await;
    opening(&mut again).await;
    feed_events(&mut again, 2).await;
    // Restarting an instance nobody has: 404 (restarts are not allowed here anyway).
    let (status, _) = post(a.addr, "/demo/restart?instance=zz").await;
    assert_eq!(status, 404);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_lease_moves_when_its_holder_stops_and_the_sequence_goes_on() {
    let redis = RedisServer::start();
    let a = instance(&redis, "a").await;
    let b = instance(&redis, "b").await;
    let deadline = Instant::now() + Duration::from_secs(8);
    let holder = loop {
        if let Some(holder) = a.holder().await {
            break holder;
        }
        assert!(Instant::now() < deadline, "nobody took the lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (leaving, staying) = if holder == "a" { (a, b) } else { (b, a) };
    let mut conn = get(staying.addr, "/demo/stream").await;
    opening(&mut conn).await;
    let before = feed_events(&mut conn, 5).await;
    let stopped_at = Instant::now();
    leaving.stop().await;
    // The other instance generates now, continuing the same sequence.
    let last = before.last().unwrap().id.unwrap();
    let after = feed_until(&mut conn, last + 20).await;
    let mut all = ids(&before);
    all.extend(ids(&after));
    assert_contiguous(&all);
    assert_eq!(staying.holder().await.as_deref(), Some(staying.name()));
    // A clean stop hands the lease over at once (within a retry, not a lease's life).
    assert!(
        stopped_at.elapsed() < Duration::from_secs(8),
        "{:?}",
        stopped_at.elapsed()
    );
    staying.stop().await;
}

#[tokio::test]
async fn an_instance_rides_out_losing_redis_and_goes_on_when_it_is_back() {
    let mut redis = RedisServer::start();
    let a = instance(&redis, "a").await;
    let mut conn = get(a.addr, "/demo/stream").await;
    opening(&mut conn).await;
    let before = feed_events(&mut conn, 4).await;
    let first = before[0].id.unwrap();

    redis.kill();
    // Still serving from what it has: a fresh client gets a snapshot, a returning one
    // the events after its id from the instance's own log.
    let mut fresh = get(a.addr, "/demo/stream").await;
    assert_eq!(opening(&mut fresh).await.1.event, "snapshot");
    let mut back = get(a.addr, &format!("/demo/stream?lastEventId={first}")).await;
    let (_, resume) = opening(&mut back).await;
    assert_eq!(resume.event, "resume");
    assert_eq!(resume.data["from"].as_u64(), Some(first));
    assert!(resume.data["replayed"].as_u64().unwrap() >= 3, "{resume:?}");
    assert_eq!(feed_events(&mut back, 1).await[0].id, Some(first + 1));
    let (status, _) = post(a.addr, "/demo/2fa/approve?user=nobody").await;
    assert_eq!(status, 404);

    // Redis comes back empty; the instance reconnects, generates again, and the
    // sequence goes on from where this instance was (never backwards).
    redis.start_again();
    let last = before.last().unwrap().id.unwrap();
    let mut after: Vec<Event> = Vec::new();
    while after
        .last()
        .and_then(|e| e.id)
        .is_none_or(|id| id < last + 10)
    {
        match tokio::time::timeout(Duration::from_secs(20), conn.event_inner()).await {
            Ok(Some(event)) => after.push(event),
            other => panic!("the feed did not come back with Redis: {other:?}"),
        }
    }
    let mut all = ids(&before);
    all.extend(ids(&after));
    assert_contiguous(&all);
    a.stop().await;
}

/// An `sse-server` process of the cluster.
struct Process {
    child: Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The child is owned by a `Process` at once, whose `Drop` kills and reaps it; the lint
// cannot see through that.
#[allow(clippy::zombie_processes)]
fn process(redis: &RedisServer, name: &str) -> Process {
    let dir = std::env::temp_dir().join(format!("sse-cluster-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port_file = dir.join("port");
    let child = Command::new(env!("CARGO_BIN_EXE_sse-server"))
        .args(["--host", "127.0.0.1", "--port", "0", "--instance", name])
        .args(["--redis", &redis.url()])
        .arg("--port-file")
        .arg(&port_file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start sse-server");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(port) = std::fs::read_to_string(&port_file) {
            if let Ok(port) = port.trim().parse() {
                return Process {
                    child,
                    port,
                    _dir: TempDir(dir),
                };
            }
        }
        assert!(
            Instant::now() < deadline,
            "sse-server {name} did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn lease_holder(redis: &RedisServer) -> Option<String> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let token: Option<String> = redis::cmd("GET").arg(LEASE).query(&mut conn).unwrap();
    token.map(|t| t.split('/').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_killed_generator_is_replaced_within_its_lease() {
    let redis = RedisServer::start();
    let mut first = process(&redis, "p1");
    let mut second = process(&redis, "p2");
    let deadline = Instant::now() + Duration::from_secs(10);
    let holder = loop {
        if let Some(holder) = lease_holder(&redis) {
            break holder;
        }
        assert!(Instant::now() < deadline, "nobody took the lease");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (dying, surviving) = if holder == "p1" {
        (&mut first, &mut second)
    } else {
        (&mut second, &mut first)
    };
    let addr: SocketAddr = ([127, 0, 0, 1], surviving.port).into();
    let mut conn = get(addr, "/demo/stream").await;
    opening(&mut conn).await;
    let before = feed_events(&mut conn, 3).await;
    // SIGKILL: no goodbye, the lease stays until it expires (5 s).
    dying.child.kill().unwrap();
    dying.child.wait().unwrap();
    let killed_at = Instant::now();
    let last = before.last().unwrap().id.unwrap();
    let mut after = Vec::new();
    while after
        .last()
        .and_then(|e: &Event| e.id)
        .is_none_or(|id| id < last + 5)
    {
        // Events stop until the lease expires: wait longer than one WAIT for them.
        match tokio::time::timeout(Duration::from_secs(15), conn.event_inner()).await {
            Ok(Some(event)) => after.push(event),
            other => panic!("the feed did not go on after the generator died: {other:?}"),
        }
    }
    let took = killed_at.elapsed();
    let mut all = ids(&before);
    all.extend(ids(&after));
    assert_contiguous(&all);
    assert_ne!(lease_holder(&redis).as_deref(), Some(holder.as_str()));
    assert!(took < Duration::from_secs(12), "takeover took {took:?}");
}

#[test]
fn an_unreachable_redis_at_start_is_a_clear_error() {
    // A port nobody listens on: bound, noted, closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let output = Command::new(env!("CARGO_BIN_EXE_sse-server"))
        .args(["--port", "0", "--redis", &url])
        .stdin(Stdio::null())
        .output()
        .expect("run sse-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach Redis at {url}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty(), "it never said it was listening");
}
