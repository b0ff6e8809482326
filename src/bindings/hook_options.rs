//! What a framework hook connects to, shared by the Leptos and Yew bindings.

use std::fmt;

use crate::{SseClient, SseClientBuilder, SseError};

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
/// ```
///
/// Nothing is checked or opened until a hook connects (in an effect, in the browser);
/// an invalid URL then shows up as the hook's error and a `closed` state.
///
/// Two options are equal when they describe the same connection: the same URL and the
/// same settings. The Yew hooks reconnect when their options change.
#[derive(Clone)]
pub struct SseOptions {
    builder: SseClientBuilder,
    /// The builder's `Debug` text: every setting, so a cheap and complete equality.
    key: String,
}

impl SseOptions {
    /// Options from a configured builder.
    pub fn new(builder: SseClientBuilder) -> Self {
        let key = format!("{builder:?}");
        SseOptions { builder, key }
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

impl PartialEq for SseOptions {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
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
