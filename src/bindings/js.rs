//! The npm package's face: `SseClient` for JavaScript, exactly as `DESIGN.md` ("npm
//! API") specifies it, with TypeScript declarations for every option and callback.
//!
//! Compiled with the `js` feature only, so Rust apps that use the crate do not carry a
//! second, JS-facing client in their own bindings.
//!
//! Decisions where the contract is silent follow the browser's `EventSource`:
//! - a client that is not closed keeps running when the script drops its last
//!   reference to it (an open `EventSource` is not garbage-collected either); `close()`
//!   is what stops it, and `free()` only releases the wrapper;
//! - handlers are called with `this` undefined, in the order they were added, and a
//!   handler removed while an event is being delivered is not called for it;
//! - a `URL` object is accepted wherever a URL string is;
//! - unknown option keys are ignored, as for a WebIDL dictionary.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::js_options::{self, HeadersOption, Options};
use crate::dispatch::{HandlerId, HandlerList};
use crate::{ConnectionState, SseClient, SseError, SseEvent, Subscription};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The connection's state; `onState` reports each change. */
export type SseState = "connecting" | "open" | "reconnecting" | "closed";

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
  /** Largest event the fetch transport accepts, in bytes; a larger one is an error and a reconnect. Default 8 MiB. */
  maxEventSize?: number;
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
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = globalThis, js_name = reportError, catch)]
    fn report_error(error: &JsValue) -> Result<(), JsValue>;

    /// `JSON.parse` of a string already in JS, so the data crosses the boundary once.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(error: &JsValue);
}

thread_local! {
    /// Clients that are not closed, kept alive whether or not a script still holds
    /// them, the way the browser keeps an open `EventSource`.
    static RUNNING: RefCell<HashMap<u64, SseClient>> = RefCell::new(HashMap::new());
    static NEXT_CLIENT: Cell<u64> = const { Cell::new(0) };
}

/// A Server-Sent Events connection for JavaScript: typed handlers per event type,
/// JSON decoding, reconnection with backoff and resume.
///
/// ```js
/// import init, { SseClient } from "sse-wasm";
/// await init();
/// const client = new SseClient("/events", { backoff: { initialMs: 500 } });
/// const off = client.on("tick", (tick) => console.log(tick.price));
/// client.onState((state) => console.log(state));
/// client.onError((error) => console.warn(error.kind, error.message));
/// ```
#[wasm_bindgen(js_name = SseClient)]
pub struct JsSseClient {
    client: SseClient,
    handlers: Rc<JsHandlers>,
}

/// The script's handlers. Events of one type are decoded once and handed to each of
/// its handlers in turn, so one core handler per type stands for all of them.
struct JsHandlers {
    json: bool,
    /// Set once the client is closed: nothing will be delivered any more, so the
    /// handlers are let go (a handler that refers to its client would otherwise keep
    /// both alive for good) and new ones are not kept.
    released: Cell<bool>,
    next_id: Cell<HandlerId>,
    events: RefCell<HashMap<String, TypeHandlers>>,
    states: RefCell<HandlerList<Function>>,
    errors: RefCell<HandlerList<Function>>,
}

struct TypeHandlers {
    list: Rc<RefCell<HandlerList<Function>>>,
    /// The core handler that feeds `list`; dropped with the type's last handler, which
    /// also removes the transport's listener.
    _core: Subscription,
}

