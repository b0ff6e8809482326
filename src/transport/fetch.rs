//! `fetch` + `ReadableStream`: headers, a method and a body, the real `Last-Event-ID`
//! header, and HTTP statuses the client can act on. The bytes are parsed in wasm by
//! [`crate::parser`], and each event is handed to the client borrowed from the parser:
//! a Rust handler decodes it where it lies, and the npm face gathers a chunk's events
//! and crosses into JS once for all of them.
//!
//! One connection is one spawned task that makes the request and reads the body.
//! Dropping the connection aborts the request (its `AbortController`), which ends the
//! task's pending read; a flag makes sure nothing is reported after the drop.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, RequestCache, RequestCredentials,
    RequestInit, RequestMode, Response,
};

use super::{status, Connection, Failure, FailureClass, FetchConfig, Signal, SignalSink};
use crate::delivery::keep_id;
use crate::parser::{Item, Parser};
use crate::runtime::{js_error_message, LiveToken};
use crate::SseError;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Promise;
}

pub(crate) struct FetchConnection {
    abort: AbortController,
    dropped: Rc<Cell<bool>>,
}

impl Connection for FetchConnection {
    // Every event type arrives anyway; the client delivers only those with handlers.
    fn listen(&mut self, _event_type: &str) {}
    fn unlisten(&mut self, _event_type: &str) {}
}

impl Drop for FetchConnection {
    fn drop(&mut self) {
        self.dropped.set(true);
        self.abort.abort();
    }
}

/// Checks headers the way `fetch` will, so a bad name or value is an error when the
/// client is built rather than on every request.
pub(crate) fn check_headers(headers: &[(String, String)]) -> Result<(), SseError> {
    let checked = Headers::new().map_err(|error| SseError::invalid(js_error_message(&error)))?;
    for (name, value) in headers {
        checked.set(name, value).map_err(|error| {
            SseError::invalid(format!("headers: \"{name}\": {}", js_error_message(&error)))
        })?;
    }
    Ok(())
}

/// An HTTP method `fetch` will send: a token, and not one it forbids.
pub(crate) fn check_method(method: String) -> Result<String, SseError> {
    let is_token = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(SseError::invalid(format!(
            "method: \"{method}\" is not an HTTP method"
        )));
    }
    let upper = method.to_ascii_uppercase();
    if matches!(upper.as_str(), "CONNECT" | "TRACE" | "TRACK") {
        return Err(SseError::invalid(format!(
            "method: fetch does not allow {method}"
        )));
    }
    // fetch normalises these case-insensitively; do the same, so GET + body is caught.
    let normalised = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    Ok(if normalised.contains(&upper.as_str()) {
        upper
    } else {
        method
    })
}

/// Starts a request of `url`, resuming from `last_event_id` when it is not empty.
pub(crate) fn open(
    url: &str,
    last_event_id: Option<String>,
    config: Rc<FetchConfig>,
    sink: SignalSink,
) -> Result<Box<dyn Connection>, SseError> {
    let abort = AbortController::new().map_err(|error| {
        SseError::invalid(format!("AbortController: {}", js_error_message(&error)))
    })?;
    let dropped = Rc::new(Cell::new(false));
    let task = Task {
        url: url.to_owned(),
        last_event_id: last_event_id.filter(|id| !id.is_empty()),
        config,
        signal: abort.signal(),
        sink,
        dropped: dropped.clone(),
        _live: LiveToken::new(),
    };
    wasm_bindgen_futures::spawn_local(task.run());
    Ok(Box::new(FetchConnection { abort, dropped }))
}

struct Task {
    url: String,
    last_event_id: Option<String>,
    config: Rc<FetchConfig>,
    signal: web_sys::AbortSignal,
    sink: SignalSink,
    dropped: Rc<Cell<bool>>,
    /// Counts the task until it ends, so the leak tests see a task that never does.
    _live: LiveToken,
}

/// Why reading stopped before the stream ended by itself.
enum Stop {
    /// The connection was dropped: report nothing.
    Dropped,
    /// Report this and stop.
    Failed(Failure),
}

impl Task {
    async fn run(self) {
        match self.stream().await {
            Ok(()) | Err(Stop::Dropped) => {}
            Err(Stop::Failed(failure)) => {
                if !self.dropped.get() {
                    (self.sink)(Signal::Failed(failure));
                }
            }
        }
    }

    fn report(&self, signal: Signal<'_>) -> Result<(), Stop> {
        if self.dropped.get() {
            return Err(Stop::Dropped);
        }
        (self.sink)(signal);
        // A handler may have closed or reconnected the client just now.
        if self.dropped.get() {
            Err(Stop::Dropped)
        } else {
            Ok(())
        }
    }

    /// Awaits a promise, or stops quietly if the connection went meanwhile.
    async fn wait(&self, promise: Promise) -> Result<Result<JsValue, JsValue>, Stop> {
        let outcome = JsFuture::from(promise).await;
        if self.dropped.get() {
            Err(Stop::Dropped)
        } else {
            Ok(outcome)
        }
    }

