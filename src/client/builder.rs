//! [`SseClientBuilder`]: every option of a client, checked in one place.

use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::delivery::RustDelivery;
use super::driver::{Config, Driver};
use super::link::Link;
#[cfg(feature = "share")]
use super::share::Shared;
use super::SseClient;
use crate::backoff::Backoff;
use crate::delivery::StreamEnd;
use crate::event::SseError;
use crate::machine::Machine;
use crate::parser::DEFAULT_MAX_EVENT_SIZE;
use crate::runtime;
use crate::transport::{self, FetchConfig, HeaderFn, HeaderFuture, Transport};

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
#[derive(Clone)]
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
    end: StreamEnd,
    #[cfg(feature = "share")]
    share: Option<String>,
    pause_when_hidden: Option<Duration>,
}

impl SseClientBuilder {
    pub(super) fn new(url: String) -> Self {
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
            end: StreamEnd::default(),
            #[cfg(feature = "share")]
            share: None,
            pause_when_hidden: None,
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
        self.header_fn = Some(Rc::new(move || {
            let headers = make();
            Box::pin(std::future::ready(Ok(headers))) as HeaderFuture
        }));
        self
    }

    /// Headers made anew before every (re)connect by an async function, e.g. one that
    /// fetches a fresh token first (fetch transport). An `Err` is reported on
    /// [`on_error`](SseClient::on_error) and that attempt is retried like a failed
    /// request, except [`SseError::Invalid`], which closes the client.
    ///
    /// ```no_run
    /// # async fn fetch_token() -> Result<String, sse_wasm::SseError> { Ok(String::new()) }
    /// use sse_wasm::SseClient;
    ///
    /// let client = SseClient::builder("/feed")
    ///     .headers_with_async(|| async {
    ///         let token = fetch_token().await?;
    ///         Ok(vec![("Authorization".into(), format!("Bearer {token}"))])
    ///     })
    ///     .connect()?;
    /// # Ok::<(), sse_wasm::SseError>(())
    /// ```
    pub fn headers_with_async<F, Fut>(mut self, make: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<Vec<(String, String)>, SseError>> + 'static,
    {
        self.header_fn = Some(Rc::new(move || Box::pin(make()) as HeaderFuture));
        self
    }

    /// The largest event the fetch transport accepts, in bytes of the stream; a larger
    /// one is reported as a network error and the connection is made again, so a
    /// runaway stream cannot take unbounded memory. Default 64 MiB
    /// ([`DEFAULT_MAX_EVENT_SIZE`](crate::parser::DEFAULT_MAX_EVENT_SIZE)).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// An event of this type ends the stream: it is delivered, then the client closes
    /// (state `Closed`, no error, no further request). For one-shot jobs whose server
    /// sends a last event of its own type.
    ///
    /// ```
    /// # use sse_wasm::SseClient;
    /// let builder = SseClient::builder("/jobs/42/progress").end_on_type("done");
    /// ```
    pub fn end_on_type(mut self, event_type: impl Into<String>) -> Self {
        self.end.event_type = Some(event_type.into());
        self
    }

    /// An event whose data is exactly `data` ends the stream: it is not delivered, and
    /// the client closes (state `Closed`, no error, no further request). It applies to
    /// `message` events and to every type with a handler: LLM answers end with
    /// `data: [DONE]`.
    ///
    /// ```
    /// # use sse_wasm::SseClient;
    /// let builder = SseClient::builder("/v1/completions")
    ///     .body(r#"{"prompt":"Hello","stream":true}"#)
    ///     .reconnect_on_end(false)
    ///     .end_on_data("[DONE]");
    /// ```
    pub fn end_on_data(mut self, data: impl Into<String>) -> Self {
        self.end.data = Some(data.into());
        self
    }

    /// Share one connection with every client of this name in every tab, window and
    /// same-origin frame of the browser profile (feature `share`, on by default).
    ///
    /// One client leads: it holds the Web Lock `sse-wasm:` + `name`, connects with its
    /// own options and relays every event, state and error over the
    /// `BroadcastChannel` of the same name; the others ([`Role::Follower`](crate::Role))
    /// open no connection and get every event of their types, in server order, with
    /// the same data and last event id. When the leader's tab goes (or its client is
    /// closed or dropped) the next client in line takes over and resumes from the
    /// newest id any of them saw. Give every client of a name the same URL and options:
    /// the leader's apply. Where Web Locks or `BroadcastChannel` are missing the client
    /// connects on its own ([`Role::Solo`](crate::Role)). The npm API's `share` option
    /// speaks the same protocol.
    ///
    /// ```no_run
    /// # use sse_wasm::SseClient;
    /// let prices = SseClient::builder("/prices").share("prices").connect()?;
    /// println!("{}", prices.role()); // "leader" in one tab, "follower" in the others
    /// # Ok::<(), sse_wasm::SseError>(())
    /// ```
    #[cfg(feature = "share")]
    #[cfg_attr(docsrs, doc(cfg(feature = "share")))]
    pub fn share(mut self, name: impl Into<String>) -> Self {
        self.share = Some(name.into());
        self
    }

    /// Close the connection once the page has been hidden for this long (state
    /// [`Paused`](crate::ConnectionState::Paused)), and reconnect, resuming from the
    /// last event id, when it is visible again. Never pauses while the page is visible;
    /// `Some(Duration::ZERO)` pauses as soon as it is hidden. Default `None`: never
    /// pause. In a worker (no document) it has no effect.
    ///
    /// Whatever this option says, a client reconnects at once (the rest of a backoff
    /// wait skipped, the attempt count kept) when the browser comes back `online` or a
    /// hidden page becomes visible, and it closes its connection when the page goes
    /// into the back/forward cache and resumes when the page is restored from it.
    /// [`reconnect`](SseClient::reconnect) on a paused client connects at once; if the
    /// page is still hidden, the pause timer starts again.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use sse_wasm::SseClient;
    /// let builder = SseClient::builder("/events").pause_when_hidden(Some(Duration::from_secs(60)));
    /// ```
    pub fn pause_when_hidden(mut self, after: Option<Duration>) -> Self {
        self.pause_when_hidden = after;
        self
    }

    /// Whether the options ask for `fetch`, or an error when they ask for more than the
    /// chosen transport can do.
    fn fetch_config(&mut self) -> Result<Option<FetchConfig>, SseError> {
        // What only fetch can send, by option name.
        let mut wants_fetch = String::new();
        for (given, option) in [
            (
                !self.headers.is_empty() || self.header_fn.is_some(),
                "headers",
            ),
            (self.method.is_some(), "method"),
            (self.body.is_some(), "body"),
        ] {
            if given {
                if !wants_fetch.is_empty() {
                    wants_fetch.push_str(", ");
                }
                wants_fetch.push_str(option);
            }
        }
        let first = wants_fetch
            .split(',')
            .next()
            .filter(|option| !option.is_empty());
        let fetch = match (self.transport, first) {
            (Transport::EventSource, Some(option)) => {
                return Err(SseError::invalid(format!(
                    "{option}: the \"eventsource\" transport cannot send {wants_fetch}; use \
                     the \"fetch\" or \"auto\" transport"
                )));
            }
            (Transport::Fetch, _) | (Transport::Auto, Some(_)) => true,
            (Transport::EventSource | Transport::Auto, None) => false,
        };
        if !fetch {
            return Ok(None);
        }
        let method = match self.method.take() {
            Some(method) => transport::fetch::check_method(method)?,
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
                "max_event_size: expected a positive number of bytes",
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

    /// Checks every option: the driver's configuration and its state machine, or
    /// [`SseError::Invalid`] saying what is wrong.
    pub(crate) fn validate(mut self) -> Result<(Config, Machine), SseError> {
        self.backoff.validate()?;
        #[cfg(feature = "share")]
        if self.share.as_deref() == Some("") {
            return Err(SseError::invalid("share: expected a non-empty share name"));
        }
        if self.resume_param.is_empty() {
            return Err(SseError::invalid("resume_param: expected a non-empty name"));
        }
        if self.idle_timeout == Some(Duration::ZERO) {
            return Err(SseError::invalid(
                "idle_timeout: expected a positive duration or None",
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
            pause_when_hidden: self.pause_when_hidden,
        };
        let machine = Machine::new(self.backoff, last_event_id, self.reconnect_on_end);
        Ok((config, machine))
    }

    /// Checks the options and opens the connection.
    ///
    /// Fails with [`SseError::Invalid`] for a URL that does not parse or is not
    /// `http(s)`, an invalid backoff, an empty resume parameter name, a zero idle
    /// timeout, or a method, body or header the transport cannot send.
    pub fn connect(self) -> Result<SseClient, SseError> {
        let end = self.end.clone();
        #[cfg(feature = "share")]
        let share = self.share.clone();
        let (config, machine) = self.validate()?;
        let delivery = RustDelivery::new(end);
        // Without Web Locks or BroadcastChannel: a connection of its own.
        #[cfg(feature = "share")]
        if let Some(name) = share.filter(|_| Shared::possible()) {
            let shared = Shared::join(&name, config, machine, delivery.clone());
            return Ok(SseClient::new(Link::Shared(shared), delivery));
        }
        let driver = Driver::start(config, machine, delivery.clone());
        // Events arrive in later tasks, so the delivery knows its driver in time to
        // close it at the end of the stream.
        delivery.attach(&driver);
        Ok(SseClient::new(Link::Solo(driver), delivery))
    }
}

/// Two builders are equal when they describe the same connection: the same URL and
/// settings, and the same header function (the same closure, shared by cloning the
/// builder; two closures are never equal, even with the same code).
impl PartialEq for SseClientBuilder {
    fn eq(&self, other: &Self) -> bool {
        let same_header_fn = match (&self.header_fn, &other.header_fn) {
            (None, None) => true,
            (Some(mine), Some(theirs)) => Rc::ptr_eq(mine, theirs),
            _ => false,
        };
        same_header_fn
            && self.url == other.url
            && self.with_credentials == other.with_credentials
            && self.backoff == other.backoff
            && self.resume == other.resume
            && self.resume_param == other.resume_param
            && self.last_event_id == other.last_event_id
            && self.reconnect_on_end == other.reconnect_on_end
            && self.idle_timeout == other.idle_timeout
            && self.transport == other.transport
            && self.method == other.method
            && self.body == other.body
            && self.headers == other.headers
            && self.max_event_size == other.max_event_size
            && self.end == other.end
            && self.shared_by() == other.shared_by()
            && self.pause_when_hidden == other.pause_when_hidden
    }
}

impl SseClientBuilder {
    /// The share name, if the client shares.
    fn shared_by(&self) -> Option<&str> {
        #[cfg(feature = "share")]
        return self.share.as_deref();
        #[cfg(not(feature = "share"))]
        None
    }
}

impl fmt::Debug for SseClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseClientBuilder")
            .field("url", &self.url)
            .field("with_credentials", &self.with_credentials)
            .field("backoff", &self.backoff)
            .field("resume", &self.resume)
            .field("resume_param", &self.resume_param)
            .field("last_event_id", &self.last_event_id)
            .field("reconnect_on_end", &self.reconnect_on_end)
            .field("idle_timeout", &self.idle_timeout)
            .field("transport", &self.transport)
            .field("method", &self.method)
            .field("body", &self.body)
            .field("headers", &self.headers)
            .field("header_fn", &self.header_fn.as_ref().map(|_| "<function>"))
            .field("max_event_size", &self.max_event_size)
            .field("end", &self.end)
            .field("share", &self.shared_by())
            .field("pause_when_hidden", &self.pause_when_hidden)
            .finish()
    }
}