#[wasm_bindgen(js_class = SseClient)]
impl JsSseClient {
    /// Connects to `url` (a string or `URL`, resolved against the document).
    ///
    /// Throws an `Error` whose `kind` is `"invalid"` for a bad URL or option.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string | URL")] url: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SseOptions")] options: Option<Object>,
    ) -> Result<JsSseClient, JsValue> {
        Self::open(url, options.map(JsValue::from)).map_err(|error| thrown(&error))
    }

    fn open(url: JsValue, options: Option<JsValue>) -> Result<JsSseClient, SseError> {
        let url = match url.as_string() {
            Some(url) => url,
            None => match url.dyn_ref::<web_sys::Url>() {
                Some(url) => url.href(),
                None => return Err(SseError::invalid("url: expected a string or a URL")),
            },
        };
        let options = options.filter(|value| !value.is_undefined() && !value.is_null());
        let (parsed, headers) = match &options {
            None => (Options::default(), None),
            Some(value) if !value.is_object() || js_sys::Array::is_array(value) => {
                return Err(SseError::invalid("options: expected an object"));
            }
            Some(value) => {
                let headers = Reflect::get(value, &JsValue::from_str("headers"))
                    .unwrap_or(JsValue::UNDEFINED);
                let parsed =
                    js_options::read(serde_wasm_bindgen::Deserializer::from(value.clone()))?;
                (parsed, headers_option(headers)?)
            }
        };
        let settings = parsed.resolve(&url, headers)?;
        let handlers = Rc::new(JsHandlers {
            json: settings.json,
            released: Cell::new(false),
            next_id: Cell::new(0),
            events: RefCell::default(),
            states: RefCell::default(),
            errors: RefCell::default(),
        });
        let client = settings.builder.connect()?;
        let id = NEXT_CLIENT.with(|next| next.replace(next.get() + 1));
        let state_handlers = handlers.clone();
        client
            .on_state(move |state| {
                if state == ConnectionState::Closed {
                    // The caller of this delivery holds the client, so letting go of
                    // it here cannot free it under our feet.
                    let client = RUNNING.with(|running| running.borrow_mut().remove(&id));
                    drop(client);
                }
                state_handlers.state(state);
                if state == ConnectionState::Closed {
                    state_handlers.release();
                }
            })
            .detach();
        let error_handlers = handlers.clone();
        client
            .on_error(move |error| error_handlers.error(error))
            .detach();
        if client.state() == ConnectionState::Closed {
            handlers.release();
        } else {
            RUNNING.with(|running| running.borrow_mut().insert(id, client.clone()));
        }
        Ok(JsSseClient { client, handlers })
    }

    /// Calls `handler(data, event)` for every event of `type` (`"message"` for events
    /// without an `event:` field). Returns a function that removes the handler.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn on(
        &self,
        #[wasm_bindgen(js_name = "type", unchecked_param_type = "string")] event_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(data: any, event: SseEvent) => void")]
        handler: JsValue,
    ) -> Result<Function, JsValue> {
        let Some(event_type) = event_type.as_string() else {
            return Err(thrown(&SseError::invalid(
                "on: the event type must be a string",
            )));
        };
        let handler = function("on", handler)?;
        let id = self.handlers.take_id();
        if !self.handlers.released.get() {
            let list = self.type_handlers(&event_type);
            list.borrow_mut().push(id, handler);
        }
        unsubscriber(&self.handlers, Target::Event(event_type, id))
    }

    /// Calls `handler(state, detail)` on every change of `state`. Returns a function
    /// that removes the handler.
    #[wasm_bindgen(js_name = onState, unchecked_return_type = "() => void")]
    pub fn on_state(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: SseState, detail: SseStateDetail) => void")]
        handler: JsValue,
    ) -> Result<Function, JsValue> {
        let handler = function("onState", handler)?;
        let id = self.handlers.take_id();
        if !self.handlers.released.get() {
            self.handlers.states.borrow_mut().push(id, handler);
        }
        unsubscriber(&self.handlers, Target::State(id))
    }

    /// Calls `handler(error)` with every error: each lost or failed connection once,
    /// data that is not JSON, and the reason the client closed. Returns a function that
    /// removes the handler.
    #[wasm_bindgen(js_name = onError, unchecked_return_type = "() => void")]
    pub fn on_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(error: SseError) => void")] handler: JsValue,
    ) -> Result<Function, JsValue> {
        let handler = function("onError", handler)?;
        let id = self.handlers.take_id();
        if !self.handlers.released.get() {
            self.handlers.errors.borrow_mut().push(id, handler);
        }
        unsubscriber(&self.handlers, Target::Error(id))
    }

    /// Drops the current connection and connects again now, resuming from the last
    /// event id. Reports no error; does nothing once closed.
    pub fn reconnect(&self) {
        self.client.reconnect();
    }

    /// Closes for good: cancels any pending retry, makes no further request and reports
    /// `"closed"` once.
    pub fn close(&self) {
        self.client.close();
    }

    /// `"connecting"`, `"open"`, `"reconnecting"` or `"closed"`.
    #[wasm_bindgen(getter, unchecked_return_type = "SseState")]
    pub fn state(&self) -> String {
        self.client.state().as_str().to_owned()
    }

    /// The last event id seen (or given as the `lastEventId` option); `""` until then.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.client.last_event_id()
    }

    /// The absolute URL of the stream, resolved like `EventSource.url`.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.client.url()
    }
}

