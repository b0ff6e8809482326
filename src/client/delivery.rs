//! The Rust handlers' side of a connection: events go to the [`Dispatcher`] as soon as
//! they arrive, borrowed where they lie; a native event's data is copied into wasm once
//! and its id is read only when a handler or the driver asks for it.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

use super::driver::Driver;
use crate::delivery::{keep_id, Delivery, EndVerdict, NativeListener, Progress, StreamEnd};
use crate::dispatch::{Dispatcher, EventHandlers, Incoming, Queued};
use crate::event::{ConnectionState, SseError};
use crate::parser::ParsedEvent;
use crate::runtime::Tracked;
use crate::transport::{self, Connection, FetchRequest, SignalSink};

pub(crate) struct RustDelivery {
    weak: Weak<RustDelivery>,
    pub(crate) dispatcher: Dispatcher,
    connection: RefCell<ConnectionView>,
    /// How the stream ends cleanly, and the driver to close when it does.
    end: StreamEnd,
    driver: RefCell<Weak<Driver>>,
    /// While its client leads a share: where the connection is relayed.
    #[cfg(feature = "share")]
    pub(crate) relay: super::share::Relay,
    /// The types the other clients of a share listen to, which a leader's connection
    /// hears whether or not it has handlers for them.
    #[cfg(feature = "share")]
    relayed_types: RefCell<Vec<String>>,
}

/// What the current connection's events told so far.
#[derive(Default)]
struct ConnectionView {
    /// The id events carry until the connection sets one.
    resume_from: String,
    /// An event arrived since the driver last asked.
    delivered: bool,
    /// Native: this source has shown a non-empty id. A fresh `EventSource` starts with
    /// an empty id, so before then an empty id means "none yet", not "reset".
    seen_id: bool,
    /// Native: the latest event, whose `lastEventId` and `timeStamp` are read only
    /// when asked for (reading the id costs about a microsecond per event).
    last: Option<MessageEvent>,
    /// Fetch: the stream's id as of the last event handed over.
    id: Option<String>,
}

impl RustDelivery {
    pub(crate) fn new(end: StreamEnd) -> Rc<RustDelivery> {
        Rc::new_cyclic(|weak| RustDelivery {
            weak: weak.clone(),
            dispatcher: Dispatcher::default(),
            connection: RefCell::default(),
            end,
            driver: RefCell::default(),
            #[cfg(feature = "share")]
            relay: super::share::Relay::default(),
            #[cfg(feature = "share")]
            relayed_types: RefCell::default(),
        })
    }

    /// Whether the other clients of a share listen to `event_type`.
    #[cfg(feature = "share")]
    pub(crate) fn relays(&self, event_type: &str) -> bool {
        let types = self.relayed_types.borrow();
        types.iter().any(|relayed| relayed == event_type)
    }

    /// Another client of the share listens to `event_type`; `true` if it is new.
    #[cfg(feature = "share")]
    pub(crate) fn relay_type(&self, event_type: &str) -> bool {
        if self.relays(event_type) {
            return false;
        }
        self.relayed_types.borrow_mut().push(event_type.to_owned());
        true
    }

    /// An event the share's leader relayed, for a follower's handlers; `true` when it
    /// ends this client's stream (its own `end_on_type` / `end_on_data`).
    #[cfg(feature = "share")]
    pub(crate) fn follow(&self, event_type: &str, data: &str, id: &str) -> bool {
        let verdict = self.end.verdict(event_type, data);
        if verdict != EndVerdict::Close {
            self.dispatcher.deliver_event(&Incoming {
                event_type,
                data,
                last_event_id: &|| id.to_owned(),
            });
        }
        verdict != EndVerdict::GoOn
    }

    /// The driver this delivery closes at the end of the stream.
    pub(crate) fn attach(&self, driver: &Rc<Driver>) {
        *self.driver.borrow_mut() = Rc::downgrade(driver);
    }

    /// Whether the end of the stream can come in events of `event_type`.
    pub(crate) fn watches(&self, event_type: &str) -> bool {
        self.end.event_types().any(|watched| watched == event_type)
    }

    /// Hands `incoming` to `handlers` (its type's) unless it ends the stream, and
    /// closes the client at the end (after delivering it when its type is the end).
    fn deliver_or_end(&self, handlers: Option<EventHandlers>, incoming: &Incoming<'_>) {
        let verdict = self.end.verdict(incoming.event_type, incoming.data);
        if verdict != EndVerdict::Close {
            #[cfg(feature = "share")]
            self.relay
                .event(incoming.event_type, incoming.data, incoming.last_event_id);
            self.dispatcher.deliver_event_to(handlers, incoming);
        }
        if verdict != EndVerdict::GoOn {
            let driver = self.driver.borrow().upgrade();
            if let Some(driver) = driver {
                driver.close();
            }
        }
    }

