//! The ways of reaching a server. A transport opens one connection per request and
//! reports what happens on it as [`Signal`]s; the client owns every decision about
//! retrying. Dropping a connection closes it and frees everything it registered.

use std::rc::Rc;
use std::time::Duration;

use crate::SseError;

pub(crate) mod eventsource;

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
    /// uses it when a connection cannot even be made); the fetch transport will report
    /// it for 204, most 4xx and a wrong Content-Type.
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
