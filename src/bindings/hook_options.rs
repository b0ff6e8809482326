//! What the Leptos and Yew bindings share: what a hook connects to ([`SseOptions`]),
//! how it connects ([`open`]) and how it keeps the last events of a type
//! ([`push_recent`]).

use std::fmt;

use crate::client::{SseClient, SseClientBuilder};
use crate::dispatch::Subscription;
use crate::event::{ConnectionState, SseError};

/// What a hook or provider connects to: a URL with the default options, or a
/// configured [`SseClientBuilder`] (every option of the builder, such as
/// [`pause_when_hidden`](SseClientBuilder::pause_when_hidden), reaches the hooks and
/// providers this way).
///
/// Every hook takes `impl Into<SseOptions>`, so a `&str`, a `String` or a builder can be
/// passed directly:
///
/// ```
/// use std::time::Duration;
/// use sse_wasm::{Backoff, SseClient};
/// # #[cfg(feature = "leptos")] use sse_wasm::leptos::SseOptions;
/// # #[cfg(all(feature = "yew", not(feature = "leptos")))] use sse_wasm::yew::SseOptions;
///
/// let plain: SseOptions = "/events".into();
/// let tuned: SseOptions = SseClient::builder("/events")
///     .backoff(Backoff::exponential(Duration::from_millis(250)))
///     // Close the stream of a page hidden for a minute; resume when it is visible.
///     .pause_when_hidden(Some(Duration::from_secs(60)))
///     .into();
/// assert_ne!(plain, tuned);
///
/// // A header function is compared by identity: a clone shares it, another closure
/// // (even the same code) is a change, and the hooks connect anew with it.
/// let token = |value: &'static str| move || vec![("authorization".to_owned(), value.to_owned())];
/// let with_a: SseOptions = SseClient::builder("/events").headers_with(token("a")).into();
/// assert_eq!(with_a, with_a.clone());
/// let with_b: SseOptions = SseClient::builder("/events").headers_with(token("b")).into();
/// assert_ne!(with_a, with_b);
/// ```
///
/// Nothing is checked or opened until a hook connects (in an effect, in the browser);
/// an invalid URL then shows up as the hook's error and a `closed` state.
///
/// Two options are equal when they describe the same connection: the same URL, the
/// same settings and the same header function (see [`SseClientBuilder`]'s
/// `PartialEq`). The Yew hooks reconnect when their options change.
#[derive(Clone, PartialEq)]
pub struct SseOptions {
    builder: SseClientBuilder,
}

impl SseOptions {
    /// Options from a configured builder.
    pub fn new(builder: SseClientBuilder) -> Self {
        SseOptions { builder }
    }

    /// The same options, sharing one connection among tabs under `name` when given (a
    /// provider's `share` prop; see [`SseClientBuilder::share`]).
    pub(crate) fn shared_as(self, name: Option<String>) -> Self {
        match name {
            Some(name) => SseOptions::new(self.builder.share(name)),
            None => self,
        }
    }

    /// Opens the connection these options describe.
    pub(crate) fn connect(&self) -> Result<SseClient, SseError> {
        self.builder.clone().connect()
    }
}

impl fmt::Debug for SseOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.builder.fmt(f)
    }
}

impl From<SseClientBuilder> for SseOptions {
    fn from(builder: SseClientBuilder) -> Self {
        SseOptions::new(builder)
    }
}

impl From<&str> for SseOptions {
    fn from(url: &str) -> Self {
        SseOptions::new(SseClient::builder(url))
    }
}

impl From<String> for SseOptions {
    fn from(url: String) -> Self {
        SseOptions::new(SseClient::builder(url))
    }
}

impl From<&String> for SseOptions {
    fn from(url: &String) -> Self {
        SseOptions::new(SseClient::builder(url.as_str()))
    }
}

/// A connection a hook opened: the client, and the handlers that report its state and
/// errors to the hook. Drop the handlers before closing the client: closing must not
/// report to a component that is going away.
pub(crate) struct Opened {
    pub(crate) client: SseClient,
    pub(crate) watchers: [Subscription; 2],
}

/// Connects as `options` say and reports every state and error; the current state is
/// reported at once. Options that cannot connect are reported as their error and the
/// `Closed` state, and open nothing.
pub(crate) fn open(
    options: &SseOptions,
    on_state: impl Fn(ConnectionState) + Clone + 'static,
    on_error: impl Fn(SseError) + 'static,
) -> Option<Opened> {
    match options.connect() {
        Ok(client) => {
            let watchers = [
                client.on_state(on_state.clone()),
                client.on_error(move |error| on_error(error.clone())),
            ];
            on_state(client.state());
            Some(Opened { client, watchers })
        }
        Err(invalid) => {
            on_error(invalid);
            on_state(ConnectionState::Closed);
            None
        }
    }
}

/// Appends `value` to `events`, keeping the last `limit` of them (none when `limit` is
/// 0), oldest first.
pub(crate) fn push_recent<T>(events: &mut Vec<T>, limit: usize, value: T) {
    if limit == 0 {
        return;
    }
    if events.len() >= limit {
        events.drain(..=events.len() - limit);
    }
    events.push(value);
}

#[cfg(test)]
mod tests {
    use super::push_recent;

    #[test]
    fn the_last_events_are_kept_oldest_first() {
        let mut events = Vec::new();
        for value in 1..=5 {
            push_recent(&mut events, 3, value);
        }
        assert_eq!(events, [3, 4, 5]);
        let mut none = Vec::new();
        push_recent(&mut none, 0, 1);
        assert!(none.is_empty());
        // A limit lowered below what is kept drops the oldest at the next event.
        push_recent(&mut events, 2, 6);
        assert_eq!(events, [5, 6]);
    }
}
