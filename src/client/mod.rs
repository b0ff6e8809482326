//! [`SseClient`]: the handle of a connection for Rust, its handlers and its state.
//!
//! `builder.rs` checks the options, `driver.rs` runs the connection (the npm face's twin
//! is `bindings/js_driver.js`), `page.rs` tells the driver what happens to the page,
//! `delivery.rs` hands events to the Rust handlers.

#[cfg(feature = "json")]
use std::cell::RefCell;
use std::rc::{Rc, Weak};

#[cfg(feature = "json")]
use serde::de::DeserializeOwned;

mod builder;
mod delivery;
pub(crate) mod driver;
mod link;
mod page;
#[cfg(feature = "share")]
mod share;

pub use builder::{SseClientBuilder, DEFAULT_RESUME_PARAM};

#[cfg(feature = "json")]
use crate::decode;
use crate::dispatch::{HandlerId, Incoming, Removed, Subscription, Unsubscribe};
use crate::event::{ConnectionState, Role, SseError, SseEvent};
use delivery::RustDelivery;
use link::Link;

/// A Server-Sent Events connection that reconnects with backoff and resumes where it
/// left off.
///
/// Handles are cheap to clone and share one connection; dropping the last handle closes
/// it and frees every handler and JS closure it owns.
///
/// ```no_run
/// use serde::Deserialize;
/// use sse_wasm::{ConnectionState, SseClient};
///
/// #[derive(Deserialize)]
/// struct Tick { symbol: String, price: f64 }
///
/// let client = SseClient::connect("/events")?;
/// let _ticks = client.on::<Tick>("tick", |tick| {
///     println!("{} {}", tick.symbol, tick.price);
/// });
/// let _state = client.on_state(|state: ConnectionState| {
///     println!("now {state}");
/// });
/// # Ok::<(), sse_wasm::SseError>(())
/// ```
#[derive(Clone)]
pub struct SseClient {
    inner: Rc<Inner>,
}

/// What the handles share; dropping it drops the driver, which closes the connection.
struct Inner {
    link: Link,
    delivery: Rc<RustDelivery>,
}

impl SseClient {
    /// A builder for a client of `url` (resolved against the document like
    /// `EventSource`'s).
    pub fn builder(url: impl Into<String>) -> SseClientBuilder {
        SseClientBuilder::new(url.into())
    }

    /// Connects to `url` with the default options.
    pub fn connect(url: impl Into<String>) -> Result<SseClient, SseError> {
        SseClient::builder(url).connect()
    }

    pub(super) fn new(link: Link, delivery: Rc<RustDelivery>) -> SseClient {
        SseClient {
            inner: Rc::new(Inner { link, delivery }),
        }
    }

