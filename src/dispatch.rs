//! Handler registry keyed by event type, the [`Subscription`] guard, and in-order,
//! non-reentrant delivery.
//!
//! Delivery goes through one queue: when a handler causes another delivery (it calls
//! `close()`, which emits `Closed`, or its decoding fails, which emits an error) that
//! delivery is queued and runs after the current one. Handlers therefore never run
//! inside each other, every handler sees deliveries in one order, and `FnMut` handlers
//! are safe.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use crate::event::{ConnectionState, SseError, SseEvent};

/// Identifies one registered handler.
pub(crate) type HandlerId = u64;

/// An event on its way to the handlers, borrowed from wherever it arrived (the
/// parser's buffers, or data copied once out of a native event). The id is made only
/// for a handler that asks for it, since reading it from a native event is costly.
pub(crate) struct Incoming<'a> {
    pub(crate) event_type: &'a str,
    pub(crate) data: &'a str,
    pub(crate) last_event_id: &'a dyn Fn() -> String,
}

impl Incoming<'_> {
    /// The event as the public API hands it out.
    pub(crate) fn to_event(&self) -> SseEvent {
        SseEvent {
            event_type: self.event_type.to_owned(),
            data: self.data.to_owned(),
            last_event_id: (self.last_event_id)(),
        }
    }
}

/// A handler of events; an `Err` is delivered on the error channel.
pub(crate) type EventHandler = dyn FnMut(&Incoming<'_>) -> Result<(), SseError>;
type StateHandler = dyn FnMut(&ConnectionState);
type ErrorHandler = dyn FnMut(&SseError);

/// Handlers of one kind in the order they were added, copy-on-write: a delivery's
/// snapshot costs one `Rc` clone rather than a copy of the list, and only adding or
/// removing during a delivery copies it. The JS bindings keep their per-type lists in
/// one too.
pub(crate) struct HandlerList<T> {
    entries: Rc<Vec<Rc<Entry<T>>>>,
}

struct Entry<T> {
    id: HandlerId,
    active: Cell<bool>,
    value: T,
}

/// The handlers of a list as they were when a delivery began.
pub(crate) struct Snapshot<T>(Rc<Vec<Rc<Entry<T>>>>);

impl<T> Default for HandlerList<T> {
    fn default() -> Self {
        HandlerList {
            entries: Rc::default(),
        }
    }
}

impl<T> HandlerList<T> {
    /// Adds a handler at the end; returns how many the list now holds.
    pub(crate) fn push(&mut self, id: HandlerId, value: T) -> usize {
        let entries = Rc::make_mut(&mut self.entries);
        entries.push(Rc::new(Entry {
            id,
            active: Cell::new(true),
            value,
        }));
        entries.len()
    }

    /// Removes a handler; `false` when it was not in the list.
    pub(crate) fn remove(&mut self, id: HandlerId) -> bool {
        let Some(index) = self.entries.iter().position(|entry| entry.id == id) else {
            return false;
        };
        // A delivery in progress may hold a snapshot with this entry; the flag keeps
        // it from being called after its removal.
        Rc::make_mut(&mut self.entries)
            .remove(index)
            .active
            .set(false);
        true
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn snapshot(&self) -> Snapshot<T> {
        Snapshot(self.entries.clone())
    }
}

impl<T> Snapshot<T> {
    /// Calls `call` with each handler of the snapshot that has not been removed since,
    /// checking just before each call, so a handler removed by an earlier one is skipped.
    pub(crate) fn for_each_active(&self, mut call: impl FnMut(&T)) {
        for entry in self.0.iter() {
            if entry.active.get() {
                call(&entry.value);
            }
        }
    }
}

type Handlers<H> = HandlerList<RefCell<Box<H>>>;

/// The handlers of one event type as a delivery began.
pub(crate) type EventHandlers = Snapshot<RefCell<Box<EventHandler>>>;

/// What removing a handler changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed {
    /// The last handler of this event type went: the transport can stop listening.
    LastOfType(String),
    /// A handler went; others of its kind remain.
    Handler,
    /// No such handler (already removed).
    Nothing,
}

/// Handlers by kind, each list in the order the handlers were added.
#[derive(Default)]
pub(crate) struct Registry {
    next_id: HandlerId,
    /// By event type. A client listens to a handful of types, so a scan of short
    /// strings beats hashing every event's type.
    events: Vec<(String, Handlers<EventHandler>)>,
    states: Handlers<StateHandler>,
    errors: Handlers<ErrorHandler>,
}

impl Registry {
    fn take_id(&mut self) -> HandlerId {
        self.next_id += 1;
        self.next_id
    }

    /// Adds an event handler; the flag says whether it is the first of its type.
    pub(crate) fn add_event(
        &mut self,
        event_type: &str,
        handler: Box<EventHandler>,
    ) -> (HandlerId, bool) {
        let id = self.take_id();
        let index = match self.position(event_type) {
            Some(index) => index,
            None => {
                self.events
                    .push((event_type.to_owned(), HandlerList::default()));
                self.events.len() - 1
            }
        };
        let len = self.events[index].1.push(id, RefCell::new(handler));
        (id, len == 1)
    }

    pub(crate) fn add_state(&mut self, handler: Box<StateHandler>) -> HandlerId {
        let id = self.take_id();
        self.states.push(id, RefCell::new(handler));
        id
    }

    pub(crate) fn add_error(&mut self, handler: Box<ErrorHandler>) -> HandlerId {
        let id = self.take_id();
        self.errors.push(id, RefCell::new(handler));
        id
    }

    pub(crate) fn remove(&mut self, id: HandlerId) -> Removed {
        if self.states.remove(id) || self.errors.remove(id) {
            return Removed::Handler;
        }
        let Some(index) = self.events.iter_mut().position(|(_, list)| list.remove(id)) else {
            return Removed::Nothing;
        };
        if self.events[index].1.is_empty() {
            Removed::LastOfType(self.events.remove(index).0)
        } else {
            Removed::Handler
        }
    }

    fn position(&self, event_type: &str) -> Option<usize> {
        self.events
            .iter()
            .position(|(listened, _)| listened == event_type)
    }

    fn handlers(&self, event_type: &str) -> Option<&Handlers<EventHandler>> {
        self.events
            .iter()
            .find(|(listened, _)| listened == event_type)
            .map(|(_, list)| list)
    }

    /// Every event type with at least one handler.
    pub(crate) fn event_types(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(event_type, _)| event_type.clone())
            .collect()
    }
}

