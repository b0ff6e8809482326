//! [`SseClient`] and its builder: the browser side of the state machine in
//! `machine.rs` — the connection, the retry and idle timers, and delivery to handlers.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::backoff::Backoff;
use crate::dispatch::{Delivery, Dispatcher, HandlerId, Removed, Subscription, Unsubscribe};
use crate::machine::{Effect, Effects, Machine};
use crate::parser::DEFAULT_MAX_EVENT_SIZE;
use crate::runtime::{self, Timer};
use crate::stream::EventStream;
use crate::transport::{
    self, Connection, Failure, FailureClass, FetchConfig, HeaderFn, Request, Signal, Transport,
};
use crate::{decode, ConnectionState, SseError, SseEvent};

/// The query parameter that carries the last event id unless configured otherwise.
pub const DEFAULT_RESUME_PARAM: &str = "lastEventId";

/// Options of an [`SseClient`]; start with [`SseClient::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use sse_wasm::{Backoff, SseClient};
///
/// let client = SseClient::builder("/events")
///     .backoff(Backoff::exponential(Duration::from_millis(500)).max(Duration::from_secs(30)))
///     .idle_timeout(Some(Duration::from_secs(45)))
///     .connect()?;
/// # Ok::<(), sse_wasm::SseError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until connect() is called"]
pub struct SseClientBuilder {
    url: String,
    with_credentials: bool,
    backoff: Backoff,
    resume: bool,
    resume_param: String,
    last_event_id: String,
    reconnect_on_end: bool,
    idle_timeout: Option<Duration>,
    transport: Transport,
    method: Option<String>,
    body: Option<String>,
    headers: Vec<(String, String)>,
    header_fn: Option<HeaderFn>,
    max_event_size: usize,
}

impl SseClientBuilder {
    fn new(url: String) -> Self {
        SseClientBuilder {
            url,
            with_credentials: false,
            backoff: Backoff::default(),
            resume: true,
            resume_param: DEFAULT_RESUME_PARAM.to_owned(),
            last_event_id: String::new(),
            reconnect_on_end: true,
            idle_timeout: None,
            transport: Transport::Auto,
            method: None,
            body: None,
            headers: Vec::new(),
            header_fn: None,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
        }
    }

    /// Send cookies and credentials cross-origin (`withCredentials`). Default `false`.
    pub fn with_credentials(mut self, with_credentials: bool) -> Self {
        self.with_credentials = with_credentials;
        self
    }

    /// The reconnection policy. Default: [`Backoff::default`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Carry the last event id across reconnects. Default `true`; `false` sends no id
    /// at all, the [`last_event_id`](Self::last_event_id) option included.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// The query parameter that carries the last event id on the native transport
    /// (which cannot send headers). Default `lastEventId`.
    pub fn resume_param(mut self, name: impl Into<String>) -> Self {
        self.resume_param = name.into();
        self
    }

