//! One connection for every client of a share name, in every tab of the browser
//! profile ([`SseClientBuilder::share`](crate::SseClientBuilder::share)).
//!
//! The protocol — the Web Lock that elects the leader, the `BroadcastChannel` that
//! relays its connection, the takeover that resumes from the newest id — is
//! `share.js`, which the npm face uses too, so clients of either face share alike.
//! This module is the Rust client's side of it: [`Shared`] stands where a solo
//! client's driver stands, follows the leader's relay into the client's handlers until
//! it takes the lock, and then starts a driver of its own whose delivery relays to the
//! others ([`Relay`]).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::delivery::RustDelivery;
use super::driver::{Config, Driver};
use crate::event::{ConnectionState, Role, SseError};
use crate::machine::Machine;
use crate::runtime::Tracked;

#[wasm_bindgen(module = "/src/client/share.js")]
extern "C" {
    /// The share's side of one client (`share.js`).
    #[derive(Clone)]
    pub(crate) type SseShare;

    #[wasm_bindgen(constructor)]
    fn new(name: &str, hub: &Object, on: &Object) -> SseShare;
    /// Whether the page or worker has Web Locks and `BroadcastChannel`.
    #[wasm_bindgen(js_name = sseCanShare)]
    fn can_share() -> bool;

    #[wasm_bindgen(method)]
    fn event(this: &SseShare, event_type: &str, data: &str, id: &str);
    #[wasm_bindgen(method)]
    fn state(this: &SseShare, name: &str, attempt: Option<u32>, delay_ms: Option<f64>);
    #[wasm_bindgen(method)]
    fn error(this: &SseShare, kind: &str, message: &str, status: Option<u16>, detail: &str);
    #[wasm_bindgen(method)]
    fn need(this: &SseShare, event_type: &str);
    #[wasm_bindgen(method)]
    fn reconnect(this: &SseShare);
    #[wasm_bindgen(method)]
    fn leave(this: &SseShare);
    #[wasm_bindgen(method, setter, js_name = handingOver)]
    fn set_handing_over(this: &SseShare, handing_over: bool);
}

/// Where a leader's delivery relays its connection: nowhere until its client leads.
#[derive(Default)]
pub(crate) struct Relay {
    share: RefCell<Option<SseShare>>,
}

impl Relay {
    /// Whether events go to the share (so the connection hears every type).
    pub(crate) fn active(&self) -> bool {
        self.share.borrow().is_some()
    }

    pub(crate) fn event(&self, event_type: &str, data: &str, id: &dyn Fn() -> String) {
        if let Some(share) = self.share.borrow().as_ref() {
            share.event(event_type, data, &id());
        }
    }

    /// Relays a state; the share leaves after `Closed` (handing over, or ending every
    /// client's connection for good).
    pub(crate) fn state(&self, state: ConnectionState) {
        let share = match state {
            ConnectionState::Closed => self.share.borrow_mut().take(),
            _ => self.share.borrow().clone(),
        };
        if let Some(share) = share {
            let (attempt, delay_ms) = state.retry_detail();
            share.state(state.as_str(), attempt, delay_ms);
        }
    }

    pub(crate) fn error(&self, error: &SseError) {
        if let Some(share) = self.share.borrow().as_ref() {
            let (status, detail) = match error {
                SseError::Http { status, .. } => (Some(*status), String::new()),
                SseError::ContentType { content_type } => (None, content_type.clone()),
                SseError::Idle { timeout } => {
                    (None, crate::text::decimal(crate::millis::whole(*timeout)))
                }
                SseError::RetriesExhausted { attempts } => {
                    (None, crate::text::decimal(u64::from(*attempts)))
                }
                _ => (None, String::new()),
            };
            share.error(error.kind(), &error.describe(), status, &detail);
        }
    }

    fn start(&self, share: SseShare) {
        *self.share.borrow_mut() = Some(share);
    }

    fn stop(&self) {
        self.share.borrow_mut().take();
    }
}

/// An error the leader relayed, as a follower's handlers get it.
fn relayed_error(kind: &str, message: String, status: Option<u16>, detail: &str) -> SseError {
    let number = || detail.parse::<u64>().unwrap_or(0);
    match kind {
        "http" => SseError::Http {
            status: status.unwrap_or(0),
            message,
        },
        "content-type" => SseError::ContentType {
            content_type: detail.to_owned(),
        },
        "idle" => SseError::Idle {
            timeout: Duration::from_millis(number()),
        },
        "retries-exhausted" => SseError::RetriesExhausted {
            attempts: u32::try_from(number()).unwrap_or(u32::MAX),
        },
        "invalid" => SseError::Invalid { message },
        _ => SseError::Network { message },
    }
}

