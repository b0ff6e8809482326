//! The ways of reaching a server. A transport opens one connection per request and
//! reports what happens on it as [`Signal`]s; the client owns every decision about
//! retrying. Dropping a connection closes it and frees everything it registered.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use crate::delivery::Delivery;
use crate::event::SseError;
use crate::machine::Failure;
use crate::parser::ParsedEvent;

pub(crate) mod eventsource;
pub(crate) mod fetch;
mod listener;
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

/// What a header hook gives for one request: the headers, or why there are none. An
/// [`SseError::Invalid`] is fatal (the hook made something no request can carry);
/// anything else counts as a failed attempt and is retried.
pub(crate) type HeaderFuture =
    Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, SseError>>>>;

/// Headers made before every request, so tokens stay fresh.
pub(crate) type HeaderFn = Rc<dyn Fn() -> HeaderFuture>;

/// What every request of the fetch transport sends.
pub(crate) struct FetchConfig {
    pub(crate) method: String,
    pub(crate) body: Option<String>,
    /// Sent first; the header hook's may replace them.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_fn: Option<HeaderFn>,
    pub(crate) with_credentials: bool,
    pub(crate) max_event_size: usize,
}

/// What a connection reports to its client. Events of the native transport do not
/// pass here: they go straight to the client's [`Delivery`] listeners.
pub(crate) enum Signal<'a> {
    /// The server accepted the stream.
    Opened,
    /// The fetch transport parsed an event (borrowed from the parser).
    Event(ParsedEvent<'a>),
    /// The server committed a last event id without an event (`id:` then a blank line
    /// with no data): the id to resume from, which may be the one the last event had.
    Id(&'a str),
    /// The events of the current chunk are all parsed.
    ChunkEnd,
    /// Bytes arrived (comments included): the connection is alive.
    Activity,
    /// The server's `retry:` field: the least wait before a reconnect from now on.
    Retry(Duration),
    /// The connection failed, was lost or ended.
    Failed(Failure),
}

/// Where a connection sends its signals.
pub(crate) type SignalSink = Rc<dyn Fn(Signal<'_>)>;

/// One request of the fetch transport.
pub(crate) struct FetchRequest<'a> {
    pub(crate) url: &'a str,
    /// The id to resume from; `None` or empty sends no `Last-Event-ID`.
    pub(crate) last_event_id: Option<&'a str>,
    pub(crate) config: Rc<FetchConfig>,
}

/// One request of the native transport.
pub(crate) struct Request<'a> {
    pub(crate) url: &'a str,
    pub(crate) with_credentials: bool,
    /// Makes the listeners of the event types that have handlers.
    pub(crate) delivery: Rc<dyn Delivery>,
}

/// A live connection.
pub(crate) trait Connection {
    /// Starts delivering events of this type (a transport that delivers every type
    /// anyway ignores it).
    fn listen(&mut self, event_type: &str);
    /// Stops delivering events of this type.
    fn unlisten(&mut self, event_type: &str);
}
