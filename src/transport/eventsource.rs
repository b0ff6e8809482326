//! The browser's own `EventSource`.
//!
//! What it cannot do, and how the client copes:
//! - It never shows the HTTP status or why a request failed, so an error before `open`
//!   is treated as retryable (a 404 is retried like a 503), and a loss after `open`
//!   cannot be told apart from the server ending the stream.
//! - It cannot send headers, so the last event id travels as a query parameter.
//! - Its own fixed-delay retry is never used: on the first error the source is closed
//!   and the client decides when to come back.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{EventSource, EventSourceInit, MessageEvent};

use super::{Connection, Failure, FailureClass, Request, Signal, SignalSink};
use crate::listener::Listener;
use crate::runtime::js_error_message;
use crate::SseError;

/// Event types that share their name with the EventSource's own `open` and `error`
/// events; one listener serves both and tells them apart by the event's class.
const CONTROL_TYPES: [&str; 2] = ["open", "error"];

pub(crate) struct EventSourceConnection {
    source: EventSource,
    state: Rc<SourceState>,
    _control: [Listener; 2],
    by_type: HashMap<String, Listener>,
}

/// Shared by the listeners of one source.
struct SourceState {
    source: EventSource,
    sink: SignalSink,
    opened: Cell<bool>,
    /// Whether this source has reported a non-empty id yet. A fresh EventSource starts
    /// with an empty id buffer, so an empty id before then means "no id field yet",
    /// not "the server reset the id".
    seen_id: Cell<bool>,
    /// Handlers exist for server events named "open" / "error".
    wants_control_types: [Cell<bool>; 2],
}

pub(crate) fn open(
    request: Request<'_>,
    sink: SignalSink,
) -> Result<Box<dyn Connection>, SseError> {
    let init = EventSourceInit::new();
    init.set_with_credentials(request.with_credentials);
    let source =
        EventSource::new_with_event_source_init_dict(request.url, &init).map_err(|error| {
            SseError::invalid(format!(
                "EventSource refused {}: {}",
                request.url,
                js_error_message(&error)
            ))
        })?;
    let state = Rc::new(SourceState {
        source: source.clone(),
        sink,
        opened: Cell::new(false),
        seen_id: Cell::new(false),
        wants_control_types: Default::default(),
    });
    let control = CONTROL_TYPES.map(|name| {
        let state = state.clone();
        Listener::new(&source, name, move |event| state.on_control(name, event))
    });
    let mut connection = EventSourceConnection {
        source,
        state,
        _control: control,
        by_type: HashMap::new(),
    };
    for event_type in &request.event_types {
        connection.listen(event_type);
    }
    Ok(Box::new(connection))
}

impl SourceState {
    fn on_control(&self, name: &str, event: web_sys::Event) {
        if let Some(message) = event.dyn_ref::<MessageEvent>() {
            // A server event named "open" or "error": data, not a connection change.
            let index = usize::from(name == "error");
            if self.wants_control_types[index].get() {
                self.on_message(message);
            }
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
            let reason = if self.closed_by_browser() {
                "the server answered with an HTTP error status or a Content-Type \
                 other than text/event-stream"
            } else {
                "network error or CORS failure"
            };
            Failure {
                error: SseError::network(format!("could not open the stream: {reason}")),
                class: FailureClass::Retryable,
                retry_after: None,
            }
        }
    }

    fn closed_by_browser(&self) -> bool {
        self.source.ready_state() == EventSource::CLOSED
    }

    fn on_message(&self, message: &MessageEvent) {
        let id = message.last_event_id();
        if !id.is_empty() {
            self.seen_id.set(true);
        }
        let id = self.seen_id.get().then_some(id);
        let data = message.data().as_string().unwrap_or_default();
        (self.sink)(Signal::Activity);
        (self.sink)(Signal::Event {
            event_type: message.type_(),
            data,
            id,
        });
    }
}

impl Connection for EventSourceConnection {
    fn listen(&mut self, event_type: &str) {
        if let Some(index) = CONTROL_TYPES.iter().position(|name| *name == event_type) {
            self.state.wants_control_types[index].set(true);
            return;
        }
        if self.by_type.contains_key(event_type) {
            return;
        }
        let state = self.state.clone();
        let listener = Listener::new(&self.source, event_type, move |event| {
            if let Some(message) = event.dyn_ref::<MessageEvent>() {
                state.on_message(message);
            }
        });
        self.by_type.insert(event_type.to_owned(), listener);
    }

    fn unlisten(&mut self, event_type: &str) {
        if let Some(index) = CONTROL_TYPES.iter().position(|name| *name == event_type) {
            self.state.wants_control_types[index].set(false);
        }
        self.by_type.remove(event_type);
    }
}

impl Drop for EventSourceConnection {
    fn drop(&mut self) {
        self.source.close();
    }
}