/// Something to hand to the handlers, waiting for the delivery in progress.
#[derive(Clone, Debug)]
pub(crate) enum Queued {
    Event(SseEvent),
    State(ConnectionState),
    Error(SseError),
}

/// The registry plus the delivery queue.
#[derive(Default)]
pub(crate) struct Dispatcher {
    registry: RefCell<Registry>,
    queue: RefCell<VecDeque<Queued>>,
    draining: Cell<bool>,
}

impl Dispatcher {
    pub(crate) fn registry(&self) -> std::cell::RefMut<'_, Registry> {
        self.registry.borrow_mut()
    }

    /// Delivers an event now, or after the delivery in progress when called from a
    /// handler (then as a copy). (A connection's own events go through
    /// [`deliver_event_to`](Self::deliver_event_to).)
    #[cfg(any(test, feature = "share"))]
    pub(crate) fn deliver_event(&self, event: &Incoming<'_>) {
        let handlers = self.event_handlers(event.event_type);
        self.deliver_event_to(handlers, event);
    }

    /// The handlers an event of `event_type` would go to now; `None` when it has none.
    pub(crate) fn event_handlers(&self, event_type: &str) -> Option<EventHandlers> {
        let registry = self.registry.borrow();
        registry.handlers(event_type).map(HandlerList::snapshot)
    }

    /// [`deliver_event`](Self::deliver_event) to handlers looked up already (by a
    /// caller that first asked whether the event has any). A delivery that has to wait
    /// looks them up again when it runs.
    pub(crate) fn deliver_event_to(&self, handlers: Option<EventHandlers>, event: &Incoming<'_>) {
        if self.draining.replace(true) {
            self.queue
                .borrow_mut()
                .push_back(Queued::Event(event.to_event()));
            return;
        }
        if let Some(handlers) = handlers {
            self.run_handlers(&handlers, event);
        }
        self.drain();
    }

    /// Delivers now, or after the delivery in progress when called from a handler.
    pub(crate) fn deliver(&self, delivery: Queued) {
        self.queue.borrow_mut().push_back(delivery);
        if self.draining.replace(true) {
            return;
        }
        self.drain();
    }

    /// Runs what is queued, then lets the next delivery run at once.
    fn drain(&self) {
        loop {
            let next = self.queue.borrow_mut().pop_front();
            match next {
                Some(delivery) => self.run(delivery),
                None => break,
            }
        }
        self.draining.set(false);
    }

    fn run_event(&self, event: &Incoming<'_>) {
        if let Some(handlers) = self.event_handlers(event.event_type) {
            self.run_handlers(&handlers, event);
        }
    }

    fn run_handlers(&self, handlers: &EventHandlers, event: &Incoming<'_>) {
        handlers.for_each_active(|handler| {
            if let Err(error) = (handler.borrow_mut())(event) {
                self.queue.borrow_mut().push_back(Queued::Error(error));
            }
        });
    }

    fn run(&self, delivery: Queued) {
        match delivery {
            Queued::Event(event) => {
                let id = || event.last_event_id.clone();
                self.run_event(&Incoming {
                    event_type: &event.event_type,
                    data: &event.data,
                    last_event_id: &id,
                });
            }
            Queued::State(state) => {
                let snapshot = self.registry.borrow().states.snapshot();
                snapshot.for_each_active(|handler| (handler.borrow_mut())(&state));
            }
            Queued::Error(error) => {
                let snapshot = self.registry.borrow().errors.snapshot();
                snapshot.for_each_active(|handler| (handler.borrow_mut())(&error));
            }
        }
    }
}

