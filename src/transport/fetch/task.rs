//! The fetch transport of the Rust faces: one connection is one spawned task that
//! makes the request and reads the body. Dropping the connection aborts the request
//! (its `AbortController`), which ends the task's pending read; a flag makes sure
//! nothing is reported after the drop.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, RequestCache, RequestCredentials, RequestInit, RequestMode, Response,
};

use super::body::{BodyReader, Read};
use super::{Stop, StreamReader};
use crate::event::SseError;
use crate::machine::FailureClass;
use crate::runtime::{js_error_message, LiveToken};
use crate::transport::{Connection, FetchConfig, FetchRequest, Signal, SignalSink};

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

/// Starts a request of `url`, resuming from `last_event_id` when it is not empty.
pub(crate) fn open(
    request: FetchRequest<'_>,
    sink: SignalSink,
) -> Result<Box<dyn Connection>, SseError> {
    let abort = AbortController::new().map_err(|error| {
        SseError::invalid(format!("AbortController: {}", js_error_message(&error)))
    })?;
    let dropped = Rc::new(Cell::new(false));
    let task = Task {
        url: request.url.to_owned(),
        last_event_id: request
            .last_event_id
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        config: request.config,
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
        super::report(&self.dropped, &self.sink, signal)
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
        let headers =
            request_headers(&self.config, self.last_event_id.as_deref(), &self.dropped).await?;
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
        StreamReader::judge(
            response.status(),
            header("content-type").as_deref(),
            header("retry-after").as_deref(),
        )
        .map_err(Stop::Failed)?;
        let Some(body) = response.body() else {
            return Err(failed(
                SseError::network("the response has no body to read"),
                FailureClass::Retryable,
            ));
        };
        let mut reader = BodyReader::new(&body);
        self.report(Signal::Opened)?;
        self.read(&mut reader).await
    }

    async fn read(&self, reader: &mut BodyReader) -> Result<(), Stop> {
        let mut stream = StreamReader::new(self.config.max_event_size);
        let mut chunk = Vec::new();
        let mut report = |signal: Signal<'_>| self.report(signal);
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
            let bytes = match reader.took(result) {
                Read::Bytes(bytes) => bytes,
                Read::Done => return Err(Stop::Failed(stream.ended())),
                Read::NotBytes => continue,
            };
            // One copy of the chunk into wasm memory, reusing the buffer.
            chunk.resize(bytes.length() as usize, 0);
            bytes.copy_to(&mut chunk);
            stream.chunk(&chunk, &mut report)?;
        }
    }
}

/// The headers of one request: the fixed ones, then the header hook's, then `Accept`
/// and `Last-Event-ID`, which are the protocol's. Stops quietly when the connection is
/// dropped while the hook runs.
pub(crate) async fn request_headers(
    config: &FetchConfig,
    last_event_id: Option<&str>,
    dropped: &Cell<bool>,
) -> Result<Headers, Stop> {
    let made = match &config.header_fn {
        None => Vec::new(),
        Some(make) => {
            let made = make().await;
            if dropped.get() {
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
    let protocol = [
        ("accept", Some("text/event-stream")),
        ("last-event-id", last_event_id),
    ];
    let headers = Headers::new().map_err(|error| invalid_headers(&error))?;
    let all = config.headers.iter().chain(&made);
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

fn failed(error: SseError, class: FailureClass) -> Stop {
    Stop::failed(error, class)
}

fn invalid_headers(error: &JsValue) -> Stop {
    failed(
        SseError::invalid(format!("headers: {}", js_error_message(error))),
        FailureClass::Fatal,
    )
}
