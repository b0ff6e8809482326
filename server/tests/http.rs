//! End-to-end tests: the real server on 127.0.0.1:0, spoken to over real TCP
//! with a deliberately tiny HTTP/1.1 client, so that what is asserted is what
//! a browser would receive on the wire.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use sse_server::AppState;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::{timeout, Instant};

/// Upper bound for any single network wait, so that a bug fails a test
/// instead of hanging it.
const WAIT: Duration = Duration::from_secs(5);

struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start_with(www: Option<std::path::PathBuf>) -> Server {
    start_serving(AppState::new(www)).await
}

async fn start_serving(state: AppState) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(sse_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Server { addr, _stop: stop }
}

async fn start() -> Server {
    start_with(None).await
}

/// One HTTP/1.1 exchange on its own connection.
struct Conn {
    reader: BufReader<TcpStream>,
    status: u16,
    headers: Vec<(String, String)>,
    chunked: bool,
    length: Option<usize>,
}

impl Conn {
    async fn open(
        addr: SocketAddr,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Conn {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut head =
            format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        timeout(WAIT, reader.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            timeout(WAIT, reader.read_line(&mut line))
                .await
                .unwrap()
                .unwrap();
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':').unwrap();
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut conn = Conn {
            reader,
            status,
            headers,
            chunked: false,
            length: None,
        };
        conn.chunked = conn
            .header("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"));
        conn.length = conn.header("content-length").map(|v| v.parse().unwrap());
        conn
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The next body chunk as framed on the wire; `None` at the end of the body.
    async fn chunk(&mut self) -> Option<Vec<u8>> {
        timeout(WAIT, self.chunk_inner())
            .await
            .expect("timed out reading a chunk")
    }

    async fn chunk_inner(&mut self) -> Option<Vec<u8>> {
        if !self.chunked {
            let mut body = Vec::new();
            match self.length.take() {
                Some(0) => return None,
                Some(n) => {
                    body.resize(n, 0);
                    self.reader.read_exact(&mut body).await.unwrap();
                }
                None => {
                    self.reader.read_to_end(&mut body).await.unwrap();
                    self.length = Some(0);
                    if body.is_empty() {
                        return None;
                    }
                }
            }
            self.length = Some(0);
            return Some(body);
        }
        let mut line = String::new();
        self.reader.read_line(&mut line).await.unwrap();
        let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
        let mut data = vec![0; size + 2];
        self.reader.read_exact(&mut data).await.unwrap();
        data.truncate(size);
        if size == 0 {
            self.chunked = false;
            self.length = Some(0);
            return None;
        }
        Some(data)
    }

    /// The whole remaining body.
    async fn body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await {
            body.extend(chunk);
        }
        body
    }

    async fn text(&mut self) -> String {
        String::from_utf8(self.body().await).unwrap()
    }

    /// Reads until the body contains `needle`; returns everything read.
    async fn read_until(&mut self, seen: &mut Vec<u8>, needle: &str) {
        while !String::from_utf8_lossy(seen).contains(needle) {
            let chunk = self
                .chunk()
                .await
                .expect("body ended before the expected text");
            seen.extend(chunk);
        }
    }
}

async fn get(addr: SocketAddr, target: &str) -> Conn {
    Conn::open(addr, "GET", target, &[], b"").await
}

async fn get_text(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut conn = get(addr, target).await;
    let text = conn.text().await;
    (conn.status, text)
}