/// Whoever can take a handler back out (the client, which also stops listening for an
/// event type nobody handles any more).
pub(crate) trait Unsubscribe {
    fn unsubscribe(&self, id: HandlerId);
}

/// Keeps a handler registered. Dropping it removes the handler.
///
/// ```no_run
/// # fn demo(client: &sse_wasm::SseClient) {
/// let subscription = client.on_raw("tick", |event| println!("{}", event.data));
/// // ... later: stop listening.
/// drop(subscription);
/// # }
/// ```
#[must_use = "dropping a Subscription unsubscribes the handler at once"]
pub struct Subscription {
    owner: Option<Weak<dyn Unsubscribe>>,
    ids: Vec<HandlerId>,
}

impl Subscription {
    pub(crate) fn new(owner: Weak<dyn Unsubscribe>, ids: Vec<HandlerId>) -> Self {
        Subscription {
            owner: Some(owner),
            ids,
        }
    }

    /// Keeps the handler for as long as the client lives, without holding this guard.
    /// The handler is still dropped with the client, so nothing leaks.
    pub fn detach(mut self) {
        self.owner = None;
    }

    /// Removes the handler now (the same as dropping the guard).
    pub fn unsubscribe(self) {}
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take().and_then(|owner| owner.upgrade()) {
            for id in self.ids.drain(..) {
                owner.unsubscribe(id);
            }
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("handlers", &self.ids.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event_type: &str, data: &str) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: String::new(),
        }
    }

    type Log = Rc<RefCell<Vec<String>>>;

    fn recorder(log: &Log, name: &'static str) -> Box<EventHandler> {
        let log = log.clone();
        Box::new(move |event: &Incoming<'_>| {
            log.borrow_mut().push(format!("{name}:{}", event.data));
            Ok(())
        })
    }

    #[test]
    fn events_reach_only_their_type_in_registration_order() {
        let dispatcher = Dispatcher::default();
        let log = Log::default();
        let (_, first) = dispatcher.registry().add_event("tick", recorder(&log, "a"));
        let (_, second) = dispatcher.registry().add_event("tick", recorder(&log, "b"));
        dispatcher.registry().add_event("news", recorder(&log, "n"));
        assert!(first && !second);
        dispatcher.deliver(Queued::Event(event("tick", "1")));
        dispatcher.deliver(Queued::Event(event("other", "2")));
        dispatcher.deliver(Queued::Event(event("news", "3")));
        assert_eq!(*log.borrow(), ["a:1", "b:1", "n:3"]);
    }

    #[test]
    fn removing_the_last_handler_of_a_type_says_so() {
        let mut registry = Registry::default();
        let log = Log::default();
        let (a, _) = registry.add_event("tick", recorder(&log, "a"));
        let (b, _) = registry.add_event("tick", recorder(&log, "b"));
        assert_eq!(registry.remove(a), Removed::Handler);
        assert_eq!(registry.remove(a), Removed::Nothing);
        assert_eq!(registry.remove(b), Removed::LastOfType("tick".into()));
        assert!(registry.handlers("tick").is_none());
        assert!(registry.event_types().is_empty());
    }

    #[test]
    fn handler_errors_go_to_the_error_channel_after_the_event() {
        let dispatcher = Rc::new(Dispatcher::default());
        let log = Log::default();
        dispatcher.registry().add_event(
            "tick",
            Box::new(|event: &Incoming<'_>| Err(SseError::network(event.data))),
        );
        dispatcher
            .registry()
            .add_event("tick", recorder(&log, "second"));
        let errors = log.clone();
        dispatcher
            .registry()
            .add_error(Box::new(move |error: &SseError| {
                errors.borrow_mut().push(format!("error:{error}"));
            }));
        dispatcher.deliver(Queued::Event(event("tick", "x")));
        assert_eq!(*log.borrow(), ["second:x", "error:network: x"]);
    }

    #[test]
    fn deliveries_from_inside_a_handler_are_queued_not_nested() {
        let dispatcher = Rc::new(Dispatcher::default());
        let log = Log::default();
        let (inner_dispatcher, inner_log) = (Rc::downgrade(&dispatcher), log.clone());
        dispatcher
            .registry()
            .add_state(Box::new(move |state: &ConnectionState| {
                inner_log.borrow_mut().push(format!("enter {state}"));
                if *state == ConnectionState::Open {
                    let dispatcher = inner_dispatcher.upgrade().unwrap();
                    dispatcher.deliver(Queued::State(ConnectionState::Closed));
                }
                inner_log.borrow_mut().push(format!("leave {state}"));
            }));
        dispatcher.deliver(Queued::State(ConnectionState::Open));
        assert_eq!(
            *log.borrow(),
            ["enter open", "leave open", "enter closed", "leave closed"]
        );
    }

    #[test]
    fn an_event_delivered_from_a_handler_waits_for_the_current_one_as_a_copy() {
        let dispatcher = Rc::new(Dispatcher::default());
        let log = Log::default();
        let (inner, inner_log) = (Rc::downgrade(&dispatcher), log.clone());
        dispatcher.registry().add_event(
            "tick",
            Box::new(move |event: &Incoming<'_>| {
                inner_log.borrow_mut().push(format!("enter {}", event.data));
                if event.data == "1" {
                    let id = || "7".to_owned();
                    let nested = Incoming {
                        event_type: "tick",
                        data: "2",
                        last_event_id: &id,
                    };
                    inner.upgrade().unwrap().deliver_event(&nested);
                }
                inner_log.borrow_mut().push(format!("leave {}", event.data));
                Ok(())
            }),
        );
        let id_log = log.clone();
        dispatcher.registry().add_event(
            "tick",
            Box::new(move |event: &Incoming<'_>| {
                id_log
                    .borrow_mut()
                    .push(format!("id {}", (event.last_event_id)()));
                Ok(())
            }),
        );
        let id = || "6".to_owned();
        dispatcher.deliver_event(&Incoming {
            event_type: "tick",
            data: "1",
            last_event_id: &id,
        });
        assert_eq!(
            *log.borrow(),
            ["enter 1", "leave 1", "id 6", "enter 2", "leave 2", "id 7"]
        );
    }

    #[test]
    fn a_handler_removed_during_delivery_is_not_called_afterwards() {
        let dispatcher = Rc::new(Dispatcher::default());
        let log = Log::default();
        let victim = Rc::new(Cell::new(0));
        let (weak, victim_id) = (Rc::downgrade(&dispatcher), victim.clone());
        dispatcher.registry().add_event(
            "tick",
            Box::new(move |_: &Incoming<'_>| {
                let dispatcher = weak.upgrade().unwrap();
                dispatcher.registry().remove(victim_id.get());
                Ok(())
            }),
        );
        let (id, _) = dispatcher
            .registry()
            .add_event("tick", recorder(&log, "victim"));
        victim.set(id);
        dispatcher.deliver(Queued::Event(event("tick", "1")));
        assert!(log.borrow().is_empty());
    }

    struct Owner {
        dispatcher: Dispatcher,
    }
    impl Unsubscribe for Owner {
        fn unsubscribe(&self, id: HandlerId) {
            self.dispatcher.registry().remove(id);
        }
    }

    #[test]
    fn dropping_a_subscription_removes_its_handler_and_detach_keeps_it() {
        let owner = Rc::new(Owner {
            dispatcher: Dispatcher::default(),
        });
        let weak: Weak<dyn Unsubscribe> = Rc::downgrade(&owner) as Weak<dyn Unsubscribe>;
        let log = Log::default();
        let (a, _) = owner
            .dispatcher
            .registry()
            .add_event("t", recorder(&log, "a"));
        let (b, _) = owner
            .dispatcher
            .registry()
            .add_event("t", recorder(&log, "b"));
        drop(Subscription::new(weak.clone(), vec![a]));
        Subscription::new(weak, vec![b]).detach();
        owner.dispatcher.deliver(Queued::Event(event("t", "1")));
        assert_eq!(*log.borrow(), ["b:1"]);
    }

    #[test]
    fn a_subscription_outliving_its_owner_is_harmless() {
        let owner = Rc::new(Owner {
            dispatcher: Dispatcher::default(),
        });
        let weak: Weak<dyn Unsubscribe> = Rc::downgrade(&owner) as Weak<dyn Unsubscribe>;
        let subscription = Subscription::new(weak, vec![1]);
        drop(owner);
        drop(subscription);
    }
}
