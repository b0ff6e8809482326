//! The Rust side of the browser benchmark (`make bench`, page `bench/www/bench.mjs`).
//!
//! Every export drives the real `sse-wasm` library in the page it runs in:
//!
//! - [`rust_throughput`]: one typed handler (`on::<Tick>`) over a fast stream;
//! - [`ParserBench`] and [`mixed_stream`]: the event-stream parser on the same bytes
//!   as the native criterion bench (`bench/native/mixed_stream.rs`);
//! - [`memory_connect_close`] and [`memory_reconnects`]: live heap bytes (a counting
//!   global allocator), linear memory size and live JS closures before and after many
//!   connections, to show that none of them leaks.
//!
//! Failures are rejected promises (or thrown `Error`s) with a message; nothing here
//! panics on input.

#![deny(missing_docs)]

mod alloc;
#[path = "../../native/mixed_stream.rs"]
mod mixed_stream;
mod wait;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Reflect};
use serde::Deserialize;
use sse_wasm::parser::{Item, Parser};
use sse_wasm::{ConnectionState, SseClient, SseError, Transport};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::wait::{now, pending, with_timeout, yield_to_event_loop};

/// How long a throughput run may take before it is given up.
const THROUGHPUT_TIMEOUT_MS: i32 = 120_000;
/// How long a memory cycle may wait for its event.
const EVENT_TIMEOUT_MS: i32 = 10_000;
/// Event-loop turns given to the browser before a measurement, so that what a closed
/// connection leaves behind (a fetch task ending on its aborted read) can finish.
const SETTLE_TURNS: u32 = 4;

/// The data of the scripted server's JSON events (`pad` is skipped by serde).
#[derive(Deserialize)]
struct Tick {
    seq: u64,
    #[serde(rename = "type")]
    kind: String,
}

fn error(message: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(message.as_ref()).into()
}

fn transport(name: &str) -> Result<Transport, JsValue> {
    match name {
        "eventsource" => Ok(Transport::EventSource),
        "fetch" => Ok(Transport::Fetch),
        "auto" => Ok(Transport::Auto),
        other => Err(error(format!(
            "transport: expected \"eventsource\", \"fetch\" or \"auto\", got {other:?}"
        ))),
    }
}

fn connect(url: &str, transport: Transport) -> Result<SseClient, JsValue> {
    SseClient::builder(url)
        .transport(transport)
        .connect()
        .map_err(|e| error(format!("connect {url}: {e}")))
}

/// A plain JS object with these number fields.
fn object(fields: &[(&str, f64)]) -> Result<JsValue, JsValue> {
    let object = Object::new();
    for (name, value) in fields {
        Reflect::set(
            &object,
            &JsValue::from_str(name),
            &JsValue::from_f64(*value),
        )?;
    }
    Ok(object.into())
}

/// Rejects `reject`'s promise with the first error the client reports.
fn reject_on_error(reject: Function, what: String) -> impl FnMut(&SseError) + 'static {
    move |e: &SseError| {
        let _ = reject.call1(
            &JsValue::UNDEFINED,
            &error(format!("{what}: {e} (kind {})", e.kind())),
        );
    }
}

// ---------------------------------------------------------------------------------
// Throughput

