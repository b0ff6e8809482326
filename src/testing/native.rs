//! The native transport's side of a scripted server: a stand-in for `EventSource`
//! that shows the client only what the browser's would — `open`, `error` without a
//! status, and `MessageEvent`s with `data`, the type and `lastEventId` — dispatched on
//! an `EventTarget` that the transport's own listeners (`transport/eventsource.rs`)
//! listen on. Comments, `retry:` and statuses stay hidden, as in the browser.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::{Event, EventTarget, MessageEvent, MessageEventInit};

use super::state::{self, next_chunk, Answer, Chunk, ServerState, StreamGuard};
use super::Connection as Seen;
use crate::delivery::Delivery;
use crate::event::SseError;
use crate::parser::{Item, Parser};
use crate::runtime::{self, js_error_message};
use crate::transport::eventsource::{self, Source};
use crate::transport::{Connection, SignalSink, Transport};

/// The `EventSource` stand-in: what the transport listens on, and the two facts it
/// asks about (whether the source gave up by itself, and closing it).
#[derive(Clone)]
struct ScriptedSource {
    target: EventTarget,
    shared: Rc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// `readyState` would be `CLOSED`: the answer was not an event stream.
    gave_up: Cell<bool>,
    closed: Cell<bool>,
    stream: RefCell<Option<StreamGuard>>,
}

impl Source for ScriptedSource {
    fn target(&self) -> &EventTarget {
        &self.target
    }

    fn gave_up(&self) -> bool {
        self.shared.gave_up.get()
    }

    fn close(&self) {
        self.shared.closed.set(true);
        // The server forgets the stream, which ends the task's wait for its next chunk.
        self.shared.stream.borrow_mut().take();
    }
}

pub(crate) fn open(
    server: Rc<RefCell<ServerState>>,
    url: String,
    last_event_id: Option<&str>,
    delivery: Rc<dyn Delivery>,
    sink: SignalSink,
) -> Result<Box<dyn Connection>, SseError> {
    let target = EventTarget::new()
        .map_err(|error| SseError::invalid(format!("EventTarget: {}", js_error_message(&error))))?;
    let source = ScriptedSource {
        target,
        shared: Rc::default(),
    };
    let seen = Seen {
        at: runtime::now(),
        transport: Transport::EventSource,
        url,
        method: "GET".to_owned(),
        headers: vec![("accept".to_owned(), "text/event-stream".to_owned())],
        body: None,
        last_event_id: last_event_id.filter(|id| !id.is_empty()).map(str::to_owned),
    };
    wasm_bindgen_futures::spawn_local(serve(server, seen, source.clone()));
    Ok(eventsource::attach(source, delivery, sink))
}

/// Answers the request, then dispatches what the stream holds until it ends.
async fn serve(server: Rc<RefCell<ServerState>>, seen: Seen, source: ScriptedSource) {
    state::next_task().await;
    if source.shared.closed.get() {
        return;
    }
    let mut chunks = match state::answer(&server, seen) {
        Answer::Stalled => return,
        Answer::Refused(_) => {
            // The browser fails the connection without saying why.
            source.shared.gave_up.set(true);
            source.dispatch(plain_event("error"));
            return;
        }
        Answer::Stream(guard, chunks) => {
            *source.shared.stream.borrow_mut() = Some(guard);
            chunks
        }
    };
    source.dispatch(plain_event("open"));
    // A new EventSource starts with an empty last event id, as the browser's does.
    let mut parser = Parser::new();
    while let Some(Chunk::Bytes(bytes)) = next_chunk(&mut chunks).await {
        let fed = parser.feed(&bytes, |item| {
            if let Item::Event(event) = item {
                source.dispatch(message_event(
                    event.event_type,
                    event.data,
                    event.last_event_id.unwrap_or(""),
                ));
            }
        });
        if fed.is_err() {
            break;
        }
    }
    // Ended, lost or refused to parse: the browser shows the same `error` for each.
    source.dispatch(plain_event("error"));
}

impl ScriptedSource {
    fn dispatch(&self, event: Option<Event>) {
        if let Some(event) = event {
            if !self.shared.closed.get() {
                let _ = self.target.dispatch_event(&event);
            }
        }
    }
}

fn plain_event(name: &str) -> Option<Event> {
    Event::new(name).ok()
}

fn message_event(event_type: &str, data: &str, last_event_id: &str) -> Option<Event> {
    let init = MessageEventInit::new();
    init.set_data(&JsValue::from_str(data));
    init.set_last_event_id(last_event_id);
    MessageEvent::new_with_event_init_dict(event_type, &init)
        .ok()
        .map(Into::into)
}
