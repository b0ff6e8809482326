//! The browser's own `EventSource`.
//!
//! What it cannot do, and how the client copes:
//! - It never shows the HTTP status or why a request failed, so an error before `open`
//!   is treated as retryable (a 404 is retried like a 503), and a loss after `open`
//!   cannot be told apart from the server ending the stream.
//! - It cannot send headers, so the last event id travels as a query parameter.
//! - Its own fixed-delay retry is never used: on the first error the source is closed
//!   and the client decides when to come back.
//!
//! The transport listens for the source's `open` and `error` events itself; the events
//! of each type go to listeners the client's [`Delivery`] makes, so an event's data
//! reaches its handlers without passing through here.
//!
//! What it listens on is a [`Source`]: the browser's `EventSource`, or (feature
//! `testing`) the in-page server's stand-in, which dispatches the same events on a
//! plain `EventTarget` so that a scripted stream goes through this very code.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{EventSource, EventSourceInit, EventTarget, MessageEvent};

use super::listener::Listener;
use super::{Connection, Request, Signal, SignalSink};
use crate::delivery::Delivery;
use crate::event::SseError;
use crate::machine::{Failure, FailureClass};
use crate::runtime::js_error_message;

/// What a native connection listens on: its `open`, `error` and typed events.
pub(crate) trait Source: Clone + 'static {
    fn target(&self) -> &EventTarget;
    /// The source gave up by itself (`readyState` is `CLOSED`): after an HTTP status
    /// other than 200 or a wrong Content-Type, not after a network error.
    fn gave_up(&self) -> bool;
    /// Closes it for good.
    fn close(&self);
}

impl Source for EventSource {
    fn target(&self) -> &EventTarget {
        self
    }

    fn gave_up(&self) -> bool {
        self.ready_state() == EventSource::CLOSED
    }

    fn close(&self) {
        EventSource::close(self);
    }
}

pub(crate) struct EventSourceConnection<S: Source> {
    source: S,
    delivery: Rc<dyn Delivery>,
    _control: [Listener; 2],
    /// One listener per event type with handlers, in the order they were added.
    by_type: Vec<(String, Listener)>,
}

/// Shared by the `open` and `error` listeners of one source.
struct SourceState<S> {
    source: S,
    sink: SignalSink,
    opened: Cell<bool>,
}

pub(crate) fn open(
    request: Request<'_>,
    sink: SignalSink,
) -> Result<Box<dyn Connection>, SseError> {
    let init = EventSourceInit::new();
    init.set_with_credentials(request.with_credentials);
    let source =
        EventSource::new_with_event_source_init_dict(request.url, &init).map_err(|error| {
            SseError::invalid(
                [
                    "EventSource refused ",
                    request.url,
                    ": ",
                    &js_error_message(&error),
                ]
                .concat(),
            )
        })?;
    Ok(attach(source, request.delivery, sink))
}

/// Listens on `source` for its `open` and `error` events and, through `delivery`'s
/// listeners, for the events of every type with handlers.
pub(crate) fn attach<S: Source>(
    source: S,
    delivery: Rc<dyn Delivery>,
    sink: SignalSink,
) -> Box<dyn Connection> {
    let state = Rc::new(SourceState {
        source: source.clone(),
        sink,
        opened: Cell::new(false),
    });
    let control = ["open", "error"].map(|name| {
        let state = state.clone();
        Listener::closure(source.target(), name, move |event| {
            state.on_control(name, event)
        })
    });
    let mut connection = EventSourceConnection {
        source,
        delivery: delivery.clone(),
        _control: control,
        by_type: Vec::new(),
    };
    for event_type in delivery.event_types() {
        connection.listen(&event_type);
    }
    Box::new(connection)
}

impl<S: Source> SourceState<S> {
    fn on_control(&self, name: &str, event: web_sys::Event) {
        if event.is_instance_of::<MessageEvent>() {
            // A server event named "open" or "error": data, for the delivery's listener
            // of that type (if there is one), not a change of the connection.
            return;
        }
        if name == "open" {
            self.opened.set(true);
            (self.sink)(Signal::Opened);
        } else {
            (self.sink)(Signal::Failed(self.failure()));
        }
    }

    fn failure(&self) -> Failure {
        if self.opened.get() {
            Failure {
                error: SseError::network("the stream was lost or ended by the server"),
                class: FailureClass::Ended,
                retry_after: None,
            }
        } else {
            // The browser gives up on its own (CLOSED) after an HTTP status other than
            // 200 or a wrong Content-Type, and keeps CONNECTING after a network error.
            let reason = if self.source.gave_up() {
                "the server answered with an HTTP error status or a Content-Type \
                 other than text/event-stream"
            } else {
                "network error or CORS failure"
            };
            Failure {
                error: SseError::network(["could not open the stream: ", reason].concat()),
                class: FailureClass::Retryable,
                retry_after: None,
            }
        }
    }
}

impl<S: Source> Connection for EventSourceConnection<S> {
    fn listen(&mut self, event_type: &str) {
        if self
            .by_type
            .iter()
            .any(|(listened, _)| listened == event_type)
        {
            return;
        }
        let listener = self.delivery.native_listener(event_type);
        let listener = Listener::new(self.source.target(), event_type, listener);
        self.by_type.push((event_type.to_owned(), listener));
    }

    fn unlisten(&mut self, event_type: &str) {
        self.by_type.retain(|(listened, _)| listened != event_type);
    }
}

impl<S: Source> Drop for EventSourceConnection<S> {
    fn drop(&mut self) {
        self.source.close();
    }
}
