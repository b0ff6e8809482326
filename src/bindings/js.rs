//! The npm package's face: `SseClient` for JavaScript, exactly as the npm API contract
//! (the README's JavaScript quick start) specifies it, with TypeScript declarations for
//! every option and callback.
//!
//! The class itself is plain JS (`js_client.js`, appended to the package's entry by
//! `scripts/pkg.sh`): it holds its handlers' hub (`js_hub.js`) and a key, and calls the
//! `__sse*` functions here for what Rust decides. So a client costs wasm's memory
//! nothing once it is closed, whether or not the script's garbage is ever collected (a
//! wasm-bindgen class would keep a block of the heap per object until then).
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
use std::rc::Rc;

use std::time::Duration;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::js_delivery::{Hub, JsDelivery};
use crate::backoff::{Backoff, Jitter};
use crate::client::driver::{Config, Driver};
use crate::event::ConnectionState;
use crate::machine::Machine;
use crate::transport::FetchConfig;

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

/// A client that is not closed, kept alive whether or not a script still holds it, the
/// way the browser keeps an open `EventSource`.
struct Running {
    id: u32,
    driver: Rc<Driver>,
    delivery: Rc<JsDelivery>,
}

thread_local! {
    static RUNNING: RefCell<Vec<Running>> = const { RefCell::new(Vec::new()) };
    static NEXT_CLIENT: Cell<u32> = const { Cell::new(0) };
}

/// The driver and delivery of client `id`, if it is not closed.
fn running(id: u32) -> Option<(Rc<Driver>, Rc<JsDelivery>)> {
    RUNNING.with(|running| {
        let running = running.borrow();
        let client = running.iter().find(|client| client.id == id)?;
        Some((client.driver.clone(), client.delivery.clone()))
    })
}

/// Client `id` closed: hands back its driver, for its last word. Dropping it frees the
/// whole connection (the caller of the delivery that closed it holds it until it is
/// done).
pub(super) fn stop_running(id: u32) -> Option<Rc<Driver>> {
    RUNNING.with(|running| {
        let mut running = running.borrow_mut();
        let index = running.iter().position(|client| client.id == id)?;
        Some(running.swap_remove(index).driver)
    })
}

/// The hub of a new client (`js_hub.js`): its handlers, its key among the running
/// clients (`client`) and, once it is closed, what it still answers. A client that
/// follows a shared connection (`src/client/share.js`) has a hub and nothing else; one
/// that connects gets its driver from [`open_client`].
#[wasm_bindgen(js_name = __sseHub, skip_typescript)]
pub fn new_hub(json: bool, url: &str) -> JsValue {
    let id = NEXT_CLIENT.with(|next| next.replace(next.get().wrapping_add(1)));
    Hub::new(json, id, url).into()
}

/// Connects the client of `hub`: `new SseClient(url, options)`, with the options
/// `js_options.js` has read and checked (its `sseOptions` says what each argument is).
#[wasm_bindgen(js_name = __sseOpen, skip_typescript)]
#[allow(clippy::too_many_arguments)]
pub fn open_client(
    hub: Hub,
    url: String,
    with_credentials: bool,
    reconnect_on_end: bool,
    resume_param: Option<String>,
    last_event_id: String,
    idle_timeout_ms: f64,
    initial_ms: f64,
    max_ms: f64,
    factor: f64,
    jitter: u8,
    max_retries: f64,
    method: Option<String>,
    body: Option<String>,
    headers: Array,
    make_headers: Option<Function>,
    max_event_size: f64,
    pause_when_hidden_ms: f64,
) {
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
    let fetch = method.map(|method| {
        Rc::new(FetchConfig {
            method,
            body,
            // The JS reader sends `headers` itself (JsDelivery keeps them).
            headers: Vec::new(),
            header_fn: None,
            with_credentials,
            // Checked to be whole, at least 1 and at most 2^53.
            max_event_size: max_event_size as usize,
        })
    });
    let config = Config {
        url,
        with_credentials,
        idle_timeout: (idle_timeout_ms > 0.0).then(|| millis(idle_timeout_ms)),
        resume_param,
        fetch,
        // Checked to be in range, or -1: never pause.
        pause_when_hidden: (pause_when_hidden_ms >= 0.0).then(|| millis(pause_when_hidden_ms)),
    };
    let machine = Machine::new(backoff, last_event_id, reconnect_on_end);
    let id = hub.client();
    let delivery = Rc::new(JsDelivery::new(id, hub.clone(), headers, make_headers));
    let driver = Driver::start(config, machine, delivery.clone());
    if driver.state() == ConnectionState::Closed {
        // Closed before it was running (a fatal first request): what it answers now.
        hub.release(&driver.last_event_id());
    } else {
        RUNNING.with(|running| {
            running.borrow_mut().push(Running {
                id,
                driver,
                delivery,
            })
        });
    }
}

/// Milliseconds `js_options.js` has checked to be in range.
fn millis(ms: f64) -> Duration {
    crate::millis::duration(ms).unwrap_or(Duration::MAX)
}

/// `client.on(type, …)` added the first handler of `event_type` to the hub: the
/// connection listens to it, and stops listening to types that lost their last handler.
#[wasm_bindgen(js_name = __sseListen, skip_typescript)]
pub fn listen(client: u32, event_type: &str) {
    if let Some((driver, delivery)) = running(client) {
        delivery.prune_types(|event_type| driver.unlisten(event_type));
        if delivery.add_type(event_type) {
            driver.listen(event_type);
        }
    }
}

/// The client leads a share (`src/client/share.js`), and a page of another client of
/// it became visible (`true`) or none is (`false`): the connection pauses only when
/// every sharing page has been hidden for `pauseWhenHiddenMs`.
#[wasm_bindgen(js_name = __sseSeenElsewhere, skip_typescript)]
pub fn seen_elsewhere(client: u32, seen: bool) {
    if let Some((driver, _)) = running(client) {
        driver.seen_elsewhere(seen);
    }
}

/// The client leads a share whose page went into the back/forward cache (`true`): its
/// connection stands by, paused, whatever the page does, while another client leads.
/// `false`: it leads again and connects, resuming from `last_event_id` (the newest id
/// the share's clients saw) when that is not empty.
#[wasm_bindgen(js_name = __sseStandBy, skip_typescript)]
pub fn stand_by(client: u32, standing_by: bool, last_event_id: &str) {
    if let Some((driver, _)) = running(client) {
        driver.stand_by(standing_by, last_event_id);
    }
}

/// `client.reconnect()`: does nothing once closed.
#[wasm_bindgen(js_name = __sseReconnect, skip_typescript)]
pub fn reconnect(client: u32) {
    if let Some((driver, _)) = running(client) {
        driver.reconnect();
    }
}

/// `client.close()`: does nothing once closed.
#[wasm_bindgen(js_name = __sseClose, skip_typescript)]
pub fn close(client: u32) {
    if let Some((driver, _)) = running(client) {
        driver.close();
    }
}

/// `client.state`.
#[wasm_bindgen(js_name = __sseState, skip_typescript)]
pub fn state(client: u32) -> String {
    let state = match running(client) {
        Some((driver, _)) => driver.state(),
        None => ConnectionState::Closed,
    };
    state.as_str().to_owned()
}

/// `client.lastEventId` while the client runs; `undefined` once it is closed (the hub
/// has it then).
#[wasm_bindgen(js_name = __sseLastEventId, skip_typescript)]
pub fn last_event_id(client: u32) -> Option<String> {
    running(client).map(|(driver, _)| driver.last_event_id())
}
