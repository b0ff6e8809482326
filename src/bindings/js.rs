//! The npm package's face: `SseClient` for JavaScript, exactly as the npm API contract
//! (the README's JavaScript quick start) specifies it, with TypeScript declarations for
//! every option and callback.
//!
//! The class and what carries out its connections are plain JS, appended to the
//! package's entry by `scripts/pkg.sh`: `js_client.js` (the class), `js_driver.js` (the
//! connection, its timers and the page's events), `js_hub.js` (the handlers) and
//! `js_fetch.js` (the fetch transport's reads). What they ask of Rust is decided here,
//! through the `__sse*` functions: every transition of the state machine and every
//! backoff delay (`machine.rs`, `backoff.rs`), what a response's status and
//! Content-Type mean (`transport/status.rs`) and every byte of a fetch body
//! (`parser.rs`, through `js_stream.rs`). Rust keeps no closure and no JS object, so the
//! package's wasm is the machine and the parser and little else, and a closed client
//! costs wasm's memory nothing.
//!
//! Compiled with the `js` feature only, so Rust apps that use the crate do not carry a
//! second, JS-facing client in their own bindings.
//!
//! Decisions where the contract is silent follow the browser's `EventSource`:
//! - a client that is not closed keeps running when the script drops its last
//!   reference to it (an open `EventSource` is not garbage-collected either); `close()`
//!   is what stops it;
//! - handlers are called with `this` undefined, in the order they were added, and a
//!   handler removed while an event is being delivered is not called for it;
//! - a `URL` object is accepted wherever a URL string is;
//! - unknown option keys are ignored, as for a WebIDL dictionary.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use wasm_bindgen::prelude::*;

use super::js_stream::Stream;
use crate::backoff::{Backoff, Jitter};
use crate::event::{ConnectionState, SseError};
use crate::machine::{Effect, Effects, Failure, FailureClass, Machine};
use crate::transport::fetch::StreamReader;
use crate::transport::status::{self, Verdict};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The connection's state; `onState` reports each change. */
export type SseState = "connecting" | "open" | "reconnecting" | "paused" | "closed";

/** More about a state: for "reconnecting", which attempt comes next and after how long. */
export interface SseStateDetail {
  /** 1 for the first reconnect since the connection was last healthy. */
  attempt?: number;
  /** The wait before the next request, jitter and server floors included. */
  delayMs?: number;
}

/** Request headers, or a function that makes them before every (re)connect. */
export type SseHeaders =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);

/** Options of `new SseClient(url, options)`; every one is optional. */
export interface SseOptions {
  /** Send cookies cross-origin. Default false. */
  withCredentials?: boolean;
  /** JSON.parse the data before handlers see it. Default true. */
  json?: boolean;
  /** Reconnection policy. Defaults: 1000 ms, x2, at most 30000 ms, full jitter, unlimited. */
  backoff?: {
    initialMs?: number;
    maxMs?: number;
    factor?: number;
    jitter?: "none" | "full" | "equal";
    maxRetries?: number | null;
  };
  /** Carry the last event id across reconnects. Default true. */
  resume?: boolean;
  /** Query parameter that carries the id on the native transport. Default "lastEventId". */
  resumeParam?: string;
  /** Resume from this id on the very first request too. */
  lastEventId?: string;
  /** Reopen a stream the server ended. Default true. */
  reconnectOnEnd?: boolean;
  /** Reconnect when nothing arrives for this long. Default null (off). */
  idleTimeoutMs?: number | null;
  /** How to reach the server. Default "auto": "fetch" when method, headers or body are given. */
  transport?: "auto" | "eventsource" | "fetch";
  /** Request method (fetch). Default "GET", or "POST" when a body is given. */
  method?: string;
  /** Request body, sent with every (re)connect (fetch). */
  body?: string;
  /** Request headers, or a function called before every (re)connect (fetch). */
  headers?: SseHeaders;
  /** Largest event the fetch transport accepts, in bytes; a larger one is an error and a reconnect. Default 64 MiB. */
  maxEventSize?: number;
  /** An event of this type is delivered, then the client closes: no error, no further request. */
  endOnType?: string;
  /**
   * Share one connection with every client of this name in every tab, window and
   * same-origin frame of the browser profile (`true`: the stream's absolute URL is the
   * name). One client leads: it connects with its own options and relays events, states
   * and errors to the others; when it goes, the next takes over and resumes from the
   * last id any of them saw. Without Web Locks or BroadcastChannel the client connects
   * on its own (`role` is "solo"). Default false.
   */
  share?: boolean | string;
  /**
   * An event whose data is exactly this (e.g. "[DONE]") is not delivered, and the client
   * closes: no error, no further request. Applies to `message` events and to every type
   * with a handler.
   */
  endOnData?: string;
  /**
   * Once the page has been hidden for this long, close the connection (state "paused");
   * when it is visible again, reconnect, resuming from the last event id. 0 pauses as
   * soon as the page is hidden. Default null: never pause. Whatever it says, `online`
   * and a hidden page becoming visible skip the rest of a backoff wait, and a page
   * going into the back/forward cache closes the connection until it is restored.
   */
  pauseWhenHiddenMs?: number | null;
}

