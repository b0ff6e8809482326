//! The values a client hands to its handlers: events, connection states and errors.

use std::fmt;
use std::time::Duration;

use crate::text::decimal;

/// One event as the server sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `"message"` when the server sent none.
    pub event_type: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen on this client so far (carried across reconnects).
    pub last_event_id: String,
}

/// Where a client is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// A request is under way.
    Connecting,
    /// The server accepted the stream.
    Open,
    /// The connection was lost; the next request starts after `delay`.
    Reconnecting {
        /// 1 for the first reconnect since the connection was last healthy.
        attempt: u32,
        /// The wait before the next request, jitter and server floors included.
        delay: Duration,
    },
    /// The page has been hidden for longer than
    /// [`pause_when_hidden`](crate::SseClientBuilder::pause_when_hidden) allows, or it
    /// went into the back/forward cache: the connection is closed, and it is made
    /// again, resuming from the last event id, when the page is visible (or restored)
    /// again.
    Paused,
    /// Closed for good: by [`close`](crate::SseClient::close), by dropping the last
    /// handle, by a fatal failure or by running out of retries.
    Closed,
}

impl ConnectionState {
    /// For `Reconnecting`, the attempt and the delay in milliseconds, as the sharing
    /// relay carries them (the npm API's `onState` detail); `(None, None)` otherwise.
    #[cfg(feature = "share")]
    pub(crate) fn retry_detail(&self) -> (Option<u32>, Option<f64>) {
        match *self {
            ConnectionState::Reconnecting { attempt, delay } => {
                (Some(attempt), Some(crate::millis::of(delay)))
            }
            _ => (None, None),
        }
    }

    /// The name used by the npm API: `"connecting"`, `"open"`, `"reconnecting"`,
    /// `"paused"` or `"closed"`; `Display` prints the same.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Open => "open",
            ConnectionState::Reconnecting { .. } => "reconnecting",
            ConnectionState::Paused => "paused",
            ConnectionState::Closed => "closed",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client's part in a shared connection
/// ([`SseClientBuilder::share`](crate::SseClientBuilder::share)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// It does not share (or cannot, where Web Locks or `BroadcastChannel` are
    /// missing): it has a connection of its own.
    Solo,
    /// It holds the share's lock, and its connection serves every client of the share.
    Leader,
    /// It gets the leader's events, states and errors, and opens no connection.
    Follower,
}

impl Role {
    /// The name used by the npm API: `"solo"`, `"leader"` or `"follower"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Solo => "solo",
            Role::Leader => "leader",
            Role::Follower => "follower",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong, reported on the error channel
/// ([`on_error`](crate::SseClient::on_error)) or returned by the builder.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseError {
    /// An event's data did not decode into the handler's type. The stream goes on.
    Decode {
        /// The event's type.
        event_type: String,
        /// The raw data that failed to decode.
        data: String,
        /// The decoder's message.
        message: String,
    },
    /// The server answered with a status that is not 200 (fetch transport).
    Http {
        /// The HTTP status code.
        status: u16,
        /// What the status means for the client.
        message: String,
    },
    /// The connection failed or was lost, or the server ended the stream.
    Network {
        /// What happened, as far as the transport can tell.
        message: String,
    },
    /// The response's media type was not `text/event-stream`.
    ContentType {
        /// The Content-Type the server sent.
        content_type: String,
    },
    /// Nothing arrived within the idle timeout, so the connection was treated as dead.
    Idle {
        /// The configured idle timeout.
        timeout: Duration,
    },
    /// The retry budget was spent; the client is closed.
    RetriesExhausted {
        /// How many reconnects were made.
        attempts: u32,
    },
    /// A URL or option was not acceptable.
    Invalid {
        /// What was wrong and what was expected.
        message: String,
    },
}

impl SseError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        SseError::Invalid {
            message: message.into(),
        }
    }

    pub(crate) fn network(message: impl Into<String>) -> Self {
        SseError::Network {
            message: message.into(),
        }
    }

    /// The npm API's `kind`: `"decode"`, `"http"`, `"network"`, `"content-type"`,
    /// `"idle"`, `"retries-exhausted"` or `"invalid"`.
    pub fn kind(&self) -> &'static str {
        match self {
            SseError::Decode { .. } => "decode",
            SseError::Http { .. } => "http",
            SseError::Network { .. } => "network",
            SseError::ContentType { .. } => "content-type",
            SseError::Idle { .. } => "idle",
            SseError::RetriesExhausted { .. } => "retries-exhausted",
            SseError::Invalid { .. } => "invalid",
        }
    }
}

impl SseError {
    /// What `Display` prints, put together without `core::fmt` (see [`crate::text`]).
    /// The npm face words its errors in JS alike (`bindings/js_driver.js`).
    pub(crate) fn describe(&self) -> String {
        match self {
            SseError::Decode {
                event_type,
                message,
                ..
            } => ["could not decode a \"", event_type, "\" event: ", message].concat(),
            SseError::Http { status, message } => {
                ["HTTP ", &decimal(u64::from(*status)), ": ", message].concat()
            }
            SseError::Network { message } => ["network: ", message].concat(),
            SseError::ContentType { content_type } => [
                "expected Content-Type text/event-stream, got \"",
                content_type,
                "\"",
            ]
            .concat(),
            SseError::Idle { timeout } => {
                let ms = decimal(crate::millis::whole(*timeout));
                ["nothing arrived for ", &ms, " ms"].concat()
            }
            SseError::RetriesExhausted { attempts } => {
                let attempts = decimal(u64::from(*attempts));
                ["gave up after ", &attempts, " reconnect attempts"].concat()
            }
            SseError::Invalid { message } => ["invalid: ", message].concat(),
        }
    }
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for SseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_the_npm_contract() {
        let cases = [
            (SseError::invalid("x"), "invalid"),
            (SseError::network("x"), "network"),
            (
                SseError::RetriesExhausted { attempts: 3 },
                "retries-exhausted",
            ),
            (
                SseError::Idle {
                    timeout: Duration::from_secs(1),
                },
                "idle",
            ),
            (
                SseError::ContentType {
                    content_type: "text/plain".into(),
                },
                "content-type",
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind);
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn decode_errors_name_the_event_type() {
        let error = SseError::Decode {
            event_type: "tick".into(),
            data: "{".into(),
            message: "EOF while parsing".into(),
        };
        assert_eq!(
            error.to_string(),
            "could not decode a \"tick\" event: EOF while parsing"
        );
    }

    #[test]
    fn states_have_npm_names() {
        let reconnecting = ConnectionState::Reconnecting {
            attempt: 2,
            delay: Duration::from_millis(200),
        };
        assert_eq!(reconnecting.as_str(), "reconnecting");
        assert_eq!(ConnectionState::Open.to_string(), "open");
        assert_eq!(ConnectionState::Paused.as_str(), "paused");
        assert_eq!(ConnectionState::Paused.to_string(), "paused");
    }
}