/// A state the leader relayed.
fn relayed_state(name: &str, attempt: Option<u32>, delay_ms: Option<f64>) -> ConnectionState {
    match name {
        "open" => ConnectionState::Open,
        "reconnecting" => ConnectionState::Reconnecting {
            attempt: attempt.unwrap_or(1),
            delay: delay_ms
                .and_then(crate::millis::duration)
                .unwrap_or_default(),
        },
        "paused" => ConnectionState::Paused,
        "closed" => ConnectionState::Closed,
        _ => ConnectionState::Connecting,
    }
}

/// A client of a share: a follower of the leader's relay until it takes the lock, then
/// the leader, with a driver of its own.
pub(crate) struct Shared {
    share: SseShare,
    url: String,
    delivery: Rc<RustDelivery>,
    /// What the driver starts with, until it first leads.
    pending: RefCell<Option<(Config, Machine)>>,
    /// Its connection, once it has led; it stands by while another client leads.
    driver: RefCell<Option<Rc<Driver>>>,
    /// It holds the share's lock, and its connection serves the share.
    leading: Cell<bool>,
    /// The shared connection's state and last id as the leader told them.
    mirror: Cell<ConnectionState>,
    last_event_id: RefCell<String>,
    /// This client left the share (closed, or the shared connection ended for good).
    left: Cell<bool>,
    _callbacks: Callbacks,
}

/// `hub.state(name, attempt, delayMs)`.
type StateFn = dyn FnMut(String, Option<u32>, Option<f64>);
/// `hub.error(kind, message, status, detail)`.
type ErrorFn = dyn FnMut(String, String, Option<u16>, Option<String>);

/// The functions `share.js` calls, owned (and freed) with the client.
struct Callbacks {
    _follow: Tracked<dyn FnMut(String, String, String)>,
    _state: Tracked<StateFn>,
    _error: Tracked<ErrorFn>,
    _handled: Tracked<dyn FnMut() -> Array>,
    _lead: Tracked<dyn FnMut(String)>,
    _listen: Tracked<dyn FnMut(String)>,
    _reconnect: Tracked<dyn FnMut()>,
    _seen: Tracked<dyn FnMut(bool)>,
    _stand_by: Tracked<dyn FnMut()>,
    _end: Tracked<dyn FnMut()>,
}