/// Connects a client to `url` over `transport` (`"eventsource"` or `"fetch"`) with one
/// typed handler, `on::<Tick>("message")`, and resolves once `expected` events have
/// arrived with `{ events, ms, checksum }`: `ms` from just before connecting to the
/// last event, `checksum` the sum of the events' `seq`.
///
/// Rejects on the first error the client reports, or after 120 s.
#[wasm_bindgen]
pub async fn rust_throughput(
    url: String,
    transport: String,
    expected: u32,
) -> Result<JsValue, JsValue> {
    let transport = self::transport(&transport)?;
    if expected == 0 {
        return Err(error("expected: must be at least 1"));
    }
    let (done, resolve, reject) = pending();
    let count = Rc::new(Cell::new(0u32));
    let checksum = Rc::new(Cell::new(0u64));
    let end = Rc::new(Cell::new(0f64));

    let start = now();
    let client = connect(&url, transport)?;
    let events = {
        let (count, checksum, end) = (count.clone(), checksum.clone(), end.clone());
        client.on::<Tick>("message", move |tick: Tick| {
            // Decoded, so it is paid for; not part of the checksum.
            std::hint::black_box(&tick.kind);
            checksum.set(checksum.get().wrapping_add(tick.seq));
            let n = count.get() + 1;
            count.set(n);
            if n == expected {
                end.set(now());
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        })
    };
    let errors = client.on_error(reject_on_error(
        reject,
        format!("rust_throughput {}", transport.as_str()),
    ));
    let outcome = with_timeout(&done, THROUGHPUT_TIMEOUT_MS, "rust_throughput").await;
    client.close();
    drop((events, errors, client));
    outcome.map_err(|e| {
        error(format!(
            "{} after {} of {expected} events",
            wait::message(&e),
            count.get()
        ))
    })?;
    object(&[
        ("events", f64::from(count.get())),
        ("ms", end.get() - start),
        ("checksum", checksum.get() as f64),
    ])
}

// ---------------------------------------------------------------------------------
// Parser

/// The event-stream parser, fed by the page in chunks it times itself.
#[wasm_bindgen]
pub struct ParserBench {
    parser: Parser,
}

impl Default for ParserBench {
    fn default() -> Self {
        ParserBench::new()
    }
}

#[wasm_bindgen]
impl ParserBench {
    /// A parser with the default event size limit.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ParserBench {
        ParserBench {
            parser: Parser::new(),
        }
    }

    /// Parses the next chunk of the stream and returns how many events it dispatched;
    /// throws the parser's error message if it fails.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<u32, JsValue> {
        let mut events = 0u32;
        self.parser
            .feed(chunk, |item| {
                if let Item::Event(_) = item {
                    events += 1;
                }
            })
            .map_err(|e| error(e.to_string()))?;
        Ok(events)
    }

    /// Ends the stream (an incomplete event is discarded); the parser can start over.
    pub fn finish(&mut self) {
        self.parser.finish();
    }
}

/// The parser benchmark's workload: at least `len` bytes of the mixed event stream, the
/// same bytes the native bench parses.
#[wasm_bindgen]
pub fn mixed_stream(len: u32) -> Vec<u8> {
    mixed_stream::mixed_stream(len as usize)
}

// ---------------------------------------------------------------------------------
// Memory

/// Live heap bytes, linear memory bytes and live sse-wasm closures.
#[derive(Clone, Copy)]
struct Snapshot {
    heap: usize,
    memory: f64,
    closures: usize,
}

fn snapshot() -> Snapshot {
    let memory = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|memory| memory.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0.0, |buffer| f64::from(buffer.byte_length()));
    Snapshot {
        heap: alloc::live_bytes(),
        memory,
        closures: sse_wasm::live_closures(),
    }
}

async fn settle() {
    for _ in 0..SETTLE_TURNS {
        yield_to_event_loop().await;
    }
}

fn report(before: Snapshot, after: Snapshot, count: (&str, u32)) -> Result<JsValue, JsValue> {
    object(&[
        ("heap_before", before.heap as f64),
        ("heap_after", after.heap as f64),
        ("memory_before", before.memory),
        ("memory_after", after.memory),
        ("closures_before", before.closures as f64),
        ("closures_after", after.closures as f64),
        (count.0, f64::from(count.1)),
    ])
}

