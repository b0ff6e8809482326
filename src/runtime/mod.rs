//! The few browser facilities the client needs beyond EventSource: a monotonic clock
//! and random draws (here), the count of live closures (`live.rs`), timers
//! (`timer.rs`) and URL resolution (`url.rs`). They work in windows and in workers
//! alike, which is why they are bound on the global object rather than through
//! `Window`.

mod live;
mod timer;
mod url;

#[cfg(feature = "test-hooks")]
pub use live::live_closures;
pub(crate) use live::{LiveToken, Tracked};
pub(crate) use timer::Timer;
pub(crate) use url::{request_url, resolve_url};

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Time since the page's time origin; only differences matter.
pub(crate) fn now() -> Duration {
    crate::millis::duration(performance_now()).unwrap_or(Duration::ZERO)
}

/// A draw from `[0, 1)` for jitter.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// The message of a thrown JS value: an `Error`'s message, a thrown string, or a
/// placeholder.
pub(crate) fn js_error_message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}
