//! What the server's integration tests share: an HTTP/1.1 client on a raw TCP
//! connection that reads an event stream event by event (so a test sees exactly the
//! bytes the server sent), and helpers for the demo's feed. Each test file uses a
//! part of it.
#![allow(dead_code)]

pub mod redis_server;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Upper bound for one network wait, so that a bug fails a test instead of hanging it.
pub const WAIT: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event: String,
    pub id: Option<u64>,
    pub data: Value,
    pub raw: String,
}

/// One HTTP/1.1 exchange on its own connection, with a de-chunked body.
pub struct Conn {
    reader: BufReader<TcpStream>,
    pub status: u16,
    headers: Vec<(String, String)>,
    chunked: bool,
    remaining: Option<usize>,
    body: Vec<u8>,
    ended: bool,
}

impl Conn {
    pub async fn open(
        addr: SocketAddr,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Conn {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut head =
            format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" {
            head.push_str("Content-Length: 0\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
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
            remaining: None,
            body: Vec::new(),
            ended: false,
        };
        conn.chunked = conn
            .header("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"));
        conn.remaining = conn.header("content-length").map(|v| v.parse().unwrap());
        conn
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Reads one more piece of the body into `self.body`; false at its end.
    async fn fill(&mut self) -> bool {
        if self.ended {
            return false;
        }
        if self.chunked {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
            let mut data = vec![0; size + 2];
            self.reader.read_exact(&mut data).await.unwrap();
            data.truncate(size);
            if size == 0 {
                self.ended = true;
                return false;
            }
            self.body.extend(data);
            return true;
        }
        let mut data = vec![0; self.remaining.unwrap_or(usize::MAX).min(64 * 1024)];
        let n = self.reader.read(&mut data).await.unwrap();
        if n == 0 {
            self.ended = true;
            return false;
        }
        self.body.extend(&data[..n]);
        if let Some(left) = self.remaining.as_mut() {
            *left -= n;
            if *left == 0 {
                self.ended = true;
            }
        }
        true
    }

    /// The whole remaining body as text.
    pub async fn text(&mut self) -> String {
        while timeout(WAIT, self.fill()).await.expect("body did not end") {}
        String::from_utf8(std::mem::take(&mut self.body)).unwrap()
    }

    /// The next event (comments skipped); `None` when the body ends first.
    pub async fn event(&mut self) -> Option<Event> {
        timeout(WAIT, self.event_inner())
            .await
            .expect("timed out waiting for an event")
    }

    pub async fn event_inner(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.body.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.body.drain(..end + 2).collect();
                let raw = String::from_utf8(block).unwrap();
                let mut event = Event {
                    event: "message".to_owned(),
                    id: None,
                    data: Value::Null,
                    raw: raw.clone(),
                };
                let mut any = false;
                for line in raw.lines() {
                    if line.is_empty() || line.starts_with(':') {
                        continue;
                    }
                    let (field, value) = line.split_once(": ").unwrap();
                    any = true;
                    match field {
                        "event" => event.event = value.to_owned(),
                        "id" => event.id = Some(value.parse().unwrap()),
                        "data" => event.data = serde_json::from_str(value).unwrap(),
                        other => panic!("unexpected field {other}"),
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Whether an event arrives within `within`.
    pub async fn quiet_for(&mut self, within: Duration) -> bool {
        timeout(within, self.event_inner()).await.is_err()
    }
}

pub async fn get(addr: SocketAddr, target: &str) -> Conn {
    Conn::open(addr, "GET", target, &[]).await
}

pub async fn post(addr: SocketAddr, target: &str) -> (u16, Value) {
    let mut conn = Conn::open(addr, "POST", target, &[]).await;
    let text = conn.text().await;
    (
        conn.status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn assert_stream_headers(conn: &Conn) {
    assert_eq!(conn.status, 200);
    assert_eq!(conn.header("content-type"), Some("text/event-stream"));
    assert_eq!(conn.header("cache-control"), Some("no-cache"));
    assert_eq!(conn.header("x-accel-buffering"), Some("no"));
}

pub const FEED_TYPES: [&str; 4] = ["tick", "news", "notification", "status"];

/// The next `n` feed events; each carries its id as `seq`.
pub async fn feed_events(conn: &mut Conn, n: usize) -> Vec<Event> {
    let mut events = Vec::new();
    while events.len() < n {
        let event = conn.event().await.expect("the feed ended");
        assert!(FEED_TYPES.contains(&event.event.as_str()), "{event:?}");
        assert_eq!(event.data["seq"].as_u64(), event.id, "{event:?}");
        events.push(event);
    }
    events
}

pub fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.id.unwrap()).collect()
}