    async fn stream(&self) -> Result<(), Stop> {
        let headers = self.headers().await?;
        let init = RequestInit::new();
        init.set_method(&self.config.method);
        if let Some(body) = &self.config.body {
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        init.set_mode(RequestMode::Cors);
        init.set_cache(RequestCache::NoStore);
        init.set_credentials(if self.config.with_credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        });
        init.set_signal(Some(&self.signal));

        let response: Response = match self.wait(global_fetch(&self.url, &init)).await? {
            Ok(response) => response.unchecked_into(),
            Err(error) => {
                return Err(failed(
                    SseError::network(format!(
                        "could not reach the server (network error or CORS failure): {}",
                        js_error_message(&error)
                    )),
                    FailureClass::Retryable,
                ))
            }
        };
        let response_headers = response.headers();
        let header = |name: &str| response_headers.get(name).ok().flatten();
        let retry_after = header("retry-after").and_then(|value| {
            status::retry_after(&value, |date| {
                let at = js_sys::Date::parse(date);
                let delay_ms = at - js_sys::Date::now();
                at.is_finite()
                    .then(|| Duration::try_from_secs_f64(delay_ms.max(0.0) / 1000.0).ok())
                    .flatten()
            })
        });
        status::judge(
            response.status(),
            header("content-type").as_deref(),
            retry_after,
        )
        .map_err(Stop::Failed)?;
        let Some(body) = response.body() else {
            return Err(failed(
                SseError::network("the response has no body to read"),
                FailureClass::Retryable,
            ));
        };
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        self.report(Signal::Opened)?;
        self.read(&reader).await
    }

    /// The fixed headers, then the header hook's, then `Accept` and `Last-Event-ID`,
    /// which are the protocol's.
    async fn headers(&self) -> Result<Headers, Stop> {
        let made = match &self.config.header_fn {
            None => Vec::new(),
            Some(make) => {
                let made = make().await;
                if self.dropped.get() {
                    return Err(Stop::Dropped);
                }
                made.map_err(|error| {
                    let class = match error {
                        SseError::Invalid { .. } => FailureClass::Fatal,
                        _ => FailureClass::Retryable,
                    };
                    failed(error, class)
                })?
            }
        };
        let id = self.last_event_id.as_deref();
        let protocol = [("accept", Some("text/event-stream")), ("last-event-id", id)];
        let headers = Headers::new().map_err(|error| invalid_headers(&error))?;
        let all = self.config.headers.iter().chain(&made);
        let all = all.map(|(name, value)| (name.as_str(), Some(value.as_str())));
        for (name, value) in all.chain(protocol) {
            if let Some(value) = value {
                headers
                    .set(name, value)
                    .map_err(|error| invalid_headers(&error))?;
            }
        }
        Ok(headers)
    }

    async fn read(&self, reader: &ReadableStreamDefaultReader) -> Result<(), Stop> {
        let mut parser = Parser::with_max_event_size(self.config.max_event_size);
        let mut chunk = Vec::new();
        // The id of the last event handed over, to spot an id set without an event.
        let mut event_id: Option<String> = None;
        loop {
            let result = match self.wait(reader.read()).await? {
                Ok(result) => result,
                Err(error) => {
                    return Err(failed(
                        SseError::network(format!(
                            "the stream was lost: {}",
                            js_error_message(&error)
                        )),
                        FailureClass::Retryable,
                    ))
                }
            };
            let done = Reflect::get(&result, &JsValue::from_str("done"))
                .map(|done| done.is_truthy())
                .unwrap_or(true);
            if done {
                parser.finish();
                return Err(failed(
                    SseError::network("the server ended the stream"),
                    FailureClass::Ended,
                ));
            }
            let Ok(bytes) = Reflect::get(&result, &JsValue::from_str("value"))
                .and_then(|value| value.dyn_into::<Uint8Array>())
            else {
                continue;
            };
            // One copy of the chunk into wasm memory, reusing the buffer.
            chunk.resize(bytes.length() as usize, 0);
            bytes.copy_to(&mut chunk);
            self.report(Signal::Activity)?;
            self.parse(&mut parser, &chunk, &mut event_id)?;
        }
    }

    /// Parses one chunk, handing each event to the client as it completes, then the
    /// end of the chunk.
    fn parse(
        &self,
        parser: &mut Parser,
        chunk: &[u8],
        event_id: &mut Option<String>,
    ) -> Result<(), Stop> {
        let mut outcome = Ok(());
        let fed = parser.feed(chunk, |item| {
            if outcome.is_err() {
                return;
            }
            let signal = match item {
                Item::Event(event) => {
                    keep_id(event_id, event.last_event_id);
                    Signal::Event(event)
                }
                Item::Retry(ms) => Signal::Retry(Duration::from_millis(ms)),
                Item::Comment(_) => return,
            };
            outcome = self.report(signal);
        });
        outcome?;
        if let Err(error) = fed {
            return Err(failed(
                SseError::network(format!("{error}; reconnecting")),
                FailureClass::Retryable,
            ));
        }
        // An `id:` committed by a blank line with no data is no event, but it is the
        // id to resume from. Ids only move on in stream order, so reporting it after
        // the chunk's events keeps that order.
        if let Some(id) = parser.last_event_id() {
            if event_id.as_deref() != Some(id) {
                keep_id(event_id, Some(id));
                self.report(Signal::Id(id))?;
            }
        }
        self.report(Signal::ChunkEnd)
    }
}

fn failed(error: SseError, class: FailureClass) -> Stop {
    Stop::Failed(Failure {
        error,
        class,
        retry_after: None,
    })
}

fn invalid_headers(error: &JsValue) -> Stop {
    failed(
        SseError::invalid(format!("headers: {}", js_error_message(error))),
        FailureClass::Fatal,
    )
}
