//! Waiting in the page without Rust closures that outlive a call: promises resolved by
//! handlers, timeouts and event-loop turns made of JS `setTimeout`.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, timeout_ms: i32) -> JsValue;

    /// `setTimeout(handler, ms, argument)`: calls `handler(argument)`.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_with_argument(
        handler: &Function,
        timeout_ms: i32,
        argument: &JsValue,
    ) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);

    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// `performance.now()`, in milliseconds.
pub(crate) fn now() -> f64 {
    performance_now()
}

/// A new promise and the functions that resolve and reject it.
pub(crate) fn pending() -> (Promise, Function, Function) {
    let mut functions = None;
    let promise = Promise::new(&mut |resolve, reject| functions = Some((resolve, reject)));
    // The executor runs synchronously inside the Promise constructor.
    let (resolve, reject) =
        functions.unwrap_or_else(|| (Function::new_no_args(""), Function::new_no_args("")));
    (promise, resolve, reject)
}

/// Waits for `promise`, or fails with "`what`: no result after `ms` ms".
pub(crate) async fn with_timeout(
    promise: &Promise,
    ms: i32,
    what: &str,
) -> Result<JsValue, JsValue> {
    let (timeout, _, reject) = pending();
    let message = js_sys::Error::new(&format!("{what}: no result after {ms} ms"));
    let timer = set_timeout_with_argument(&reject, ms, &message);
    let race = Promise::race(&js_sys::Array::of2(promise, &timeout));
    let outcome = JsFuture::from(race).await;
    clear_timeout(&timer);
    outcome
}

/// One turn of the event loop: a 0 ms `setTimeout`, after which pending promise
/// reactions and tasks queued before it have run.
pub(crate) async fn yield_to_event_loop() {
    let (promise, resolve, _) = pending();
    set_timeout(&resolve, 0);
    let _ = JsFuture::from(promise).await;
}

/// The message of a rejection: an `Error`'s message, a string, or its debug form.
pub(crate) fn message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