    /// Resume from this id on the very first request too.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self
    }

    /// Reopen a stream the server ended. Default `true`. On the native transport a
    /// stream that ends cannot be told apart from one that is lost after it opened, so
    /// `false` closes the client on either.
    pub fn reconnect_on_end(mut self, reconnect_on_end: bool) -> Self {
        self.reconnect_on_end = reconnect_on_end;
        self
    }

    /// Treat the connection as dead when no event arrives for this long, and reconnect.
    /// The timer starts with the request. Default `None` (off).
    pub fn idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// How to reach the server. Default [`Transport::Auto`]: `fetch` when a method, a
    /// body or headers are given, the browser's `EventSource` otherwise.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The request method (fetch transport). Default `GET`, or `POST` when a
    /// [`body`](Self::body) is given.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// A request body, sent with every (re)connect (fetch transport).
    ///
    /// ```no_run
    /// use sse_wasm::SseClient;
    ///
    /// // An LLM token stream: POST a prompt, read the answer as events.
    /// let client = SseClient::builder("/v1/chat")
    ///     .header("Content-Type", "application/json")
    ///     .body(r#"{"prompt": "Hello"}"#)
    ///     .connect()?;
    /// # Ok::<(), sse_wasm::SseError>(())
    /// ```
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A request header sent with every (re)connect (fetch transport). Later values of
    /// one name replace earlier ones.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Headers made anew before every (re)connect, so a token can be refreshed (fetch
    /// transport). They are sent after, and so replace, those of
    /// [`header`](Self::header).
    ///
    /// ```no_run
    /// # fn current_token() -> String { String::new() }
    /// use sse_wasm::SseClient;
    ///
    /// let client = SseClient::builder("/feed")
    ///     .headers_with(|| vec![("Authorization".into(), format!("Bearer {}", current_token()))])
    ///     .connect()?;
    /// # Ok::<(), sse_wasm::SseError>(())
    /// ```
    pub fn headers_with(mut self, make: impl Fn() -> Vec<(String, String)> + 'static) -> Self {
        self.header_fn = Some(HeaderFn::Rust(Rc::new(make)));
        self
    }

    /// A JS function that makes the headers (a record, or a promise of one).
    #[cfg(feature = "js")]
    pub(crate) fn header_script(mut self, make: js_sys::Function) -> Self {
        self.header_fn = Some(HeaderFn::Script(make));
        self
    }

    /// The largest event the fetch transport accepts, in bytes of the stream; a larger
    /// one is reported as a network error and the connection is made again, so a
    /// runaway stream cannot take unbounded memory. Default 8 MiB.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Whether the options ask for `fetch`, or an error when they ask for more than the
    /// chosen transport can do.
    fn fetch_config(&mut self) -> Result<Option<FetchConfig>, SseError> {
        let wants_fetch: Vec<&str> = [
            (!self.headers.is_empty() || self.header_fn.is_some()).then_some("headers"),
            self.method.as_ref().map(|_| "method"),
            self.body.as_ref().map(|_| "body"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let fetch = match (self.transport, wants_fetch.first()) {
            (Transport::EventSource, Some(option)) => {
                return Err(SseError::invalid(format!(
                    "{option}: the \"eventsource\" transport cannot send {}; use the \
                     \"fetch\" or \"auto\" transport",
                    wants_fetch.join(", ")
                )));
            }
            (Transport::Fetch, _) | (Transport::Auto, Some(_)) => true,
            (Transport::EventSource | Transport::Auto, None) => false,
        };
        if !fetch {
            return Ok(None);
        }
        let method = match self.method.take() {
            Some(method) => check_method(method)?,
            None if self.body.is_some() => "POST".to_owned(),
            None => "GET".to_owned(),
        };
        if self.body.is_some() && (method == "GET" || method == "HEAD") {
            return Err(SseError::invalid(format!(
                "body: a {method} request cannot have a body"
            )));
        }
        if self.max_event_size == 0 {
            return Err(SseError::invalid(
                "maxEventSize: expected a positive number of bytes",
            ));
        }
        transport::fetch::check_headers(&self.headers)?;
        Ok(Some(FetchConfig {
            method,
            body: self.body.take(),
            headers: std::mem::take(&mut self.headers),
            header_fn: self.header_fn.take(),
            with_credentials: self.with_credentials,
            max_event_size: self.max_event_size,
        }))
    }

    /// Checks the options and opens the connection.
    ///
    /// Fails with [`SseError::Invalid`] for a URL that does not parse or is not
    /// `http(s)`, an invalid backoff, an empty resume parameter name, a zero idle
    /// timeout, or a method, body or header the transport cannot send.
    pub fn connect(mut self) -> Result<SseClient, SseError> {
        self.backoff.validate()?;
        if self.resume_param.is_empty() {
            return Err(SseError::invalid("resumeParam: expected a non-empty name"));
        }
        if self.idle_timeout == Some(Duration::ZERO) {
            return Err(SseError::invalid(
                "idleTimeoutMs: expected a positive number of milliseconds or null",
            ));
        }
        let url = runtime::resolve_url(&self.url)?.href();
        let fetch = self.fetch_config()?.map(Rc::new);
        let last_event_id = if self.resume {
            self.last_event_id
        } else {
            String::new()
        };
        let config = Config {
            url,
            with_credentials: self.with_credentials,
            resume_param: self.resume.then_some(self.resume_param),
            idle_timeout: self.idle_timeout,
            fetch,
        };
        let inner = Rc::new_cyclic(|weak| Inner {
            weak: weak.clone(),
            config,
            dispatcher: Dispatcher::default(),
            core: RefCell::new(Core {
                machine: Machine::new(self.backoff, last_event_id, self.reconnect_on_end),
                generation: 0,
                connection: None,
                retry_timer: None,
                idle_timer: None,
            }),
            last_activity: Cell::new(Duration::ZERO),
        });
        inner.step(Machine::connect);
        Ok(SseClient { inner })
    }
}

struct Config {
    url: String,
    with_credentials: bool,
    /// `None` when resuming is off.
    resume_param: Option<String>,
    idle_timeout: Option<Duration>,
    /// `Some` when the fetch transport was chosen.
    fetch: Option<Rc<FetchConfig>>,
}

/// An HTTP method `fetch` will send: a token, and not one it forbids.
fn check_method(method: String) -> Result<String, SseError> {
    let is_token = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(SseError::invalid(format!(
            "method: {method:?} is not an HTTP method"
        )));
    }
    let upper = method.to_ascii_uppercase();
    if matches!(upper.as_str(), "CONNECT" | "TRACE" | "TRACK") {
        return Err(SseError::invalid(format!(
            "method: fetch does not allow {method}"
        )));
    }
    // fetch normalises these case-insensitively; do the same, so GET + body is caught.
    let normalised = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    Ok(if normalised.contains(&upper.as_str()) {
        upper
    } else {
        method
    })
}

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

