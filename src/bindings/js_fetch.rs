//! The npm face's fetch transport: `js_fetch.js` makes the request and reads the body;
//! what the response and its bytes mean is decided here, by the same
//! [`StreamReader`] as the Rust faces' transport.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::event::SseError;
use crate::machine::{Failure, FailureClass};
use crate::runtime::LiveToken;
use crate::transport::fetch::{self, Stop, StreamReader};
use crate::transport::{Connection, FetchRequest, Signal, SignalSink};

#[wasm_bindgen(module = "/src/bindings/js_fetch.js")]
extern "C" {
    /// Starts the request; returns the function that aborts it.
    #[wasm_bindgen(js_name = openStream)]
    #[allow(clippy::too_many_arguments)]
    fn open_stream(
        url: &str,
        method: &str,
        body: Option<String>,
        headers: Array,
        make_headers: Option<Function>,
        last_event_id: Option<String>,
        with_credentials: bool,
        sink: FetchSink,
    ) -> Function;
}

/// Starts a request of the npm face, with the `headers` option: `[name, value, …]` or
/// a function that makes them.
pub(crate) fn open(
    request: FetchRequest<'_>,
    headers: Array,
    make_headers: Option<Function>,
    sink: SignalSink,
) -> Result<Box<dyn Connection>, SseError> {
    let config = &request.config;
    let stream = Rc::new(Stream {
        sink,
        reader: RefCell::new(StreamReader::new(config.max_event_size)),
        dropped: Cell::new(false),
        _live: LiveToken::new(),
    });
    let abort = open_stream(
        request.url,
        &config.method,
        config.body.clone(),
        headers,
        make_headers,
        request.last_event_id.map(str::to_owned),
        config.with_credentials,
        FetchSink(stream.clone()),
    );
    Ok(Box::new(JsFetchConnection { abort, stream }))
}

struct JsFetchConnection {
    abort: Function,
    stream: Rc<Stream>,
}

impl Connection for JsFetchConnection {
    // Every event type arrives anyway; the client delivers only those with handlers.
    fn listen(&mut self, _event_type: &str) {}
    fn unlisten(&mut self, _event_type: &str) {}
}

impl Drop for JsFetchConnection {
    fn drop(&mut self) {
        self.stream.dropped.set(true);
        // Aborting rejects what the reader awaits; it then stops without a word.
        let _ = self.abort.call0(&JsValue::UNDEFINED);
    }
}

/// One request's state, shared by the connection and the JS reader's sink.
struct Stream {
    sink: SignalSink,
    reader: RefCell<StreamReader>,
    /// The connection was let go: report nothing more.
    dropped: Cell<bool>,
    /// Counts the request until the JS reader lets go of its sink.
    _live: LiveToken,
}

impl Stream {
    fn report(&self, signal: Signal<'_>) -> Result<(), Stop> {
        fetch::report(&self.dropped, &self.sink, signal)
    }

    fn fail(&self, failure: Failure) {
        // Reporting it drops the connection, which sets `dropped`.
        let _ = self.report(Signal::Failed(failure));
    }
}

/// What `js_fetch.js` reports to. Every method is a no-op once the connection is gone;
/// those that return `bool` say whether to go on reading.
#[wasm_bindgen(js_name = SseFetchSink, skip_typescript)]
pub struct FetchSink(Rc<Stream>);

#[wasm_bindgen(js_class = SseFetchSink)]
impl FetchSink {
    /// The response arrived.
    pub fn response(
        &self,
        status: u16,
        content_type: Option<String>,
        retry_after: Option<String>,
    ) -> bool {
        if self.0.dropped.get() {
            return false;
        }
        let verdict = StreamReader::judge(status, content_type.as_deref(), retry_after.as_deref());
        match verdict {
            Ok(()) => self.0.report(Signal::Opened).is_ok(),
            Err(failure) => {
                self.0.fail(failure);
                false
            }
        }
    }

    /// The next bytes of the body.
    pub fn chunk(&self, bytes: &[u8]) -> bool {
        if self.0.dropped.get() {
            return false;
        }
        let outcome = {
            let mut report = |signal: Signal<'_>| self.0.report(signal);
            self.0.reader.borrow_mut().chunk(bytes, &mut report)
        };
        match outcome {
            Ok(()) => true,
            Err(Stop::Dropped) => false,
            Err(Stop::Failed(failure)) => {
                self.0.fail(failure);
                false
            }
        }
    }

    /// The body ended.
    pub fn ended(&self) {
        if !self.0.dropped.get() {
            let failure = self.0.reader.borrow_mut().ended();
            self.0.fail(failure);
        }
    }

    /// The request failed: a network error, or (when `fatal`) headers no request can
    /// carry.
    pub fn failed(&self, message: String, fatal: bool) {
        if self.0.dropped.get() {
            return;
        }
        let (error, class) = if fatal {
            (SseError::invalid(message), FailureClass::Fatal)
        } else {
            (SseError::network(message), FailureClass::Retryable)
        };
        self.0.fail(Failure {
            error,
            class,
            retry_after: None,
        });
    }
}