    /// Calls `handler` with every event of `event_type`, its data decoded from JSON.
    ///
    /// Data that does not decode is reported on [`on_error`](Self::on_error) as
    /// [`SseError::Decode`] and later events still arrive. Events without an `event:`
    /// field have the type `"message"`.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn on<T: DeserializeOwned + 'static>(
        &self,
        event_type: &str,
        mut handler: impl FnMut(T) + 'static,
    ) -> Subscription {
        self.add_event_handler(event_type, move |event| {
            handler(decode::json_data(event.event_type, event.data)?);
            Ok(())
        })
    }

    /// Calls `handler` with every event of `event_type` as it arrived.
    pub fn on_raw(
        &self,
        event_type: &str,
        mut handler: impl FnMut(&SseEvent) + 'static,
    ) -> Subscription {
        self.add_event_handler(event_type, move |event| {
            handler(&event.to_event());
            Ok(())
        })
    }

    /// Calls `handler` with every event whose type names a variant of `E`, decoded into
    /// that variant (serde's externally tagged form: the event type is the tag, the data
    /// the content).
    ///
    /// ```no_run
    /// use serde::Deserialize;
    /// # fn demo(client: &sse_wasm::SseClient) -> Result<(), sse_wasm::SseError> {
    /// #[derive(Deserialize)]
    /// #[serde(rename_all = "kebab-case")]
    /// enum ServerEvent {
    ///     Tick { price: f64 },
    ///     News { headline: String },
    ///     MarketClosed,
    /// }
    /// let _all = client.on_enum(|event: ServerEvent| match event {
    ///     ServerEvent::Tick { price } => { /* ... */ }
    ///     ServerEvent::News { headline } => { /* ... */ }
    ///     ServerEvent::MarketClosed => { /* ... */ }
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// Fails with [`SseError::Invalid`] when `E` is not an externally tagged enum.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn on_enum<E: DeserializeOwned + 'static>(
        &self,
        handler: impl FnMut(E) + 'static,
    ) -> Result<Subscription, SseError> {
        let event_types = decode::event_types::<E>()?;
        let handler = Rc::new(RefCell::new(handler));
        let ids = event_types
            .iter()
            .map(|event_type| {
                let handler = handler.clone();
                self.register_event_handler(event_type, move |event| {
                    let value = decode::enum_data::<E>(event.event_type, event.data)?;
                    (handler.borrow_mut())(value);
                    Ok(())
                })
            })
            .collect();
        Ok(Subscription::new(self.unsubscriber(), ids))
    }

    /// Calls `handler` on every change of [`state`](Self::state).
    pub fn on_state(&self, mut handler: impl FnMut(ConnectionState) + 'static) -> Subscription {
        let id = self
            .inner
            .delivery
            .dispatcher
            .registry()
            .add_state(Box::new(move |state: &ConnectionState| handler(*state)));
        Subscription::new(self.unsubscriber(), vec![id])
    }

    /// Calls `handler` with every error: each lost or failed connection once, decode
    /// failures, and the reason the client closed.
    pub fn on_error(&self, handler: impl FnMut(&SseError) + 'static) -> Subscription {
        let id = self
            .inner
            .delivery
            .dispatcher
            .registry()
            .add_error(Box::new(handler));
        Subscription::new(self.unsubscriber(), vec![id])
    }

    /// Drops the current connection and connects again now, resuming from the last
    /// event id. Reports no error; does nothing once closed.
    pub fn reconnect(&self) {
        self.inner.link.reconnect();
    }

    /// Closes the connection for good: cancels any pending retry, makes no further
    /// request, and reports [`ConnectionState::Closed`] once.
    pub fn close(&self) {
        self.inner.link.close();
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.inner.link.state()
    }

    /// The last event id seen (or given as an option); empty until there is one.
    pub fn last_event_id(&self) -> String {
        self.inner.link.last_event_id()
    }

    /// The absolute URL of the stream, without the resume parameter.
    pub fn url(&self) -> String {
        self.inner.link.url().to_owned()
    }

    /// [`Role::Solo`] unless the client shares
    /// ([`share`](SseClientBuilder::share)): then [`Role::Follower`] until it holds the
    /// share's lock, and [`Role::Leader`] while its connection serves the share.
    pub fn role(&self) -> Role {
        self.inner.link.role()
    }

    fn unsubscriber(&self) -> Weak<dyn Unsubscribe> {
        Rc::downgrade(&self.inner) as Weak<dyn Unsubscribe>
    }

    fn register_event_handler(
        &self,
        event_type: &str,
        handler: impl FnMut(&Incoming<'_>) -> Result<(), SseError> + 'static,
    ) -> HandlerId {
        let (id, first) = self
            .inner
            .delivery
            .dispatcher
            .registry()
            .add_event(event_type, Box::new(handler));
        if first {
            self.inner.link.listen(event_type);
        }
        id
    }

    pub(crate) fn add_event_handler(
        &self,
        event_type: &str,
        handler: impl FnMut(&Incoming<'_>) -> Result<(), SseError> + 'static,
    ) -> Subscription {
        let id = self.register_event_handler(event_type, handler);
        Subscription::new(self.unsubscriber(), vec![id])
    }
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseClient")
            .field("url", &self.inner.link.url())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Unsubscribe for Inner {
    fn unsubscribe(&self, id: HandlerId) {
        let removed = self.delivery.dispatcher.registry().remove(id);
        if let Removed::LastOfType(event_type) = removed {
            // A type the end of the stream can come in stays listened to.
            if !self.delivery.watches(&event_type) {
                self.link.unlisten(&event_type);
            }
        }
    }
}