    fn native(&self, event_type: &str, message: MessageEvent) {
        let data = message.data().as_string().unwrap_or_default();
        let seen_id = {
            let mut view = self.connection.borrow_mut();
            view.delivered = true;
            if !view.seen_id {
                view.seen_id = !message.last_event_id().is_empty();
            }
            view.last = Some(message.clone());
            view.seen_id
        };
        let last_event_id = || {
            if seen_id {
                message.last_event_id()
            } else {
                self.connection.borrow().resume_from.clone()
            }
        };
        let handlers = self.dispatcher.event_handlers(event_type);
        self.deliver_or_end(
            handlers,
            &Incoming {
                event_type,
                data: &data,
                last_event_id: &last_event_id,
            },
        );
    }
}

impl Delivery for RustDelivery {
    fn begin(&self, resume_from: &str) {
        let mut view = self.connection.borrow_mut();
        *view = ConnectionView {
            resume_from: resume_from.to_owned(),
            ..ConnectionView::default()
        };
    }

    fn end(&self) {
        // Native listeners go with their source and the fetch task stops itself when
        // its connection is dropped: nothing is in flight here.
    }

    fn take_progress(&self) -> Progress {
        let mut view = self.connection.borrow_mut();
        let id = match &view.last {
            Some(message) if view.seen_id => Some(message.last_event_id()),
            _ => view.id.clone(),
        };
        Progress {
            delivered: std::mem::take(&mut view.delivered),
            id,
        }
    }

    fn last_event_at(&self) -> Option<Duration> {
        let view = self.connection.borrow();
        let stamp = view.last.as_ref()?.time_stamp();
        crate::millis::duration(stamp)
    }

    fn event_types(&self) -> Vec<String> {
        let mut types = self.dispatcher.registry().event_types();
        #[cfg(feature = "share")]
        let relayed = self.relayed_types.borrow().clone();
        #[cfg(not(feature = "share"))]
        let relayed = Vec::<String>::new();
        let end = self.end.event_types();
        for event_type in end.chain(relayed.iter().map(String::as_str)) {
            if !types.iter().any(|listened| listened == event_type) {
                types.push(event_type.to_owned());
            }
        }
        types
    }

    fn native_listener(&self, event_type: &str) -> NativeListener {
        let weak = self.weak.clone();
        let event_type = event_type.to_owned();
        // The source's own `open` and `error` events share these names.
        let control = event_type == "open" || event_type == "error";
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            if control && !event.is_instance_of::<MessageEvent>() {
                return;
            }
            if let Some(delivery) = weak.upgrade() {
                delivery.native(&event_type, event.unchecked_into());
            }
        });
        NativeListener::closure(Tracked::new(closure))
    }

    fn open_fetch(
        &self,
        request: FetchRequest<'_>,
        sink: SignalSink,
    ) -> Result<Box<dyn Connection>, SseError> {
        transport::fetch::open(request, sink)
    }

    fn parsed(&self, event: ParsedEvent<'_>) {
        {
            let mut view = self.connection.borrow_mut();
            view.delivered = true;
            keep_id(&mut view.id, event.last_event_id);
        }
        #[cfg(feature = "share")]
        let relaying = self.relay.active();
        #[cfg(not(feature = "share"))]
        let relaying = false;
        let handlers = self.dispatcher.event_handlers(event.event_type);
        if handlers.is_none() && !relaying && !self.watches(event.event_type) {
            return;
        }
        let last_event_id = || match event.last_event_id {
            Some(id) => id.to_owned(),
            None => self.connection.borrow().resume_from.clone(),
        };
        self.deliver_or_end(
            handlers,
            &Incoming {
                event_type: event.event_type,
                data: event.data,
                last_event_id: &last_event_id,
            },
        );
    }

    fn parsed_id(&self, id: &str) {
        keep_id(&mut self.connection.borrow_mut().id, Some(id));
    }

    fn flush(&self) {}

    fn state(&self, state: ConnectionState) {
        #[cfg(feature = "share")]
        self.relay.state(state);
        self.dispatcher.deliver(Queued::State(state));
    }

    fn error(&self, error: &SseError) {
        #[cfg(feature = "share")]
        self.relay.error(error);
        self.dispatcher.deliver(Queued::Error(error.clone()));
    }
}
