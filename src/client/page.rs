//! The page's life, as the driver hears it: `online` on the global object (windows
//! and workers alike), and in a window `visibilitychange` on the document and
//! `pagehide` / `pageshow` on the window. Workers have no document, so they hear
//! `online` only.
//!
//! One closure listens to every one of them; a [`Page`] is owned by its driver and, as
//! a `transport/listener.rs` listener does, removes its listeners and frees the closure
//! when it is dropped. The bindings are imported on `globalThis` and its `document`
//! directly (no `js_sys::global()`, no `Reflect`): a Rust app pays a few hundred bytes
//! for the page's life, not kilobytes. (The npm face listens in JS: `js_driver.js`.)

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::runtime::Tracked;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = globalThis, js_name = addEventListener)]
    fn add_global_listener(event_type: &str, listener: &js_sys::Function);
    #[wasm_bindgen(js_namespace = globalThis, js_name = removeEventListener)]
    fn remove_global_listener(event_type: &str, listener: &js_sys::Function);

    /// The window's document; in a worker there is none, and using it throws.
    #[wasm_bindgen(js_namespace = globalThis, js_name = document)]
    type GlobalDocument;
    #[wasm_bindgen(catch, static_method_of = GlobalDocument, js_name = addEventListener)]
    fn add_document_listener(event_type: &str, listener: &js_sys::Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, static_method_of = GlobalDocument, js_name = removeEventListener)]
    fn remove_document_listener(
        event_type: &str,
        listener: &js_sys::Function,
    ) -> Result<(), JsValue>;
    /// `document.hidden`: `visibilityState` is `"hidden"`.
    #[wasm_bindgen(catch, static_method_of = GlobalDocument, getter)]
    fn hidden() -> Result<bool, JsValue>;

    /// `pagehide` and `pageshow` events.
    type PageTransitionEvent;
    #[wasm_bindgen(method, getter)]
    fn persisted(this: &PageTransitionEvent) -> Option<bool>;
}

/// What happened to the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageEvent {
    /// The browser is online again.
    Online,
    /// The page became visible.
    Visible,
    /// The page became hidden.
    Hidden,
    /// The page is going into the back/forward cache (`pagehide` with `persisted`).
    Frozen,
    /// The page came back from the back/forward cache (`pageshow` with `persisted`).
    Restored,
}

/// The events the global object is listened to for.
const GLOBAL_EVENTS: [&str; 3] = ["online", "pagehide", "pageshow"];

/// The page's listeners, removed when dropped.
pub(crate) struct Page {
    closure: Tracked<dyn FnMut(web_sys::Event)>,
    /// Whether there is a document (a window, not a worker), listened to as well.
    document: bool,
}

impl Page {
    /// Calls `on_event` with what happens to the page until the [`Page`] is dropped.
    pub(crate) fn listen(mut on_event: impl FnMut(PageEvent) + 'static) -> Page {
        let closure = Tracked::new(Closure::<dyn FnMut(web_sys::Event)>::new(
            move |event: web_sys::Event| {
                let persisted = || {
                    event
                        .unchecked_ref::<PageTransitionEvent>()
                        .persisted()
                        .unwrap_or(false)
                };
                let page_event = match event.type_().as_str() {
                    "online" => PageEvent::Online,
                    "visibilitychange" if hidden() => PageEvent::Hidden,
                    "visibilitychange" => PageEvent::Visible,
                    "pagehide" if persisted() => PageEvent::Frozen,
                    "pageshow" if persisted() => PageEvent::Restored,
                    _ => return,
                };
                on_event(page_event);
            },
        ));
        let function = closure.function();
        // No document: a worker, where `pagehide` and `pageshow` never come either.
        let document = GlobalDocument::add_document_listener("visibilitychange", function).is_ok();
        let global_events = if document {
            &GLOBAL_EVENTS[..]
        } else {
            &GLOBAL_EVENTS[..1]
        };
        for event_type in global_events {
            add_global_listener(event_type, function);
        }
        Page { closure, document }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let function = self.closure.function();
        if self.document {
            let _ = GlobalDocument::remove_document_listener("visibilitychange", function);
            for event_type in GLOBAL_EVENTS {
                remove_global_listener(event_type, function);
            }
        } else {
            remove_global_listener(GLOBAL_EVENTS[0], function);
        }
    }
}

/// Whether the page is hidden (`document.hidden`: its `visibilityState` is
/// `"hidden"`); never in a worker.
pub(crate) fn hidden() -> bool {
    GlobalDocument::hidden().unwrap_or(false)
}
