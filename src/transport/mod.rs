//! The ways of reaching a server. A transport opens one connection per request and
//! reports what happens on it as [`Signal`]s; the client owns every decision about
//! retrying. Dropping a connection closes it and frees everything it registered.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::SseError;

pub(crate) mod eventsource;
pub(crate) mod fetch;
pub(crate) mod status;

/// How a client reaches its server.
///
/// The browser's `EventSource` is the leanest, but it cannot send headers, a method or
/// a body, never shows an HTTP status, and can resume only through a query parameter.
/// `fetch` can do all of that and sends the real `Last-Event-ID` header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// `Fetch` when a method, a body or headers are given, else `EventSource`.
    #[default]
    Auto,
    /// The browser's `EventSource`.
    EventSource,
    /// `fetch` and a `ReadableStream`, parsed in wasm.
    Fetch,
}

impl Transport {
    /// The name used by the npm options: `"auto"`, `"eventsource"` or `"fetch"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Auto => "auto",
            Transport::EventSource => "eventsource",
            Transport::Fetch => "fetch",
        }
    }
}

/// Headers made before every request, so tokens stay fresh.
#[derive(Clone)]
pub(crate) enum HeaderFn {
    /// A Rust function.
    Rust(Rc<dyn Fn() -> Vec<(String, String)>>),
    /// A JS function that returns a record of headers or a promise of one.
    #[cfg(feature = "js")]
    Script(js_sys::Function),
}

impl fmt::Debug for HeaderFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderFn::Rust(_) => "HeaderFn::Rust(..)",
            #[cfg(feature = "js")]
            HeaderFn::Script(_) => "HeaderFn::Script(..)",
        })
    }
}

/// What every request of the fetch transport sends.
#[derive(Debug)]
pub(crate) struct FetchConfig {
    pub(crate) method: String,
    pub(crate) body: Option<String>,
    /// Sent first; the header function's may replace them.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_fn: Option<HeaderFn>,
    pub(crate) with_credentials: bool,
    pub(crate) max_event_size: usize,
}

/// What a connection reports to its client.
pub(crate) enum Signal {
    /// The server accepted the stream.
    Opened,
    /// An event arrived. `id` is the stream's last-event-id buffer if this connection
    /// has set it, `None` while it has not (then the client keeps the id it carried).
    Event {
        event_type: String,
        data: String,
        id: Option<String>,
    },
    /// The server committed a new last event id without an event (`id:` then a blank
    /// line with no data).
    Id(String),
    /// The connection showed it is alive: the fetch transport reports any bytes
    /// (comments included), the native one every event, since it sees nothing else.
    Activity,
    /// The server's `retry:` field: the least wait before a reconnect from now on.
    Retry(Duration),
    /// The connection failed, was lost or ended.
    Failed(Failure),
}

/// How a connection ended, and whether trying again can help.
pub(crate) struct Failure {
    pub(crate) error: SseError,
    pub(crate) class: FailureClass,
    /// A server's `Retry-After`: the least wait before the next request.
    pub(crate) retry_after: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// Worth another try after the backoff delay.
    Retryable,
    /// The server ended the stream (or, on the native transport, the stream was lost
    /// after it opened, which it cannot tell apart). Retried unless `reconnect_on_end`
    /// is off.
    Ended,
    /// Trying again cannot help: close. The native transport cannot tell (the client
    /// uses it when a connection cannot even be made); the fetch transport reports it
    /// for 204, most 4xx and a wrong Content-Type.
    Fatal,
}

/// Where a connection sends its signals.
pub(crate) type SignalSink = Rc<dyn Fn(Signal)>;

/// One request to open.
pub(crate) struct Request<'a> {
    pub(crate) url: &'a str,
    pub(crate) with_credentials: bool,
    /// Event types with handlers at the time of the request.
    pub(crate) event_types: Vec<String>,
}

/// A live connection.
pub(crate) trait Connection {
    /// Starts delivering events of this type (a transport that delivers every type
    /// anyway ignores it).
    fn listen(&mut self, event_type: &str);
    /// Stops delivering events of this type.
    fn unlisten(&mut self, event_type: &str);
}