struct Inner {
    weak: Weak<Inner>,
    config: Config,
    dispatcher: Dispatcher,
    core: RefCell<Core>,
    /// When the idle timer last had reason to restart; checked when it fires, so that
    /// an event costs a store instead of a new timer.
    last_activity: Cell<Duration>,
}

struct Core {
    machine: Machine,
    /// Bumped whenever the connection is let go, so signals and timers that belong to
    /// an earlier connection are ignored.
    generation: u64,
    connection: Option<Box<dyn Connection>>,
    retry_timer: Option<Timer>,
    idle_timer: Option<Timer>,
}

impl Core {
    /// Lets go of the connection and every timer.
    fn disconnect(&mut self) {
        self.generation += 1;
        self.connection = None;
        self.retry_timer = None;
        self.idle_timer = None;
    }
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

    /// Calls `handler` with every event of `event_type`, its data decoded from JSON.
    ///
    /// Data that does not decode is reported on [`on_error`](Self::on_error) as
    /// [`SseError::Decode`] and later events still arrive. Events without an `event:`
    /// field have the type `"message"`.
    pub fn on<T: DeserializeOwned + 'static>(
        &self,
        event_type: &str,
        mut handler: impl FnMut(T) + 'static,
    ) -> Subscription {
        self.add_event_handler(event_type, move |event| {
            handler(decode::json(event)?);
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
            handler(event);
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
                    let value = decode::enum_event::<E>(event)?;
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
            .dispatcher
            .registry()
            .add_error(Box::new(handler));
        Subscription::new(self.unsubscriber(), vec![id])
    }

    /// The events of `event_type`, decoded from JSON, as a `futures::Stream`.
    ///
    /// Decode failures are `Err` items (and are reported on `on_error` too); the
    /// stream ends when the client closes. Events are buffered until polled.
    pub fn subscribe<T: DeserializeOwned + 'static>(&self, event_type: &str) -> EventStream<T> {
        EventStream::new(self, event_type)
    }

    /// Drops the current connection and connects again now, resuming from the last
    /// event id. Reports no error; does nothing once closed.
    pub fn reconnect(&self) {
        self.inner.step(Machine::reconnect);
    }

    /// Closes the connection for good: cancels any pending retry, makes no further
    /// request, and reports [`ConnectionState::Closed`] once.
    pub fn close(&self) {
        self.inner.step(Machine::close);
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.inner.core.borrow().machine.state()
    }

    /// The last event id seen (or given as an option); empty until there is one.
    pub fn last_event_id(&self) -> String {
        self.inner.core.borrow().machine.last_event_id().to_owned()
    }

    /// The absolute URL of the stream, without the resume parameter.
    pub fn url(&self) -> String {
        self.inner.config.url.clone()
    }

    fn unsubscriber(&self) -> Weak<dyn Unsubscribe> {
        self.inner.weak.clone() as Weak<dyn Unsubscribe>
    }

    fn register_event_handler(
        &self,
        event_type: &str,
        handler: impl FnMut(&SseEvent) -> Result<(), SseError> + 'static,
    ) -> HandlerId {
        let (id, first) = self
            .inner
            .dispatcher
            .registry()
            .add_event(event_type, Box::new(handler));
        if first {
            if let Some(connection) = self.inner.core.borrow_mut().connection.as_mut() {
                connection.listen(event_type);
            }
        }
        id
    }

    pub(crate) fn add_event_handler(
        &self,
        event_type: &str,
        handler: impl FnMut(&SseEvent) -> Result<(), SseError> + 'static,
    ) -> Subscription {
        let id = self.register_event_handler(event_type, handler);
        Subscription::new(self.unsubscriber(), vec![id])
    }
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseClient")
            .field("url", &self.inner.config.url)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Unsubscribe for Inner {
    fn unsubscribe(&self, id: HandlerId) {
        let removed = self.dispatcher.registry().remove(id);
        if let Removed::LastOfType(event_type) = removed {
            if let Ok(mut core) = self.core.try_borrow_mut() {
                if let Some(connection) = core.connection.as_mut() {
                    connection.unlisten(&event_type);
                }
            }
        }
    }
}

impl Inner {
    /// Feeds one input to the machine and carries out what it asks for. Deliveries
    /// wait until no borrow is held, because handlers may call back into the client.
    fn step(&self, input: impl FnOnce(&mut Machine) -> Effects) {
        let mut effects = input(&mut self.core.borrow_mut().machine);
        let mut deliveries = Vec::new();
        while let Some(effect) = effects.pop_front() {
            match effect {
                Effect::Deliver(delivery) => deliveries.push(delivery),
                Effect::Connect => {
                    if let Err(error) = self.open_connection() {
                        let failure = Failure {
                            error,
                            class: FailureClass::Fatal,
                            retry_after: None,
                        };
                        let mut core = self.core.borrow_mut();
                        effects.extend(core.machine.failed(failure, runtime::now(), 0.0));
                    }
                }
                Effect::Wait(delay) => self.start_retry_timer(delay),
                Effect::Stop => self.core.borrow_mut().disconnect(),
            }
        }
        for delivery in deliveries {
            self.dispatcher.deliver(delivery);
        }
    }

    fn open_connection(&self) -> Result<(), SseError> {
        let mut core = self.core.borrow_mut();
        core.disconnect();
        let generation = core.generation;
        let weak = self.weak.clone();
        let sink = Rc::new(move |signal: Signal| {
            if let Some(inner) = weak.upgrade() {
                inner.on_signal(generation, signal);
            }
        });
        let connection = match &self.config.fetch {
            // The real Last-Event-ID header; the URL stays as given.
            Some(fetch) => {
                let last_event_id = self
                    .config
                    .resume_param
                    .is_some()
                    .then(|| core.machine.last_event_id().to_owned());
                transport::fetch::open(&self.config.url, last_event_id, fetch.clone(), sink)?
            }
            None => {
                let resume = self
                    .config
                    .resume_param
                    .as_deref()
                    .map(|name| (name, core.machine.last_event_id()));
                let url = runtime::request_url(&self.config.url, resume);
                let request = Request {
                    url: &url,
                    with_credentials: self.config.with_credentials,
                    event_types: self.dispatcher.registry().event_types(),
                };
                transport::eventsource::open(request, sink)?
            }
        };
        core.connection = Some(connection);
        self.last_activity.set(runtime::now());
        if let Some(timeout) = self.config.idle_timeout {
            core.idle_timer = Some(self.idle_timer(generation, timeout));
        }
        Ok(())
    }

    fn start_retry_timer(&self, delay: Duration) {
        let mut core = self.core.borrow_mut();
        core.disconnect();
        let (generation, weak) = (core.generation, self.weak.clone());
        core.retry_timer = Some(Timer::new(delay, move || {
            if let Some(inner) = weak.upgrade() {
                if inner.core.borrow().generation == generation {
                    inner.step(Machine::connect);
                }
            }
        }));
    }

    fn idle_timer(&self, generation: u64, after: Duration) -> Timer {
        let weak = self.weak.clone();
        Timer::new(after, move || {
            if let Some(inner) = weak.upgrade() {
                inner.on_idle_timer(generation);
            }
        })
    }

    fn on_idle_timer(&self, generation: u64) {
        let Some(timeout) = self.config.idle_timeout else {
            return;
        };
        if self.core.borrow().generation != generation {
            return;
        }
        let quiet = runtime::now().saturating_sub(self.last_activity.get());
        if quiet < timeout {
            let timer = self.idle_timer(generation, timeout - quiet);
            self.core.borrow_mut().idle_timer = Some(timer);
            return;
        }
        self.fail(Failure {
            error: SseError::Idle { timeout },
            class: FailureClass::Retryable,
            retry_after: None,
        });
    }

    fn on_signal(&self, generation: u64, signal: Signal) {
        if self.core.borrow().generation != generation {
            return;
        }
        match signal {
            Signal::Opened => self.step(|machine| machine.opened(runtime::now())),
            Signal::Event {
                event_type,
                data,
                id,
            } => {
                let last_event_id = {
                    let mut core = self.core.borrow_mut();
                    core.machine.event(id);
                    core.machine.last_event_id().to_owned()
                };
                if self.dispatcher.registry().has_event_handlers(&event_type) {
                    self.dispatcher.deliver(Delivery::Event(SseEvent {
                        event_type,
                        data,
                        last_event_id,
                    }));
                }
            }
            Signal::Id(id) => self.core.borrow_mut().machine.id(id),
            Signal::Activity => {
                // Read the clock only when an idle timer will ask.
                if self.config.idle_timeout.is_some() {
                    self.last_activity.set(runtime::now());
                }
            }
            Signal::Retry(retry) => self.core.borrow_mut().machine.server_retry(retry),
            Signal::Failed(failure) => self.fail(failure),
        }
    }

    fn fail(&self, failure: Failure) {
        self.step(|machine| machine.failed(failure, runtime::now(), runtime::random()));
    }
}