async fn stats(addr: SocketAddr, session: &str) -> Value {
    let (status, text) = get_text(addr, &format!("/stats?session={session}")).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Polls `/stats` until `check` holds.
async fn stats_until(addr: SocketAddr, session: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = stats(addr, session).await;
        if check(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "stats never matched: {value}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Ev {
    event: Option<String>,
    id: Option<String>,
    data: String,
}

#[derive(Debug, Default)]
struct Parsed {
    events: Vec<Ev>,
    comments: usize,
    retry: Option<String>,
}

/// A minimal SSE parser, enough to check what the server wrote.
fn parse(text: &str) -> Parsed {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut parsed = Parsed::default();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut ev = Ev::default();
        let mut is_event = false;
        for line in block.lines() {
            if line.starts_with(':') {
                parsed.comments += 1;
                continue;
            }
            let (field, value) = line.split_once(": ").unwrap_or((line, ""));
            match field {
                "event" => ev.event = Some(value.to_owned()),
                "id" => ev.id = Some(value.to_owned()),
                "data" => {
                    ev.data = value.to_owned();
                    is_event = true;
                }
                "retry" => parsed.retry = Some(value.to_owned()),
                other => panic!("unexpected field {other:?}"),
            }
        }
        if is_event {
            parsed.events.push(ev);
        }
    }
    parsed
}

fn ids(parsed: &Parsed) -> Vec<u64> {
    parsed
        .events
        .iter()
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect()
}

async fn events(addr: SocketAddr, target: &str) -> Parsed {
    let mut conn = get(addr, target).await;
    assert_eq!(conn.status, 200);
    parse(&conn.text().await)
}

#[tokio::test]
async fn count_ids_types_and_formats() {
    let s = start().await;
    let mut conn = get(s.addr, "/sse?count=5&types=tick,,news").await;
    assert_eq!(conn.status, 200);
    assert_eq!(conn.header("content-type"), Some("text/event-stream"));
    assert_eq!(conn.header("cache-control"), Some("no-cache"));
    assert_eq!(conn.header("x-accel-buffering"), Some("no"));
    let text = conn.text().await;
    assert!(
        text.starts_with("event: tick\nid: 1\ndata: {\"seq\":1,\"type\":\"tick\"}\n\n"),
        "{text}"
    );
    let parsed = parse(&text);
    assert_eq!(ids(&parsed), [1, 2, 3, 4, 5]);
    let types: Vec<_> = parsed.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        types,
        [
            Some("tick".into()),
            None,
            Some("news".into()),
            Some("tick".into()),
            None
        ]
    );
    let data: Value = serde_json::from_str(&parsed.events[1].data).unwrap();
    assert_eq!(data, serde_json::json!({"seq": 2, "type": "message"}));

    let parsed = events(s.addr, "/sse").await;
    assert_eq!(parsed.events.len(), 10, "default count");
    assert!(parsed.events.iter().all(|e| e.event.is_none()));

    let parsed = events(s.addr, "/sse?count=3&format=text&ids=off").await;
    let data: Vec<_> = parsed.events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["event 1", "event 2", "event 3"]);
    assert!(parsed.events.iter().all(|e| e.id.is_none()));

    let parsed = events(s.addr, "/sse?count=2&size=1000").await;
    for ev in &parsed.events {
        assert!(ev.data.len() >= 1000);
        let v: Value = serde_json::from_str(&ev.data).unwrap();
        assert!(v["pad"].as_str().unwrap().chars().all(|c| c == 'x'));
    }

    let parsed = events(s.addr, "/sse?count=0").await;
    assert!(parsed.events.is_empty());
}

