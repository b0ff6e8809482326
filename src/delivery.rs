//! The seam between a connection and the handlers it feeds.
//!
//! The driver (`client/driver.rs`) owns the state machine, the connection and the
//! timers; a [`Delivery`] owns the handlers and the per-event path. There are two: the
//! Rust handlers of [`SseClient`](crate::SseClient) (`client/delivery.rs`) and the npm
//! face's JS handlers (`bindings/js_delivery.rs`), whose events never cross into wasm
//! on the native transport and cross once per chunk on the fetch transport.
//!
//! What an event tells the driver (that the connection is healthy, and the id to resume
//! from) is not pushed per event: the driver asks for it with
//! [`take_progress`](Delivery::take_progress) when it needs it (a failure, a reconnect,
//! `last_event_id()`), which keeps the per-event path free of crossings and copies.

use std::time::Duration;

use crate::event::{ConnectionState, SseError};
use crate::parser::ParsedEvent;
use crate::runtime::Tracked;
use crate::transport::{Connection, FetchRequest, SignalSink};

/// What the events of the current connection told since it was last asked.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// An event arrived (any type, handled or not): the connection is healthy.
    pub(crate) delivered: bool,
    /// The stream's last event id as of the last event handed to the handlers, when the
    /// connection has set one; `None` keeps the id it resumed from.
    pub(crate) id: Option<String>,
}

/// A function a native `EventSource` calls with its events of one type: a Rust closure
/// (which the listener owns and frees), or a JS function made outside wasm.
pub(crate) struct NativeListener {
    function: js_sys::Function,
    _closure: Option<Tracked<dyn FnMut(web_sys::Event)>>,
}

impl NativeListener {
    pub(crate) fn closure(closure: Tracked<dyn FnMut(web_sys::Event)>) -> NativeListener {
        let function = closure.function().clone();
        NativeListener {
            _closure: Some(closure),
            ..NativeListener::function(function)
        }
    }

    pub(crate) fn function(function: js_sys::Function) -> NativeListener {
        NativeListener {
            function,
            _closure: None,
        }
    }

    pub(crate) fn as_function(&self) -> &js_sys::Function {
        &self.function
    }
}

/// Where a client's events, states and errors go. The driver calls it in the order
/// things happen; a delivery started while a handler runs waits until it returns (each
/// side keeps its own queue), so handlers never run inside each other.
pub(crate) trait Delivery {
    /// A connection starts. Until it sets an id of its own, its events carry
    /// `resume_from`.
    fn begin(&self, resume_from: &str);
    /// The connection is let go: nothing more of it is delivered, not even the rest of
    /// a chunk whose events are being handed over.
    fn end(&self);
    /// What the connection's events told since the last call.
    fn take_progress(&self) -> Progress;
    /// When the latest event of the native transport arrived (the clock of
    /// `performance.now()`), for the idle timer.
    fn last_event_at(&self) -> Option<Duration>;

    /// The event types that have handlers.
    fn event_types(&self) -> Vec<String>;
    /// The listener of a native `EventSource` for `event_type`. For `"open"` and
    /// `"error"` it is also called with the source's own events, which are not
    /// `MessageEvent`s and must be ignored.
    fn native_listener(&self, event_type: &str) -> NativeListener;

    /// Makes a request of the fetch transport: the face decides who reads it (the Rust
    /// faces' async task, or the npm face's JS reader, which keeps the futures
    /// machinery out of the package).
    fn open_fetch(
        &self,
        request: FetchRequest<'_>,
        sink: SignalSink,
    ) -> Result<Box<dyn Connection>, SseError>;

    /// An event the fetch transport parsed from the current chunk.
    fn parsed(&self, event: ParsedEvent<'_>);
    /// The stream set its last event id without an event (`id:` and a blank line).
    fn parsed_id(&self, id: &str);
    /// The chunk is parsed: hand over what it held.
    fn flush(&self);

    /// The state changed.
    fn state(&self, state: ConnectionState);
    /// Something went wrong.
    fn error(&self, error: &SseError);
}

/// Keeps a copy of `id` in `slot`, reusing its buffer: ids change with almost every
/// event of a stream that sends them, and this copies without allocating.
pub(crate) fn keep_id(slot: &mut Option<String>, id: Option<&str>) {
    match (slot.as_mut(), id) {
        (Some(kept), Some(id)) => {
            if kept != id {
                kept.clear();
                kept.push_str(id);
            }
        }
        (_, id) => *slot = id.map(str::to_owned),
    }
}