impl JsSseClient {
    /// The list of the script's handlers for `event_type`, made (with the core handler
    /// that feeds it) for the type's first handler.
    fn type_handlers(&self, event_type: &str) -> Rc<RefCell<HandlerList<Function>>> {
        let mut events = self.handlers.events.borrow_mut();
        if let Some(existing) = events.get(event_type) {
            return existing.list.clone();
        }
        let list: Rc<RefCell<HandlerList<Function>>> = Rc::default();
        let feed = list.clone();
        let json = self.handlers.json;
        // Made once per type; per event only the data and the id cross into JS, once each.
        let type_name = JsValue::from_str(event_type);
        let core = self.client.add_event_handler(event_type, move |event| {
            let snapshot = feed.borrow().snapshot();
            let raw = JsValue::from_str(&event.data);
            let data = if json {
                json_parse(&raw).map_err(|error| decode_error(event, &error))?
            } else {
                raw.clone()
            };
            let event = event_object(&type_name, &raw, &event.last_event_id);
            snapshot
                .for_each_active(|handler| call(handler.call2(&JsValue::UNDEFINED, &data, &event)));
            Ok(())
        });
        events.insert(
            event_type.to_owned(),
            TypeHandlers {
                list: list.clone(),
                _core: core,
            },
        );
        list
    }
}

impl JsHandlers {
    fn take_id(&self) -> HandlerId {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        id
    }

    fn state(&self, state: ConnectionState) {
        let snapshot = self.states.borrow().snapshot();
        let name = JsValue::from_str(state.as_str());
        let detail = Object::new();
        if let ConnectionState::Reconnecting { attempt, delay } = state {
            set(&detail, "attempt", &JsValue::from(attempt));
            set(
                &detail,
                "delayMs",
                &JsValue::from(delay.as_secs_f64() * 1000.0),
            );
        }
        snapshot
            .for_each_active(|handler| call(handler.call2(&JsValue::UNDEFINED, &name, &detail)));
    }

    fn error(&self, error: &SseError) {
        let snapshot = self.errors.borrow().snapshot();
        let error = error_object(error);
        snapshot.for_each_active(|handler| call(handler.call1(&JsValue::UNDEFINED, &error)));
    }

    /// Lets go of every handler once the client is closed.
    fn release(&self) {
        self.released.set(true);
        // Taken out first: dropping a type's core subscription may reach the client.
        let events = std::mem::take(&mut *self.events.borrow_mut());
        drop(events);
        *self.states.borrow_mut() = HandlerList::default();
        *self.errors.borrow_mut() = HandlerList::default();
    }

    fn remove(&self, target: &Target) {
        match target {
            Target::State(id) => {
                self.states.borrow_mut().remove(*id);
            }
            Target::Error(id) => {
                self.errors.borrow_mut().remove(*id);
            }
            Target::Event(event_type, id) => {
                let mut events = self.events.borrow_mut();
                let emptied = events.get(event_type).is_some_and(|handlers| {
                    let mut list = handlers.list.borrow_mut();
                    list.remove(*id) && list.is_empty()
                });
                if emptied {
                    let handlers = events.remove(event_type);
                    // Dropping the core subscription may reach the client; do it with
                    // no borrow held.
                    drop(events);
                    drop(handlers);
                }
            }
        }
    }
}

