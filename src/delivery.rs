//! The seam between a connection and the handlers it feeds.
//!
//! The driver (`client/driver.rs`) owns the state machine, the connection and the
//! timers; a [`Delivery`] owns the handlers and the per-event path: the Rust handlers
//! of [`SseClient`](crate::SseClient) (`client/delivery.rs`). (The npm face has its own
//! driver and handlers in JS, `bindings/js_driver.js` and `bindings/js_hub.js`.)
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

    /// Makes a request of the fetch transport, read by the Rust faces' async task.
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

/// How a stream ends cleanly: `end_on_type` and `end_on_data` of the builder (the npm
/// face's hub applies the same rule in JS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StreamEnd {
    /// An event of this type is delivered, then the client closes.
    pub(crate) event_type: Option<String>,
    /// An event whose data is exactly this is not delivered; the client closes.
    pub(crate) data: Option<String>,
}

/// What an event means for the end of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndVerdict {
    /// Not the end.
    GoOn,
    /// The end: deliver it, then close.
    DeliverThenClose,
    /// The end: close without delivering it.
    Close,
}

impl StreamEnd {
    /// What an event of `event_type` with `data` means; the data rule wins.
    pub(crate) fn verdict(&self, event_type: &str, data: &str) -> EndVerdict {
        if self.data.as_deref() == Some(data) {
            EndVerdict::Close
        } else if self.event_type.as_deref() == Some(event_type) {
            EndVerdict::DeliverThenClose
        } else {
            EndVerdict::GoOn
        }
    }

    /// The types the connection listens to for the end, whether or not they have
    /// handlers (`end_on_data` applies to `message` events too).
    pub(crate) fn event_types(&self) -> impl Iterator<Item = &str> {
        let message = self.data.is_some().then_some("message");
        self.event_type.as_deref().into_iter().chain(message)
    }
}

/// Keeps a copy of `id` in `slot`, reusing its buffer: ids change with almost every
/// event of a stream that sends them, and this copies without allocating (nor
/// comparing first: in wasm a comparison is a call to `memcmp`, which costs more than
/// copying the few bytes of an id).
pub(crate) fn keep_id(slot: &mut Option<String>, id: Option<&str>) {
    match (slot.as_mut(), id) {
        (Some(kept), Some(id)) => {
            kept.clear();
            kept.push_str(id);
        }
        (_, id) => *slot = id.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_stream_by_type_is_delivered_and_by_data_is_not() {
        let end = StreamEnd {
            event_type: Some("done".to_owned()),
            data: Some("[DONE]".to_owned()),
        };
        assert_eq!(end.verdict("tick", "{}"), EndVerdict::GoOn);
        assert_eq!(end.verdict("done", "{}"), EndVerdict::DeliverThenClose);
        assert_eq!(end.verdict("message", "[DONE]"), EndVerdict::Close);
        assert_eq!(end.verdict("done", "[DONE]"), EndVerdict::Close);
        assert_eq!(end.event_types().collect::<Vec<_>>(), ["done", "message"]);
        let none = StreamEnd::default();
        assert_eq!(none.verdict("message", ""), EndVerdict::GoOn);
        assert_eq!(none.event_types().count(), 0);
    }
}
