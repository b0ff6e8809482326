//! The event generator behind `/sse`.
//!
//! A spawned task renders the script into chunks and sends them through a small
//! bounded channel; the response body is the receiving end. The bounded channel
//! gives backpressure (events are produced as fast as the client reads them, not
//! faster), and keeping the generator in plain sequential async code keeps the
//! many interacting knobs (interval, stalls, holds, heartbeats, drops, the
//! duration bound) readable.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use futures_core::Stream;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep, sleep_until, Instant};

use crate::http::event_text;
use crate::script::{Format, Script, Then};
use crate::stats::ConnGuard;

/// Without an interval, events are batched into chunks of about this size so
/// that benchmark-sized streams are not dominated by per-chunk overhead.
pub const BATCH_BYTES: usize = 16 * 1024;

/// Chunks in flight between the generator and the body.
const CHANNEL_CHUNKS: usize = 8;

/// What one connection's stream has to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The request's script.
    pub script: Script,
    /// Sequence number of the first event (1 unless resuming).
    pub first_seq: u64,
    /// Data of the initial `echo` event, when requested.
    pub echo: Option<String>,
    /// When the request arrived; `max_ms` counts from here.
    pub started: Instant,
}

/// Signals that end a stream early.
#[derive(Debug)]
pub struct Stops {
    /// Bumped by `/drop` for the stream's session.
    pub drops: Option<watch::Receiver<u64>>,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

struct Chunk {
    bytes: Bytes,
    // Events completed by this chunk, for the stats.
    events: u64,
}

/// The response body: chunks from the generator, plus the stats guard whose
/// drop marks the connection closed, whoever ends it.
struct EventBody {
    rx: mpsc::Receiver<Chunk>,
    guard: Option<ConnGuard>,
    // In byte-by-byte mode, return Pending once after every chunk: hyper keeps
    // buffering body chunks for as long as they are ready and flushes only when
    // the body is pending, so this is what makes each byte a separate write.
    pace: bool,
    yield_next: bool,
}

impl Stream for EventBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.yield_next {
            self.yield_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => {
                if let Some(guard) = &self.guard {
                    guard.add_events(chunk.events);
                }
                self.yield_next = self.pace;
                Poll::Ready(Some(Ok(chunk.bytes)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The receiving end is gone: the client disconnected.
struct Closed;

struct Writer {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
    events: u64,
    newline: &'static str,
    byte_by_byte: bool,
    chunk_delay: std::time::Duration,
    comment_every: Option<std::time::Duration>,
    last_write: Instant,
}

impl Writer {
    fn line(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.extend_from_slice(self.newline.as_bytes());
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let events = std::mem::take(&mut self.events);
        if self.byte_by_byte {
            let last = buf.len() - 1;
            for (i, byte) in buf.into_iter().enumerate() {
                if i > 0 && !self.chunk_delay.is_zero() {
                    sleep(self.chunk_delay).await;
                }
                let chunk = Chunk {
                    bytes: Bytes::copy_from_slice(&[byte]),
                    // Count events when their last byte goes out.
                    events: if i == last { events } else { 0 },
                };
                self.tx.send(chunk).await.map_err(|_| Closed)?;
            }
        } else {
            let chunk = Chunk {
                bytes: Bytes::from(buf),
                events,
            };
            self.tx.send(chunk).await.map_err(|_| Closed)?;
        }
        self.last_write = Instant::now();
        Ok(())
    }

    /// Waits until `until`, sending heartbeat comments if the script asks for
    /// them and the wait is longer than their period.
    async fn pause_until(&mut self, until: Instant) -> Result<(), Closed> {
        self.flush().await?;
        if let Some(every) = self.comment_every {
            loop {
                let next = self.last_write + every;
                if next >= until {
                    break;
                }
                sleep_until(next).await;
                self.line(": ping");
                self.line("");
                self.flush().await?;
            }
        }
        sleep_until(until).await;
        Ok(())
    }

    /// Sends nothing but heartbeats from now on; the caller's deadline ends it.
    async fn idle(&mut self, deadline: Instant) -> Result<(), Closed> {
        self.pause_until(deadline).await?;
        // The deadline also ends the stream from outside; never return early.
        std::future::pending().await
    }
}

fn json_data(seq: u64, kind: &str, size: usize) -> String {
    // serde_json escapes the type so that any query value yields valid JSON.
    let kind = serde_json::Value::String(kind.to_owned());
    let base = format!("{{\"seq\":{seq},\"type\":{kind}}}");
    if size <= base.len() {
        return base;
    }
    // `,"pad":""` adds 9 bytes before any padding.
    let pad = size.saturating_sub(base.len() + 9);
    let mut data = String::with_capacity(base.len() + 9 + pad);
    data.push_str(&base[..base.len() - 1]);
    data.push_str(",\"pad\":\"");
    data.push_str(&"x".repeat(pad));
    data.push_str("\"}");
    data
}

/// Renders the data field of event `seq`.
pub fn event_data(script: &Script, seq: u64) -> String {
    if script.malformed.contains(&seq) {
        return format!("{{\"seq\":{seq}, broken");
    }
    match script.format {
        Format::Json => json_data(
            seq,
            script.event_type(seq).unwrap_or("message"),
            script.size,
        ),
        Format::Text => format!("event {seq}"),
    }
}

fn write_event(w: &mut Writer, script: &Script, seq: u64) {
    let id = script.ids.then_some(seq);
    let text = event_text(
        script.event_type(seq),
        id,
        &event_data(script, seq),
        w.newline,
    );
    w.buf.extend_from_slice(text.as_bytes());
    w.events += 1;
}

async fn produce(plan: &Plan, w: &mut Writer, deadline: Instant) -> Result<(), Closed> {
    let script = &plan.script;
    if let Some(ms) = script.retry {
        w.line(&format!("retry: {ms}"));
        w.line("");
    }
    if let Some(echo) = &plan.echo {
        w.line("event: echo");
        w.line(&format!("data: {echo}"));
        w.line("");
    }
    let batch = script.interval.is_zero() && !script.byte_by_byte;
    if !batch {
        w.flush().await?;
    }
    let mut seq = plan.first_seq;
    let mut sent: u64 = 0;
    let mut last_event: Option<Instant> = None;
    while seq <= script.count {
        if script.drop_after.is_some_and(|k| sent >= k) {
            return w.flush().await;
        }
        if script.stall_after.is_some_and(|k| sent >= k) {
            return w.idle(deadline).await;
        }
        if let Some(prev) = last_event {
            if !script.interval.is_zero() {
                w.pause_until(prev + script.interval).await?;
            }
        }
        write_event(w, script, seq);
        last_event = Some(Instant::now());
        seq += 1;
        sent += 1;
        if !batch || w.buf.len() >= BATCH_BYTES {
            w.flush().await?;
        }
    }
    w.flush().await?;
    if script.then == Then::Hold {
        w.idle(deadline).await?;
    }
    Ok(())
}

async fn dropped(drops: Option<watch::Receiver<u64>>) {
    if let Some(mut drops) = drops {
        if drops.changed().await.is_ok() {
            return;
        }
    }
    // No session, or the session was evicted: nobody can drop this stream.
    std::future::pending().await
}

/// Starts the generator for `plan` and returns the response body it feeds.
pub fn body(plan: Plan, guard: Option<ConnGuard>, stops: Stops) -> Body {
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let pace = plan.script.byte_by_byte;
    let deadline = plan.started + plan.script.max;
    let Stops {
        drops,
        mut shutdown,
    } = stops;
    let closed = tx.clone();
    let mut writer = Writer {
        tx,
        buf: Vec::new(),
        events: 0,
        newline: plan.script.line_end.as_str(),
        byte_by_byte: plan.script.byte_by_byte,
        chunk_delay: plan.script.chunk_delay,
        comment_every: plan.script.comment_every,
        last_write: Instant::now(),
    };
    tokio::spawn(async move {
        // Whichever comes first ends the stream: dropping the writer and
        // `closed` closes the channel, which ends the body cleanly.
        tokio::select! {
            _ = produce(&plan, &mut writer, deadline) => {}
            _ = sleep_until(deadline) => {}
            _ = closed.closed() => {}
            _ = dropped(drops) => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
    Body::from_stream(EventBody {
        rx,
        guard,
        pace,
        yield_next: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_padding() {
        assert_eq!(json_data(1, "message", 0), r#"{"seq":1,"type":"message"}"#);
        for size in [27, 30, 36, 37, 100, 4096] {
            let data = json_data(12, "tick", size);
            assert!(data.len() >= size, "{size}: {data}");
            assert!(data.len() <= size.max(36), "{size}: {data}");
            let v: serde_json::Value = serde_json::from_str(&data).unwrap();
            assert_eq!(v["seq"], 12);
            assert_eq!(v["type"], "tick");
        }
        let quoted = json_data(1, "a\"b", 0);
        let v: serde_json::Value = serde_json::from_str(&quoted).unwrap();
        assert_eq!(v["type"], "a\"b");
    }

    #[test]
    fn malformed_and_text() {
        let s = Script::parse(Some("malformed=2&format=text")).unwrap();
        assert_eq!(event_data(&s, 1), "event 1");
        assert_eq!(event_data(&s, 2), r#"{"seq":2, broken"#);
    }
}
