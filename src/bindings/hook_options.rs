//! What a framework hook connects to, shared by the Leptos and Yew bindings.

use std::fmt;

use crate::client::{SseClient, SseClientBuilder};
use crate::event::SseError;

/// What a hook or provider connects to: a URL with the default options, or a
/// configured [`SseClientBuilder`].
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