/** An event as the server sent it. */
export interface SseEvent {
  /** The `event:` field, or "message". */
  type: string;
  /** The raw data: the `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen so far ("" until there is one). */
  lastEventId: string;
}

/** What an error is about. */
export type SseErrorKind =
  | "decode" | "http" | "network" | "content-type" | "idle" | "retries-exhausted" | "invalid";

/** An error reported on `onError`; thrown `invalid` errors are `Error`s with a `kind`. */
export interface SseError {
  kind: SseErrorKind;
  message: string;
  /** decode: the event's type. */
  type?: string;
  /** decode: the raw data that did not parse. */
  data?: string;
  /** http: the status code. */
  status?: number;
}

/**
 * A Server-Sent Events connection: typed handlers per event type, JSON decoding,
 * reconnection with backoff and resume.
 *
 * ```js
 * import init, { SseClient } from "sse-wasm";
 * await init();
 * const client = new SseClient("/events", { backoff: { initialMs: 500 } });
 * const off = client.on("tick", (tick) => console.log(tick.price));
 * client.onState((state) => console.log(state));
 * client.onError((error) => console.warn(error.kind, error.message));
 * ```
 *
 * Like an `EventSource`, a client that is not closed keeps running when the script
 * lets go of it; `close()` stops it and frees what it holds at once.
 */
export class SseClient {
  /**
   * Connects to `url` (a string or `URL`, resolved against the document).
   *
   * Throws an `Error` whose `kind` is `"invalid"` for a bad URL or option.
   */
  constructor(url: string | URL, options?: SseOptions);
  /**
   * Calls `handler(data, event)` for every event of `type` (`"message"` for events
   * without an `event:` field). Returns a function that removes the handler.
   */
  on(type: string, handler: (data: any, event: SseEvent) => void): () => void;
  /**
   * Calls `handler(state, detail)` on every change of `state`. Returns a function that
   * removes the handler.
   */
  onState(handler: (state: SseState, detail: SseStateDetail) => void): () => void;
  /**
   * Calls `handler(error)` with every error: each lost or failed connection once, data
   * that is not JSON, and the reason the client closed. Returns a function that
   * removes the handler.
   */
  onError(handler: (error: SseError) => void): () => void;
  /**
   * Drops the current connection and connects again now, resuming from the last event
   * id. Reports no error; does nothing once closed. A paused client connects too; if
   * the page is still hidden, its `pauseWhenHiddenMs` timer starts again.
   */
  reconnect(): void;
  /**
   * Closes for good: cancels any pending retry, makes no further request and reports
   * `"closed"` once. With `share`, it closes this client: a leader hands the
   * connection to the next client of the share, which resumes it.
   */
  close(): void;
  /** Does nothing: kept for scripts written for earlier versions. `close()` stops a client. */
  free(): void;
  /**
   * `"connecting"`, `"open"`, `"reconnecting"`, `"paused"` (the page has been hidden for
   * `pauseWhenHiddenMs`, or is in the back/forward cache) or `"closed"`.
   */
  readonly state: SseState;
  /** The last event id seen (or given as the `lastEventId` option); `""` until then. */
  readonly lastEventId: string;
  /** The absolute URL of the stream, resolved like `EventSource.url`. */
  readonly url: string;
  /**
   * "solo" unless the client shares (the `share` option): then "follower" until it
   * holds the share's lock, and "leader" while its connection serves the share.
   */
  readonly role: "solo" | "leader" | "follower";
}
"#;

/// A client that is not closed: its machine, and what its fetch connection's bytes
/// have told so far. Kept whether or not a script still holds the client, the way the
/// browser keeps an open `EventSource`.
struct Running {
    key: u32,
    machine: Machine,
    stream: Stream,
    /// The class and `Retry-After` of a failure found here (a response's status, a
    /// body's bytes), which the driver's next `__sseStep` reports to the machine.
    pending: Option<(FailureClass, Option<Duration>)>,
}