#[tokio::test]
async fn resume_from_header_and_query() {
    let s = start().await;
    let mut conn = Conn::open(
        s.addr,
        "GET",
        "/sse?count=6&session=r&lastEventId=1",
        &[("Last-Event-ID", "3")],
        b"",
    )
    .await;
    assert_eq!(
        ids(&parse(&conn.text().await)),
        [4, 5, 6],
        "header wins over query"
    );
    let parsed = events(s.addr, "/sse?count=6&session=r&lastEventId=4").await;
    assert_eq!(ids(&parsed), [5, 6]);
    let parsed = events(
        s.addr,
        "/sse?count=6&session=r&resume_param=after&after=5&lastEventId=1",
    )
    .await;
    assert_eq!(ids(&parsed), [6]);
    let parsed = events(s.addr, "/sse?count=3&session=r&lastEventId=abc").await;
    assert_eq!(ids(&parsed), [1, 2, 3], "a non-numeric id restarts");
    let parsed = events(s.addr, "/sse?count=3&session=r").await;
    assert_eq!(ids(&parsed), [1, 2, 3]);

    let st = stats(s.addr, "r").await;
    let conns = st["connections"].as_array().unwrap();
    let seen: Vec<_> = conns
        .iter()
        .map(|c| (c["last_event_id"].clone(), c["id_source"].clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (Value::from("3"), Value::from("header")),
            (Value::from("4"), Value::from("query")),
            (Value::from("5"), Value::from("query")),
            (Value::from("abc"), Value::from("query")),
            (Value::Null, Value::Null),
        ]
    );
    let sent: Vec<_> = conns
        .iter()
        .map(|c| c["events_sent"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, [3, 2, 1, 3, 3]);
}

#[tokio::test]
async fn drop_after_ends_each_connection() {
    let s = start().await;
    let parsed = events(s.addr, "/sse?count=7&drop_after=3&session=d").await;
    assert_eq!(ids(&parsed), [1, 2, 3]);
    let mut conn = Conn::open(
        s.addr,
        "GET",
        "/sse?count=7&drop_after=3&session=d",
        &[("Last-Event-ID", "3")],
        b"",
    )
    .await;
    assert_eq!(ids(&parse(&conn.text().await)), [4, 5, 6]);
    let parsed = events(s.addr, "/sse?count=7&drop_after=3&session=d&lastEventId=6").await;
    assert_eq!(ids(&parsed), [7]);
    let st = stats_until(s.addr, "d", |v| v["open"] == 0).await;
    let sent: Vec<_> = st["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["events_sent"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, [3, 3, 1]);
}

#[tokio::test]
async fn scripted_failures() {
    let s = start().await;
    let q = "/sse?count=2&session=f&fail_status=503&fail_first=2&retry_after=7";
    for _ in 0..2 {
        let mut conn = get(s.addr, q).await;
        assert_eq!(conn.status, 503);
        assert_eq!(conn.header("retry-after"), Some("7"));
        assert!(conn
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
        assert!(!conn.text().await.is_empty());
    }
    let parsed = events(s.addr, q).await;
    assert_eq!(ids(&parsed), [1, 2]);

    // fail_first defaults to 1, and 204 has no body.
    let mut conn = get(s.addr, "/sse?session=g&fail_status=204").await;
    assert_eq!(conn.status, 204);
    assert!(conn.header("retry-after").is_none());
    assert!(conn.body().await.is_empty());
    assert_eq!(
        get(s.addr, "/sse?session=g&fail_status=204").await.status,
        200
    );

    // 200 with a failure is a plain text page, not a stream.
    let mut conn = get(s.addr, "/sse?session=h&fail_status=200").await;
    assert_eq!(conn.status, 200);
    assert!(conn
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(!conn.text().await.contains("data:"));

    let st = stats_until(s.addr, "f", |v| v["open"] == 0).await;
    let conns = st["connections"].as_array().unwrap();
    let statuses: Vec<_> = conns
        .iter()
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(conns[0]["events_sent"], 0);
    assert_eq!(conns[0]["closed_at_ms"], conns[0]["at_ms"]);
    assert_eq!(conns[2]["events_sent"], 2);
    let index: Vec<_> = conns.iter().map(|c| c["index"].as_u64().unwrap()).collect();
    assert_eq!(index, [0, 1, 2]);

    let (status, text) = get_text(s.addr, "/sse?fail_status=500").await;
    assert_eq!(status, 400, "fail_status needs a session: {text}");
}

#[tokio::test]
async fn content_type_malformed_retry() {
    let s = start().await;
    let mut conn = get(s.addr, "/sse?count=1&content_type=text/plain").await;
    assert_eq!(conn.header("content-type"), Some("text/plain"));
    assert_eq!(ids(&parse(&conn.text().await)), [1]);

    let parsed = events(s.addr, "/sse?count=3&malformed=2").await;
    assert!(serde_json::from_str::<Value>(&parsed.events[0].data).is_ok());
    assert_eq!(parsed.events[1].data, "{\"seq\":2, broken");
    assert!(serde_json::from_str::<Value>(&parsed.events[1].data).is_err());
    assert!(serde_json::from_str::<Value>(&parsed.events[2].data).is_ok());

    let mut conn = get(s.addr, "/sse?count=1&retry=1500").await;
    let text = conn.text().await;
    assert!(text.starts_with("retry: 1500\n\nid: 1\n"), "{text}");
}

#[tokio::test]
async fn line_endings() {
    let s = start().await;
    let (_, text) = get_text(s.addr, "/sse?count=2&types=a&line_end=crlf&retry=5").await;
    assert!(
        text.starts_with("retry: 5\r\n\r\nevent: a\r\nid: 1\r\ndata: {"),
        "{text:?}"
    );
    assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "{text:?}");
    assert_eq!(ids(&parse(&text)), [1, 2]);

    let (_, text) = get_text(s.addr, "/sse?count=2&line_end=cr").await;
    assert!(text.starts_with("id: 1\rdata: {"), "{text:?}");
    assert!(!text.contains('\n'));
    assert!(text.ends_with("\r\r"));
    assert_eq!(ids(&parse(&text)), [1, 2]);
}

#[tokio::test]
async fn comments_while_stalled_until_max_ms() {
    let s = start().await;
    let started = Instant::now();
    let (_, text) = get_text(
        s.addr,
        "/sse?count=5&stall_after=2&comment_every=50&max_ms=400",
    )
    .await;
    let elapsed = started.elapsed();
    let parsed = parse(&text);
    assert_eq!(ids(&parsed), [1, 2]);
    assert!(
        (2..=8).contains(&parsed.comments),
        "{} comments",
        parsed.comments
    );
    assert!(text.contains(": ping\n\n"));
    assert!(
        elapsed >= Duration::from_millis(390) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn comments_between_slow_events() {
    let s = start().await;
    let (_, text) = get_text(s.addr, "/sse?count=2&interval=300&comment_every=100").await;
    let parsed = parse(&text);
    assert_eq!(ids(&parsed), [1, 2]);
    assert!((1..=2).contains(&parsed.comments), "{text}");
    // No heartbeat when events come more often than the heartbeat period.
    let (_, text) = get_text(s.addr, "/sse?count=3&interval=50&comment_every=100").await;
    assert_eq!(parse(&text).comments, 0, "{text}");
}

#[tokio::test]
async fn hold_is_bounded_by_max_ms() {
    let s = start().await;
    let started = Instant::now();
    let mut conn = get(s.addr, "/sse?count=2&then=hold&max_ms=600").await;
    let mut seen = Vec::new();
    conn.read_until(&mut seen, "id: 2").await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "events come at once"
    );
    seen.extend(conn.body().await);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(590) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let parsed = parse(&String::from_utf8(seen).unwrap());
    assert_eq!(ids(&parsed), [1, 2]);
    assert_eq!(parsed.comments, 0);
}

#[tokio::test]
async fn max_ms_bounds_every_stream() {
    let s = start().await;
    let started = Instant::now();
    let parsed = events(s.addr, "/sse?count=1000&interval=100&max_ms=350").await;
    let elapsed = started.elapsed();
    assert!(
        (1..=5).contains(&parsed.events.len()),
        "{}",
        parsed.events.len()
    );
    assert!(
        elapsed >= Duration::from_millis(340) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    // Values above the cap are clamped, not rejected.
    let (status, _) = get_text(s.addr, "/sse?count=1&max_ms=99999999").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn interval_spaces_events() {
    let s = start().await;
    let started = Instant::now();
    let parsed = events(s.addr, "/sse?count=3&interval=100").await;
    assert_eq!(ids(&parsed), [1, 2, 3]);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(195) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn echo_headers_and_post_body() {
    let s = start().await;
    let mut conn = Conn::open(
        s.addr,
        "POST",
        "/sse?count=2&echo=1&session=e&x=y%20z",
        &[("X-Custom", "hello"), ("Authorization", "Bearer t")],
        "{\"q\":\"ünï\"}".as_bytes(),
    )
    .await;
    let parsed = parse(&conn.text().await);
    assert_eq!(parsed.events.len(), 3);
    let echo = &parsed.events[0];
    assert_eq!(echo.event.as_deref(), Some("echo"));
    assert_eq!(echo.id, None);
    let v: Value = serde_json::from_str(&echo.data).unwrap();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["headers"]["x-custom"], "hello");
    assert_eq!(v["headers"]["authorization"], "Bearer t");
    assert_eq!(v["query"]["x"], "y z");
    assert_eq!(v["query"]["echo"], "1");
    assert_eq!(v["body"], "{\"q\":\"ünï\"}");
    assert_eq!(parsed.events[1].id.as_deref(), Some("1"));

    let st = stats_until(s.addr, "e", |v| v["open"] == 0).await;
    let c = &st["connections"][0];
    assert_eq!(c["method"], "POST");
    assert_eq!(c["headers"]["x-custom"], "hello");
    assert_eq!(c["events_sent"], 2, "the echo is not a counted event");
}

#[tokio::test]
async fn stats_track_open_streams() {
    let s = start().await;
    let unknown = stats(s.addr, "nobody").await;
    assert_eq!(
        unknown,
        serde_json::json!({"session": "nobody", "open": 0, "connections": []})
    );

    // A held stream stays open until the client goes away.
    let mut conn = get(s.addr, "/sse?count=3&then=hold&session=o&max_ms=10000").await;
    let mut seen = Vec::new();
    conn.read_until(&mut seen, "id: 3").await;
    let st = stats_until(s.addr, "o", |v| v["connections"][0]["events_sent"] == 3).await;
    assert_eq!(st["open"], 1);
    assert_eq!(st["connections"][0]["closed_at_ms"], Value::Null);
    assert_eq!(st["connections"][0]["status"], 200);
    drop(conn);
    let st = stats_until(s.addr, "o", |v| v["open"] == 0).await;
    let c = &st["connections"][0];
    assert!(c["closed_at_ms"].as_f64().unwrap() > c["at_ms"].as_f64().unwrap());

    // A stream that ends by itself closes too.
    let _ = events(s.addr, "/sse?count=1&session=o").await;
    let st = stats_until(s.addr, "o", |v| {
        v["open"] == 0 && v["connections"].as_array().unwrap().len() == 2
    })
    .await;
    assert!(st["connections"][1]["closed_at_ms"].is_f64());
    assert!(
        st["connections"][1]["at_ms"].as_f64().unwrap()
            >= st["connections"][0]["at_ms"].as_f64().unwrap()
    );
}

#[tokio::test]
async fn drop_ends_open_streams() {
    let s = start().await;
    let mut a = get(s.addr, "/sse?count=2&then=hold&session=x&max_ms=10000").await;
    let mut b = get(s.addr, "/sse?count=100&interval=50&session=x&max_ms=10000").await;
    let mut seen = Vec::new();
    a.read_until(&mut seen, "id: 2").await;
    b.read_until(&mut Vec::new(), "id: 1").await;
    stats_until(s.addr, "x", |v| v["open"] == 2).await;

    let started = Instant::now();
    let (status, text) = get_text(s.addr, "/drop?session=x").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        serde_json::json!({"dropped": 2})
    );
    // Both bodies end cleanly (terminating chunk) right away.
    a.body().await;
    let rest = b.text().await;
    assert!(parse(&rest).events.len() < 5);
    assert!(started.elapsed() < Duration::from_secs(1));
    stats_until(s.addr, "x", |v| v["open"] == 0).await;

    let conn = Conn::open(s.addr, "POST", "/drop?session=x", &[], b"").await;
    assert_eq!(conn.status, 200);
    let (_, text) = get_text(s.addr, "/drop?session=none").await;
    assert_eq!(text, "{\"dropped\":0}");
}

#[tokio::test]
async fn cors_for_loopback_origins_only() {
    let s = start().await;
    let origin = "http://localhost:5173";
    for target in [
        "/health",
        "/sse?count=1",
        "/no/such/path",
        "/sse?count=x",
        "/sse?session=c&fail_status=500",
    ] {
        let mut conn = Conn::open(s.addr, "GET", target, &[("Origin", origin)], b"").await;
        conn.body().await;
        assert_eq!(
            conn.header("access-control-allow-origin"),
            Some(origin),
            "{target}"
        );
        assert_eq!(
            conn.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(conn.header("vary"), Some("Origin"));
        assert_eq!(
            conn.header("access-control-expose-headers"),
            Some("Retry-After, Content-Type")
        );
    }
    let mut conn = Conn::open(
        s.addr,
        "GET",
        "/sse?session=c2&fail_status=204",
        &[("Origin", "http://[::1]:9")],
        b"",
    )
    .await;
    assert_eq!(conn.status, 204);
    assert_eq!(
        conn.header("access-control-allow-origin"),
        Some("http://[::1]:9")
    );
    conn.body().await;

    let mut pre = Conn::open(
        s.addr,
        "OPTIONS",
        "/sse?count=1",
        &[
            ("Origin", "http://127.0.0.1:8000"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "x-custom, content-type"),
        ],
        b"",
    )
    .await;
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("http://127.0.0.1:8000")
    );
    assert_eq!(pre.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        pre.header("access-control-allow-methods"),
        Some("GET, POST, OPTIONS")
    );
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("x-custom, content-type")
    );
    assert_eq!(pre.header("access-control-max-age"), Some("600"));
    assert!(pre.body().await.is_empty());

    for other in [
        "http://example.com",
        "http://127.0.0.1.example.com:80",
        "null",
    ] {
        let mut conn = Conn::open(s.addr, "GET", "/health", &[("Origin", other)], b"").await;
        conn.body().await;
        assert!(
            conn.headers
                .iter()
                .all(|(n, _)| !n.starts_with("access-control-")),
            "{other}"
        );
        let pre = Conn::open(s.addr, "OPTIONS", "/sse", &[("Origin", other)], b"").await;
        assert_eq!(pre.status, 204);
        assert!(
            pre.headers
                .iter()
                .all(|(n, _)| !n.starts_with("access-control-")),
            "{other}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_400() {
    let s = start().await;
    for target in [
        "/sse?count=abc",
        "/sse?count=-1",
        "/sse?count=99999999999",
        "/sse?interval=1.5",
        "/sse?malformed=1,two",
        "/sse?ids=maybe",
        "/sse?drop_after=0",
        "/sse?line_end=lfcr",
        "/sse?format=xml",
        "/sse?then=wait",
        "/sse?fail_status=700&session=s",
        "/sse?fail_status=503",
        "/sse?size=99999999999999999999999",
        "/sse?types=a%0Ab",
        "/sse?content_type=%00",
        "/stats",
        "/drop",
        "/stats?session=",
    ] {
        let mut conn = get(s.addr, target).await;
        let text = conn.text().await;
        assert_eq!(conn.status, 400, "{target}: {text}");
        assert!(
            conn.header("content-type")
                .unwrap()
                .starts_with("text/plain"),
            "{target}"
        );
        assert!(text.starts_with("bad request: "), "{target}: {text}");
    }
    let long = "s".repeat(129);
    assert_eq!(
        get_text(s.addr, &format!("/sse?session={long}")).await.0,
        400
    );
    assert_eq!(get_text(s.addr, "/health").await, (200, "ok".to_owned()));
    assert_eq!(get_text(s.addr, "/nothing").await.0, 404);
}

#[tokio::test]
async fn byte_by_byte_writes_one_byte_per_chunk() {
    let s = start().await;
    let mut conn = get(s.addr, "/sse?count=3&byte_by_byte=1&types=t&retry=9").await;
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = conn.chunk().await {
        assert_eq!(chunk.len(), 1);
        body.extend(chunk);
        chunks += 1;
    }
    let text = String::from_utf8(body).unwrap();
    assert_eq!(chunks, text.len());
    assert_eq!(ids(&parse(&text)), [1, 2, 3]);

    let started = Instant::now();
    let parsed = events(
        s.addr,
        "/sse?count=1&byte_by_byte=1&chunk_delay=5&format=text",
    )
    .await;
    assert_eq!(parsed.events[0].data, "event 1");
    // "id: 1\ndata: event 1\n\n" is 21 bytes: 20 delays of 5 ms.
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn fast_streams_are_batched() {
    let s = start().await;
    let started = Instant::now();
    let mut conn = get(s.addr, "/sse?count=20000&session=big").await;
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = conn.chunk().await {
        body.extend(chunk);
        chunks += 1;
    }
    let parsed = parse(&String::from_utf8(body).unwrap());
    assert_eq!(parsed.events.len(), 20_000);
    assert_eq!(parsed.events.last().unwrap().id.as_deref(), Some("20000"));
    assert!(chunks < 200, "{chunks} chunks");
    assert!(started.elapsed() < Duration::from_secs(5));
    let st = stats_until(s.addr, "big", |v| v["open"] == 0).await;
    assert_eq!(st["connections"][0]["events_sent"], 20_000);
}

#[tokio::test]
async fn static_files_from_www() {
    let dir = std::env::temp_dir().join(format!("sse-server-www-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>demo</h1>").unwrap();
    let s = start_with(Some(dir.clone())).await;
    assert_eq!(
        get_text(s.addr, "/").await,
        (200, "<h1>demo</h1>".to_owned())
    );
    assert_eq!(get_text(s.addr, "/index.html").await.0, 200);
    assert_eq!(get_text(s.addr, "/missing.js").await.0, 404);
    assert_eq!(get_text(s.addr, "/health").await, (200, "ok".to_owned()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_npm_package_under_pkg() {
    let root = std::env::temp_dir().join(format!("sse-server-pkg-{}", std::process::id()));
    let (www, pkg) = (root.join("www"), root.join("pkg"));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(pkg.join("sse_wasm.js"), "export default 1;").unwrap();
    let s = start_serving(AppState::serving(Some(www), Some(pkg))).await;
    assert_eq!(
        get_text(s.addr, "/pkg/sse_wasm.js").await,
        (200, "export default 1;".to_owned())
    );
    assert_eq!(get_text(s.addr, "/").await.0, 200);
    assert_eq!(get_text(s.addr, "/pkg/missing.wasm").await.0, 404);
    std::fs::remove_dir_all(root).unwrap();
}

/// Kills the child on drop, so that a failing assertion does not leave a
/// server running (and holding the test harness's output pipe open).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn binary_announces_port_and_exits_on_sigterm() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let port_file = std::env::temp_dir().join(format!("sse-server-port-{}", std::process::id()));
    let _ = std::fs::remove_file(&port_file);
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_sse-server"))
            .args(["--port", "0", "--port-file"])
            .arg(&port_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = std::fs::read_to_string(&port_file)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        line,
        format!("sse-server listening on http://127.0.0.1:{port}\n")
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    // An open stream must not hold up the exit.
    let mut held = rt.block_on(get(addr, "/sse?count=1&then=hold&max_ms=60000"));
    rt.block_on(held.read_until(&mut Vec::new(), "id: 1"));
    assert_eq!(
        rt.block_on(get_text(addr, "/health")),
        (200, "ok".to_owned())
    );

    let started = std::time::Instant::now();
    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The held stream was ended cleanly, not cut.
    rt.block_on(held.body());
    let _ = std::fs::remove_file(&port_file);

    let bad = Command::new(env!("CARGO_BIN_EXE_sse-server"))
        .arg("--bogus")
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