/// Which handler an unsubscribe function removes.
enum Target {
    Event(String, HandlerId),
    State(HandlerId),
    Error(HandlerId),
}

/// The state behind an unsubscribe function. It holds nothing strongly, so a script
/// that drops the function (or the client) leaks nothing, and calling it twice, or
/// after the client is gone, does nothing.
#[wasm_bindgen(js_name = SseUnsubscribe, skip_typescript)]
pub struct Unsubscriber {
    handlers: Weak<JsHandlers>,
    target: Option<Target>,
}

#[wasm_bindgen(js_class = SseUnsubscribe)]
impl Unsubscriber {
    /// Removes the handler, once.
    pub fn run(&mut self) {
        if let (Some(handlers), Some(target)) = (self.handlers.upgrade(), self.target.take()) {
            handlers.remove(&target);
        }
    }
}

/// A plain JS function that removes `target`: the `run` method of an
/// [`Unsubscriber`], bound to it. No Rust closure is involved, so none can leak.
fn unsubscriber(handlers: &Rc<JsHandlers>, target: Target) -> Result<Function, JsValue> {
    let object = JsValue::from(Unsubscriber {
        handlers: Rc::downgrade(handlers),
        target: Some(target),
    });
    let run: Function = Reflect::get(&object, &JsValue::from_str("run"))?.dyn_into()?;
    Ok(run.bind0(&object))
}

/// The `headers` option: a function (called before every request), or a record whose
/// values are all strings.
fn headers_option(value: JsValue) -> Result<Option<HeadersOption>, SseError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if let Some(make) = value.dyn_ref::<Function>() {
        return Ok(Some(HeadersOption::Script(make.clone())));
    }
    let headers = crate::runtime::header_record(&value)?;
    Ok(Some(HeadersOption::Fixed(headers)))
}

/// Accepts only functions as handlers, so a mistake shows at the call that made it.
fn function(method: &str, handler: JsValue) -> Result<Function, JsValue> {
    handler.dyn_into::<Function>().map_err(|_| {
        thrown(&SseError::invalid(format!(
            "{method}: the handler must be a function"
        )))
    })
}

/// Runs a handler's outcome past `reportError`, so a throwing handler is reported
/// like an uncaught exception and stops neither its neighbours nor the stream.
fn call(outcome: Result<JsValue, JsValue>) {
    if let Err(exception) = outcome {
        if report_error(&exception).is_err() {
            console_error(&exception);
        }
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    // Defining a data property on a plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

fn event_object(type_name: &JsValue, data: &JsValue, last_event_id: &str) -> Object {
    let object = Object::new();
    set(&object, "type", type_name);
    set(&object, "data", data);
    set(&object, "lastEventId", &JsValue::from_str(last_event_id));
    object
}

fn decode_error(event: &SseEvent, exception: &JsValue) -> SseError {
    let message = crate::runtime::js_error_message(exception);
    SseError::Decode {
        event_type: event.event_type.clone(),
        data: event.data.clone(),
        message,
    }
}

/// The plain object `onError` handlers get: `kind`, `message` and the fields of the
/// kind.
fn error_object(error: &SseError) -> Object {
    let object = Object::new();
    set(&object, "kind", &JsValue::from_str(error.kind()));
    set(&object, "message", &JsValue::from_str(&error.to_string()));
    match error {
        SseError::Decode {
            event_type, data, ..
        } => {
            set(&object, "type", &JsValue::from_str(event_type));
            set(&object, "data", &JsValue::from_str(data));
        }
        SseError::Http { status, .. } => set(&object, "status", &JsValue::from(*status)),
        _ => {}
    }
    object
}

/// An `Error` to throw, with the same `kind` as the objects `onError` hands out.
fn thrown(error: &SseError) -> JsValue {
    let exception = js_sys::Error::new(&error.to_string());
    set(&exception, "kind", &JsValue::from_str(error.kind()));
    exception.into()
}
