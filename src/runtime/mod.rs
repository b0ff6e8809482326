//! The few browser facilities the client needs beyond EventSource: a monotonic clock,
//! random draws, timers and URL resolution. They work in windows and in workers alike,
//! which is why they are bound on the global object rather than through `Window`.

use std::cell::Cell;
use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::SseError;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, timeout_ms: i32) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);

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

thread_local! {
    static LIVE_CLOSURES: Cell<usize> = const { Cell::new(0) };
}

/// A JS closure that counts itself while alive, so tests and benchmarks can prove that
/// every closure the library hands to the browser is dropped again.
pub(crate) struct Tracked<T: ?Sized> {
    closure: Closure<T>,
}

impl<T: ?Sized> Tracked<T> {
    pub(crate) fn new(closure: Closure<T>) -> Self {
        LIVE_CLOSURES.with(|live| live.set(live.get() + 1));
        Tracked { closure }
    }

    pub(crate) fn function(&self) -> &js_sys::Function {
        self.closure.as_ref().unchecked_ref()
    }
}

impl<T: ?Sized> Drop for Tracked<T> {
    fn drop(&mut self) {
        LIVE_CLOSURES.with(|live| live.set(live.get().saturating_sub(1)));
    }
}

/// Counts something the library hands to the browser for as long as it lives: a fetch
/// connection's task, which owns the closures of the promises it waits on.
pub(crate) struct LiveToken(());

impl LiveToken {
    pub(crate) fn new() -> Self {
        LIVE_CLOSURES.with(|live| live.set(live.get() + 1));
        LiveToken(())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        LIVE_CLOSURES.with(|live| live.set(live.get().saturating_sub(1)));
    }
}

/// How many JS closures owned by sse-wasm are alive (event listeners, timers, and the
/// tasks of fetch connections, which own the closures of the promises they await).
///
/// For leak tests and benchmarks (feature `test-hooks`): once every client is closed or
/// dropped it is back to what it was before they were made.
#[cfg(feature = "test-hooks")]
pub fn live_closures() -> usize {
    LIVE_CLOSURES.with(Cell::get)
}

/// A pending `setTimeout`; dropping it cancels the timer and frees its closure.
pub(crate) struct Timer {
    handle: JsValue,
    _callback: Tracked<dyn FnMut()>,
}

impl Timer {
    pub(crate) fn new(delay: Duration, callback: Box<dyn FnOnce()>) -> Timer {
        // One closure type for every timer (a `Closure::once` per caller would each
        // bring their own glue into the package).
        let mut callback = Some(callback);
        let callback = Tracked::new(Closure::<dyn FnMut()>::new(move || {
            if let Some(callback) = callback.take() {
                callback();
            }
        }));
        // setTimeout treats anything above i32::MAX ms (about 24.8 days) as 0.
        let ms = i32::try_from(crate::millis::whole(delay)).unwrap_or(i32::MAX);
        let handle = set_timeout(callback.function(), ms);
        Timer {
            handle,
            _callback: callback,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// Resolves `url` against the document's base URL (or the worker's location), as the
/// `EventSource` constructor does, and accepts only `http:` and `https:`.
pub(crate) fn resolve_url(url: &str) -> Result<web_sys::Url, SseError> {
    let parsed = match base_url() {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    }
    .map_err(|_| SseError::invalid(format!("url: \"{url}\" is not a valid URL")))?;
    match parsed.protocol().as_str() {
        "http:" | "https:" => Ok(parsed),
        other => Err(SseError::invalid(format!(
            "url: expected an http: or https: URL, got a {other} URL"
        ))),
    }
}

fn base_url() -> Option<String> {
    let global = js_sys::global();
    let document = js_sys::Reflect::get(&global, &"document".into()).ok()?;
    if document.is_object() {
        if let Some(base) = js_sys::Reflect::get(&document, &"baseURI".into())
            .ok()?
            .as_string()
        {
            return Some(base);
        }
    }
    let location = js_sys::Reflect::get(&global, &"location".into()).ok()?;
    js_sys::Reflect::get(&location, &"href".into())
        .ok()?
        .as_string()
}

/// The URL of one request: `base` plus the resume parameter when there is an id.
pub(crate) fn request_url(base: &str, resume_param: Option<(&str, &str)>) -> String {
    match resume_param {
        Some((name, id)) if !id.is_empty() => match web_sys::Url::new(base) {
            Ok(url) => {
                url.search_params().set(name, id);
                url.href()
            }
            Err(_) => base.to_owned(),
        },
        _ => base.to_owned(),
    }
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