/// One connect/close cycle: connect, subscribe, wait for the first event, close, drop
/// everything, yield once.
async fn connect_close_cycle(url: &str, transport: Transport) -> Result<(), JsValue> {
    let (first, resolve, reject) = pending();
    let client = connect(url, transport)?;
    let event = client.on::<Tick>("message", move |tick: Tick| {
        std::hint::black_box(tick.seq);
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    let state = client.on_state(|state: ConnectionState| {
        std::hint::black_box(state);
    });
    let errors = client.on_error(reject_on_error(
        reject,
        format!("memory_connect_close {}", transport.as_str()),
    ));
    let outcome = with_timeout(
        &first,
        EVENT_TIMEOUT_MS,
        "memory_connect_close: first event",
    )
    .await;
    client.close();
    drop((event, state, errors, client));
    yield_to_event_loop().await;
    outcome.map(drop)
}

/// Measures `cycles` connect/close cycles of a client of `url` over `transport`, after
/// one warm-up cycle, and resolves with `{ heap_before, heap_after, memory_before,
/// memory_after, closures_before, closures_after, cycles }`.
///
/// Each cycle connects, subscribes `on::<Tick>("message")` and `on_state`, waits for
/// the first event (10 s at most), closes, drops the client and its subscriptions, and
/// yields to the event loop. `url` must send an event soon after connecting.
#[wasm_bindgen]
pub async fn memory_connect_close(
    url: String,
    transport: String,
    cycles: u32,
) -> Result<JsValue, JsValue> {
    let transport = self::transport(&transport)?;
    connect_close_cycle(&url, transport).await?;
    settle().await;
    let before = snapshot();
    for cycle in 0..cycles {
        connect_close_cycle(&url, transport)
            .await
            .map_err(|e| error(format!("cycle {cycle}: {}", wait::message(&e))))?;
    }
    settle().await;
    let after = snapshot();
    report(before, after, ("cycles", cycles))
}

/// One client whose events and opens can be awaited.
struct Watched {
    client: SseClient,
    opens: Rc<Cell<u32>>,
    /// Resolves the promise of whoever waits for the next event.
    next: Rc<RefCell<Option<Function>>>,
    /// Rejects it, with the client's error.
    failed: Rc<RefCell<Option<Function>>>,
    _subscriptions: [sse_wasm::Subscription; 3],
}

impl Watched {
    fn new(url: &str, transport: Transport) -> Result<Watched, JsValue> {
        let client = connect(url, transport)?;
        let opens = Rc::new(Cell::new(0));
        let next: Rc<RefCell<Option<Function>>> = Rc::default();
        let failed: Rc<RefCell<Option<Function>>> = Rc::default();
        let event = {
            let next = next.clone();
            client.on::<Tick>("message", move |tick: Tick| {
                std::hint::black_box(tick.seq);
                if let Some(resolve) = next.borrow_mut().take() {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            })
        };
        let state = {
            let opens = opens.clone();
            client.on_state(move |state: ConnectionState| {
                if state == ConnectionState::Open {
                    opens.set(opens.get() + 1);
                }
            })
        };
        let errors = {
            let failed = failed.clone();
            let what = format!("memory_reconnects {}", transport.as_str());
            client.on_error(move |e: &SseError| {
                if let Some(reject) = failed.borrow_mut().take() {
                    let message = format!("{what}: {e} (kind {})", e.kind());
                    let _ = reject.call1(&JsValue::UNDEFINED, &error(message));
                }
            })
        };
        Ok(Watched {
            client,
            opens,
            next,
            failed,
            _subscriptions: [event, state, errors],
        })
    }

    /// Waits for the next event (10 s at most).
    async fn next_event(&self, what: &str) -> Result<(), JsValue> {
        let (promise, resolve, reject) = pending();
        *self.next.borrow_mut() = Some(resolve);
        *self.failed.borrow_mut() = Some(reject);
        let outcome = with_timeout(&promise, EVENT_TIMEOUT_MS, what).await;
        self.next.borrow_mut().take();
        self.failed.borrow_mut().take();
        outcome.map(drop)
    }

    /// Reconnects and waits for an event of the new connection.
    async fn reconnect(&self) -> Result<(), JsValue> {
        let target = self.opens.get() + 1;
        self.client.reconnect();
        // Signals of the old connection are ignored once reconnect() returns, so the
        // next event is the new connection's; the open count makes sure of it.
        loop {
            self.next_event("memory_reconnects: event after reconnect")
                .await?;
            if self.opens.get() >= target {
                return Ok(());
            }
        }
    }
}

/// Measures `reconnects` forced reconnects (`client.reconnect()`, then an event of the
/// new connection, 10 s at most) of one client of `url` over `transport`, after one
/// warm-up reconnect, and resolves with `{ heap_before, heap_after, memory_before,
/// memory_after, closures_before, closures_after, reconnects }`, both taken while the
/// client is open. Closes the client before resolving.
#[wasm_bindgen]
pub async fn memory_reconnects(
    url: String,
    transport: String,
    reconnects: u32,
) -> Result<JsValue, JsValue> {
    let transport = self::transport(&transport)?;
    let watched = Watched::new(&url, transport)?;
    let outcome = measure_reconnects(&watched, reconnects).await;
    watched.client.close();
    drop(watched);
    let (before, after) = outcome?;
    report(before, after, ("reconnects", reconnects))
}

async fn measure_reconnects(
    watched: &Watched,
    reconnects: u32,
) -> Result<(Snapshot, Snapshot), JsValue> {
    watched.next_event("memory_reconnects: first event").await?;
    watched.reconnect().await?;
    settle().await;
    let before = snapshot();
    for n in 0..reconnects {
        watched
            .reconnect()
            .await
            .map_err(|e| error(format!("reconnect {n}: {}", wait::message(&e))))?;
        yield_to_event_loop().await;
    }
    settle().await;
    Ok((before, snapshot()))
}