thread_local! {
    static RUNNING: RefCell<Vec<Running>> = const { RefCell::new(Vec::new()) };
    static NEXT_KEY: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` on client `key`, if it is not closed.
fn with_running<T>(key: u32, f: impl FnOnce(&mut Running) -> T) -> Option<T> {
    RUNNING.with(|running| {
        let mut running = running.borrow_mut();
        running.iter_mut().find(|client| client.key == key).map(f)
    })
}

/// A new client's machine, about to make its first request (`__sseStep(key,
/// CONNECT, …)`); returns its key. The arguments are what `js_options.js` has read and
/// checked (its `sseOptions` says what each is).
#[wasm_bindgen(js_name = __sseOpen, skip_typescript)]
pub fn open_client(
    reconnect_on_end: bool,
    initial_ms: f64,
    max_ms: f64,
    factor: f64,
    jitter: u8,
    max_retries: f64,
    max_event_size: f64,
) -> u32 {
    let backoff = Backoff::exponential(millis(initial_ms))
        .max(millis(max_ms))
        .factor(factor)
        .jitter(match jitter {
            0 => Jitter::None,
            2 => Jitter::Equal,
            _ => Jitter::Full,
        })
        // Checked to be whole and within u32 (or -1, unlimited).
        .max_retries((max_retries >= 0.0).then_some(max_retries as u32));
    let key = NEXT_KEY.with(|next| next.replace(next.get().wrapping_add(1)));
    // The driver keeps the last event id (it resumes from it); the machine needs none.
    let machine = Machine::new(backoff, String::new(), reconnect_on_end);
    RUNNING.with(|running| {
        running.borrow_mut().push(Running {
            key,
            machine,
            // Checked to be whole, at least 1 and at most 2^53.
            stream: Stream::new(max_event_size as usize),
            pending: None,
        })
    });
    key
}

/// Milliseconds `js_options.js` has checked to be in range.
fn millis(ms: f64) -> Duration {
    crate::millis::duration(ms).unwrap_or(Duration::MAX)
}

/// What `js_driver.js` tells the machine (`__sseStep`'s `input`).
const CONNECT: u8 = 0;
const RECONNECT: u8 = 1;
const CLOSE: u8 = 2;
const WAKE: u8 = 3;
const PAUSE: u8 = 4;
const RESUME: u8 = 5;
const OPENED: u8 = 6;
/// A failure the driver found (the native transport's, a fetch that could not be
/// made, the idle timer's): `FAILED + class`, with the classes' order of
/// [`failure_class`].
const FAILED: u8 = 7;
/// The failure found here ([`response`], [`chunk`]) and described to the driver then.
const FAILED_HERE: u8 = 10;

fn failure_class(code: u8) -> FailureClass {
    match code {
        0 => FailureClass::Retryable,
        1 => FailureClass::Ended,
        _ => FailureClass::Fatal,
    }
}

/// What the machine asks of the driver, in one number (`js_driver.js` reads it):
/// the low three bits the action (0 none, 1 connect, 2 wait `__sseDelay` ms, 3 stop,
/// 4 suspend); `ERROR`: report the failure's error; `EXHAUSTED`: then report that the
/// retries are spent; bits 5 to 7 the new state (0: unchanged, else 1 + its index in
/// connecting, open, reconnecting, paused, closed); above them, times 256, the attempt
/// (reconnecting) or the attempts made (exhausted).
const ERROR: f64 = 8.0;
const EXHAUSTED: f64 = 16.0;

fn effects_code(effects: Effects) -> f64 {
    let mut code = 0.0;
    for effect in effects {
        code += match effect {
            Effect::Connect => 1.0,
            Effect::Wait(_) => 2.0,
            Effect::Stop => 3.0,
            Effect::Suspend => 4.0,
            Effect::State(state) => {
                let (index, attempt) = match state {
                    ConnectionState::Connecting => (1, 0),
                    ConnectionState::Open => (2, 0),
                    ConnectionState::Reconnecting { attempt, .. } => (3, attempt),
                    ConnectionState::Paused => (4, 0),
                    ConnectionState::Closed => (5, 0),
                };
                f64::from(index * 32) + f64::from(attempt) * 256.0
            }
            Effect::Error(SseError::RetriesExhausted { attempts }) => {
                EXHAUSTED + f64::from(attempts) * 256.0
            }
            Effect::Error(_) => ERROR,
        };
    }
    code
}

/// One input for client `key`'s machine; returns what it asks for (see
/// [`effects_code`]). `delivered`: the connection delivered an event since the last
/// step (every event of a fetch batch is in its records, which the hub counts). `now`
/// is `performance.now()`; `random` a draw from `[0, 1)` for jitter. A closed client's
/// machine is let go of as it closes; it answers 0 from then on.
#[wasm_bindgen(js_name = __sseStep, skip_typescript)]
pub fn step(key: u32, input: u8, delivered: bool, now: f64, random: f64) -> f64 {
    let now = millis(now);
    let stepped = with_running(key, |client| {
        let machine = &mut client.machine;
        if delivered {
            machine.event();
        }
        let effects = match input {
            CONNECT => machine.connect(),
            RECONNECT => machine.reconnect(),
            CLOSE => machine.close(),
            WAKE => machine.wake(),
            PAUSE => machine.pause(),
            RESUME => machine.resume(),
            OPENED => machine.opened(now),
            _ => {
                let (class, retry_after) = match input {
                    FAILED_HERE => client
                        .pending
                        .take()
                        .unwrap_or((FailureClass::Retryable, None)),
                    _ => (failure_class(input.wrapping_sub(FAILED)), None),
                };
                let failure = Failure {
                    // The driver reports its own words for it (the bit ERROR).
                    error: SseError::network(""),
                    class,
                    retry_after,
                };
                machine.failed(failure, now, random)
            }
        };
        (
            effects_code(effects),
            machine.state() == ConnectionState::Closed,
        )
    });
    let Some((code, closed)) = stepped else {
        return 0.0;
    };
    if closed {
        // Nothing of a closed client stays in wasm's memory.
        RUNNING.with(|running| running.borrow_mut().retain(|client| client.key != key));
    }
    code
}

/// The wait before the next request of a client that is reconnecting, in ms (jitter
/// and server floors included).
#[wasm_bindgen(js_name = __sseDelay, skip_typescript)]
pub fn delay(key: u32) -> f64 {
    let state = with_running(key, |client| client.machine.state());
    match state {
        Some(ConnectionState::Reconnecting { delay, .. }) => crate::millis::of(delay),
        _ => 0.0,
    }
}

/// A fetch response of client `key` arrived (`content_type` and `retry_after` are its
/// headers as UTF-8, empty when absent: no string crosses into wasm, so the glue
/// carries no encoder). Answers the verdict, which `js_driver.js` puts into
/// words: 0 it opens the stream (the next bytes are its first), 1 a 200 of another
/// media type, 2 a 204, 3 a status that is retried, 4 one that is not. For all but 0
/// the driver then steps with `FAILED_HERE`, and the machine learns whether to retry
/// and after what `Retry-After`.
#[wasm_bindgen(js_name = __sseResponse, skip_typescript)]
pub fn response(key: u32, status: u16, content_type: &[u8], retry_after: &[u8]) -> u8 {
    let text = |bytes| std::str::from_utf8(bytes).unwrap_or("");
    let verdict = status::verdict(status, Some(text(content_type)));
    with_running(key, |client| match verdict.class() {
        None => client.stream.restart(),
        Some(class) => {
            let retry_after = match verdict {
                Verdict::Retry => StreamReader::retry_after(text(retry_after)),
                _ => None,
            };
            client.pending = Some((class, retry_after));
        }
    });
    verdict as u8
}

/// The next bytes of client `key`'s fetch body: returns the text of its batch (the
/// types, data and ids of its events); `__sseRecords` then says where each is. A last
/// record whose type is `FAILED_RECORD` says the parser refused the stream (the driver
/// steps with `FAILED_HERE` once the events before it are delivered).
#[wasm_bindgen(js_name = __sseChunk, skip_typescript)]
pub fn chunk(key: u32, bytes: &[u8]) -> String {
    with_running(key, |client| {
        let Running {
            machine,
            stream,
            pending,
            ..
        } = client;
        if !stream.chunk(bytes, |retry| machine.server_retry(retry)) {
            *pending = Some((FailureClass::Retryable, None));
        }
        stream.take_text()
    })
    .unwrap_or_default()
}

/// The records of the batch `__sseChunk` returned: `[type start, type end, data start,
/// data end, id start, id end]` per event or id (see `js_stream.rs`).
#[wasm_bindgen(js_name = __sseRecords, skip_typescript)]
pub fn records() -> Vec<u32> {
    super::js_stream::take_records()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client with a first delay of 100 ms, no jitter, and `max_retries` (-1:
    /// unlimited).
    fn client(max_retries: f64) -> u32 {
        let key = open_client(true, 100.0, 30_000.0, 2.0, 0, max_retries, 1024.0);
        assert_eq!(
            step(key, CONNECT, false, 0.0, 0.5),
            1.0,
            "connect, no change"
        );
        key
    }

    /// One step with no event delivered since the last and a jitter draw of 0.5, read
    /// as `js_driver.js` reads it.
    fn stepped(key: u32, input: u8, now: f64) -> (u8, bool, bool, u8, u32) {
        read(step(key, input, false, now, 0.5))
    }

    /// `code`'s action, error bits, state and count, as `js_driver.js` reads them.
    fn read(code: f64) -> (u8, bool, bool, u8, u32) {
        let flags = (code % 256.0) as u8;
        let count = (code / 256.0).floor() as u32;
        (
            flags & 7,
            flags & 8 != 0,
            flags & 16 != 0,
            flags >> 5,
            count,
        )
    }

    #[test]
    fn a_lost_stream_reports_its_error_then_reconnecting_with_attempt_and_delay() {
        let key = client(-1.0);
        assert_eq!(stepped(key, OPENED, 0.0), (0, false, false, 2, 0));
        assert_eq!(stepped(key, FAILED + 1, 10.0), (2, true, false, 3, 1));
        assert_eq!(delay(key), 100.0);
        assert_eq!(stepped(key, CONNECT, 110.0), (1, false, false, 1, 0));
        assert_eq!(stepped(key, CLOSE, 120.0), (3, false, false, 5, 0));
    }

    #[test]
    fn exhaustion_reports_the_attempts_closes_and_lets_go_of_the_client() {
        let key = client(1.0);
        assert_eq!(stepped(key, FAILED, 0.0), (2, true, false, 3, 1));
        step(key, CONNECT, false, 100.0, 0.5);
        assert_eq!(stepped(key, FAILED, 200.0), (3, true, true, 5, 1));
        // Closed: nothing of it is left, and it answers nothing.
        assert_eq!(step(key, RECONNECT, false, 300.0, 0.5), 0.0);
        assert!(with_running(key, |_| ()).is_none());
    }

    #[test]
    fn a_fatal_failure_closes_and_pause_and_resume_suspend_and_connect() {
        let key = client(-1.0);
        assert_eq!(stepped(key, PAUSE, 0.0), (4, false, false, 4, 0));
        assert_eq!(stepped(key, WAKE, 0.0), (0, false, false, 0, 0));
        assert_eq!(stepped(key, RESUME, 0.0), (1, false, false, 1, 0));
        assert_eq!(stepped(key, FAILED + 2, 0.0), (3, true, false, 5, 0));
    }

    #[test]
    fn a_response_is_judged_and_a_retried_status_brings_its_retry_after() {
        let key = client(-1.0);
        assert_eq!(response(key, 200, b"text/plain", b""), 1);
        assert_eq!(response(key, 204, b"", b""), 2);
        assert_eq!(response(key, 404, b"", b"5"), 4);
        assert_eq!(response(key, 503, b"", b"2"), 3);
        assert_eq!(stepped(key, FAILED_HERE, 0.0), (2, true, false, 3, 1));
        assert_eq!(delay(key), 2000.0);
        assert_eq!(
            response(key, 200, b"text/event-stream; charset=utf-8", b""),
            0
        );
    }

    #[test]
    fn a_refused_chunk_is_a_retryable_failure_for_the_next_step() {
        let key = client(-1.0);
        assert_eq!(response(key, 200, b"text/event-stream", b""), 0);
        step(key, OPENED, false, 0.0, 0.5);
        let text = chunk(
            key,
            &[b"data: ".as_slice(), &[b'x'; 2048], b"\n\n"].concat(),
        );
        assert_eq!(text, "");
        assert_eq!(records()[0], u32::MAX - 1);
        assert_eq!(stepped(key, FAILED_HERE, 0.0), (2, true, false, 3, 1));
    }

    #[test]
    fn events_keep_the_connection_healthy_for_the_backoff() {
        // The attempt of a second loss, with or without an event since the first.
        let second_loss = |delivered| {
            let key = client(-1.0);
            step(key, OPENED, false, 0.0, 0.5);
            step(key, FAILED + 1, false, 0.0, 0.5);
            step(key, CONNECT, false, 100.0, 0.5);
            step(key, OPENED, false, 100.0, 0.5);
            let attempt = read(step(key, FAILED + 1, delivered, 200.0, 0.5)).4;
            (attempt, delay(key))
        };
        assert_eq!(second_loss(false), (2, 200.0));
        // An event since: the delays start over.
        assert_eq!(second_loss(true), (1, 100.0));
    }
}