/// A plain object with these functions as its properties.
fn object(entries: &[(&str, &JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

impl Shared {
    /// Whether this context can share: without Web Locks or `BroadcastChannel` a
    /// client connects on its own.
    pub(crate) fn possible() -> bool {
        can_share()
    }

    /// Joins the share `name` as a follower; the client connects with `config` and
    /// `machine` once it leads.
    pub(crate) fn join(
        name: &str,
        config: Config,
        machine: Machine,
        delivery: Rc<RustDelivery>,
    ) -> Rc<Shared> {
        let last_event_id = machine.last_event_id().to_owned();
        let url = config.url.clone();
        Rc::new_cyclic(|weak: &Weak<Shared>| {
            let callbacks = Callbacks::new(weak, &delivery);
            let hub = object(&[
                ("follow", callbacks._follow.function()),
                ("state", callbacks._state.function()),
                ("error", callbacks._error.function()),
                ("handled", callbacks._handled.function()),
                // The npm hub makes an entry for a type; the Rust delivery needs none.
                ("entry", callbacks._listen.function()),
                ("needed", &js_sys::Set::new(&JsValue::UNDEFINED)),
                ("relay", &JsValue::NULL),
            ]);
            let on = object(&[
                ("lead", callbacks._lead.function()),
                ("listen", callbacks._listen.function()),
                ("reconnect", callbacks._reconnect.function()),
                ("seen", callbacks._seen.function()),
                ("standBy", callbacks._stand_by.function()),
                ("end", callbacks._end.function()),
            ]);
            Shared {
                share: SseShare::new(name, &hub, &on),
                url,
                delivery,
                pending: RefCell::new(Some((config, machine))),
                driver: RefCell::new(None),
                leading: Cell::new(false),
                mirror: Cell::new(ConnectionState::Connecting),
                last_event_id: RefCell::new(last_event_id),
                left: Cell::new(false),
                _callbacks: callbacks,
            }
        })
    }

    /// Its connection while it leads.
    fn driver(&self) -> Option<Rc<Driver>> {
        if !self.leading.get() {
            return None;
        }
        self.driver.borrow().clone()
    }

    pub(crate) fn role(&self) -> Role {
        if self.leading.get() {
            Role::Leader
        } else {
            Role::Follower
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn state(&self) -> ConnectionState {
        match self.driver() {
            Some(driver) => driver.state(),
            None => self.mirror.get(),
        }
    }

    pub(crate) fn last_event_id(&self) -> String {
        match self.driver() {
            Some(driver) => driver.last_event_id(),
            None => self.last_event_id.borrow().clone(),
        }
    }

    pub(crate) fn reconnect(&self) {
        match self.driver() {
            Some(driver) => driver.reconnect(),
            None if !self.left.get() => self.share.reconnect(),
            None => {}
        }
    }

    /// A follower leaves alone; a leader hands the connection to the next in line.
    pub(crate) fn close(&self) {
        match self.driver() {
            Some(driver) => {
                self.share.set_handing_over(true);
                driver.close();
            }
            None => self.leave(),
        }
    }

    pub(crate) fn listen(&self, event_type: &str) {
        match self.driver() {
            Some(driver) => driver.listen(event_type),
            None if !self.left.get() => self.share.need(event_type),
            None => {}
        }
    }

    pub(crate) fn unlisten(&self, event_type: &str) {
        // The others may still need it: a leader's connection keeps listening.
        if let Some(driver) = self.driver() {
            if !self.delivery.relays(event_type) {
                driver.unlisten(event_type);
            }
        }
    }

    /// A follower leaves the share and reports `Closed` once.
    fn leave(&self) {
        if self.left.replace(true) {
            return;
        }
        self.share.leave();
        self.mirror.set(ConnectionState::Closed);
        let stood_by = self.driver.borrow().clone();
        match stood_by {
            // A connection that stood by reports `Closed` as it closes.
            Some(driver) => driver.close(),
            None => {
                use crate::delivery::Delivery;
                self.delivery.state(ConnectionState::Closed);
            }
        }
    }

    /// This client holds the lock: it connects, resuming from the newest id any client
    /// of the share saw.
    fn lead(&self, newest_id: String) {
        self.leading.set(true);
        self.delivery.relay.start(self.share.clone());
        let stood_by = self.driver.borrow().clone();
        if let Some(driver) = stood_by {
            driver.stand_by(false, &newest_id);
            return;
        }
        let Some((config, mut machine)) = self.pending.borrow_mut().take() else {
            return;
        };
        if !newest_id.is_empty() && config.resume_param.is_some() {
            machine.id(newest_id);
        }
        let driver = Driver::start(config, machine, self.delivery.clone());
        self.delivery.attach(&driver);
        *self.driver.borrow_mut() = Some(driver);
    }

    /// The page went into the back/forward cache: another client leads, and this
    /// one's connection stands by.
    fn stand_by(&self) {
        self.leading.set(false);
        self.delivery.relay.stop();
        self.mirror.set(ConnectionState::Paused);
        let driver = self.driver.borrow().clone();
        if let Some(driver) = driver {
            *self.last_event_id.borrow_mut() = driver.last_event_id();
            driver.stand_by(true, "");
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle went: a leader's connection goes with it, to the next in line.
        if !self.left.get() {
            self.share.set_handing_over(true);
            self.share.leave();
        }
    }
}

impl Callbacks {
    fn new(weak: &Weak<Shared>, delivery: &Rc<RustDelivery>) -> Callbacks {
        let follow = {
            let weak = weak.clone();
            Closure::new(move |event_type: String, data: String, id: String| {
                if let Some(shared) = weak.upgrade() {
                    if shared.left.get() {
                        return;
                    }
                    shared.last_event_id.replace(id.clone());
                    if shared.delivery.follow(&event_type, &data, &id) {
                        shared.leave();
                    }
                }
            })
        };
        let state = {
            let weak = weak.clone();
            Closure::new(
                move |name: String, attempt: Option<u32>, delay_ms: Option<f64>| {
                    if let Some(shared) = weak.upgrade() {
                        let state = relayed_state(&name, attempt, delay_ms);
                        if shared.left.get() || state == ConnectionState::Closed {
                            return;
                        }
                        shared.mirror.set(state);
                        use crate::delivery::Delivery;
                        shared.delivery.state(state);
                    }
                },
            )
        };
        let error = {
            let weak = weak.clone();
            Closure::new(
                move |kind: String,
                      message: String,
                      status: Option<u16>,
                      detail: Option<String>| {
                    if let Some(shared) = weak.upgrade() {
                        if !shared.left.get() {
                            let error = relayed_error(
                                &kind,
                                message,
                                status,
                                detail.as_deref().unwrap_or(""),
                            );
                            use crate::delivery::Delivery;
                            shared.delivery.error(&error);
                        }
                    }
                },
            )
        };
        let handled = {
            let delivery = Rc::downgrade(delivery);
            Closure::new(move || {
                let types = Array::new();
                if let Some(delivery) = delivery.upgrade() {
                    use crate::delivery::Delivery;
                    for event_type in delivery.event_types() {
                        types.push(&JsValue::from_str(&event_type));
                    }
                }
                types
            })
        };
        let lead = {
            let weak = weak.clone();
            Closure::new(move |newest_id: String| {
                if let Some(shared) = weak.upgrade() {
                    shared.lead(newest_id);
                }
            })
        };
        let listen = {
            let weak = weak.clone();
            Closure::new(move |event_type: String| {
                if let Some(shared) = weak.upgrade() {
                    // A leader's next connections listen to it from the start.
                    if shared.delivery.relay_type(&event_type) {
                        if let Some(driver) = shared.driver() {
                            driver.listen(&event_type);
                        }
                    }
                }
            })
        };
        let reconnect = {
            let weak = weak.clone();
            Closure::new(move || {
                if let Some(driver) = weak.upgrade().and_then(|shared| shared.driver()) {
                    driver.reconnect();
                }
            })
        };
        let seen = {
            let weak = weak.clone();
            Closure::new(move |visible: bool| {
                if let Some(driver) = weak.upgrade().and_then(|shared| shared.driver()) {
                    driver.seen_elsewhere(visible);
                }
            })
        };
        let stand_by = {
            let weak = weak.clone();
            Closure::new(move || {
                if let Some(shared) = weak.upgrade() {
                    shared.stand_by();
                }
            })
        };
        let end = {
            let weak = weak.clone();
            Closure::new(move || {
                if let Some(shared) = weak.upgrade() {
                    shared.leave();
                }
            })
        };
        Callbacks {
            _follow: Tracked::new(follow),
            _state: Tracked::new(state),
            _error: Tracked::new(error),
            _handled: Tracked::new(handled),
            _lead: Tracked::new(lead),
            _listen: Tracked::new(listen),
            _reconnect: Tracked::new(reconnect),
            _seen: Tracked::new(seen),
            _stand_by: Tracked::new(stand_by),
            _end: Tracked::new(end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_states_and_errors_read_back_as_they_were_sent() {
        assert_eq!(relayed_state("open", None, None), ConnectionState::Open);
        assert_eq!(
            relayed_state("reconnecting", Some(3), Some(1500.0)),
            ConnectionState::Reconnecting {
                attempt: 3,
                delay: Duration::from_millis(1500)
            }
        );
        assert_eq!(relayed_state("closed", None, None), ConnectionState::Closed);
        assert_eq!(relayed_state("paused", None, None), ConnectionState::Paused);
        assert_eq!(
            relayed_state("what", None, None),
            ConnectionState::Connecting
        );
        let http = relayed_error("http", "503".to_owned(), Some(503), "");
        assert!(matches!(http, SseError::Http { status: 503, .. }));
        let idle = relayed_error("idle", String::new(), None, "45000");
        assert!(matches!(idle, SseError::Idle { timeout } if timeout == Duration::from_secs(45)));
        let exhausted = relayed_error("retries-exhausted", String::new(), None, "7");
        assert!(matches!(
            exhausted,
            SseError::RetriesExhausted { attempts: 7 }
        ));
        let content = relayed_error("content-type", String::new(), None, "text/html");
        assert!(
            matches!(content, SseError::ContentType { content_type } if content_type == "text/html")
        );
        let odd = relayed_error("from the future", "x".to_owned(), None, "not a number");
        assert!(matches!(odd, SseError::Network { .. }));
    }
}
