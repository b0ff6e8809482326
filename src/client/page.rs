//! The page's life, as the driver hears it: `online` on the global object (windows
//! and workers alike), and in a window `visibilitychange` on the document and
//! `pagehide` / `pageshow` on the window. Workers have no document, so they hear
//! `online` only.
//!
//! One closure listens to every one of them; a [`Page`] is owned by its driver and
//! removes its listeners, then frees the closure, when it is dropped.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::delivery::NativeListener;
use crate::runtime::Tracked;
use crate::transport::listener::Listener;

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

/// The page's listeners, removed when dropped.
pub(crate) struct Page {
    // Dropped in this order: the listeners are removed before their closure is freed.
    _listeners: Vec<Listener>,
    _closure: Tracked<dyn FnMut(web_sys::Event)>,
}

impl Page {
    /// Calls `on_event` with what happens to the page until the [`Page`] is dropped.
    pub(crate) fn listen(mut on_event: impl FnMut(PageEvent) + 'static) -> Page {
        let closure = Tracked::new(Closure::<dyn FnMut(web_sys::Event)>::new(
            move |event: web_sys::Event| {
                let page_event = match event.type_().as_str() {
                    "online" => PageEvent::Online,
                    "visibilitychange" if hidden() => PageEvent::Hidden,
                    "visibilitychange" => PageEvent::Visible,
                    "pagehide" if persisted(&event) => PageEvent::Frozen,
                    "pageshow" if persisted(&event) => PageEvent::Restored,
                    _ => return,
                };
                on_event(page_event);
            },
        ));
        let global: web_sys::EventTarget = js_sys::global().unchecked_into();
        let listen = |target: &web_sys::EventTarget, event_type: &str| {
            let function = NativeListener::function(closure.function().clone());
            Listener::new(target, event_type, function)
        };
        let mut listeners = vec![listen(&global, "online")];
        if let Some(document) = document() {
            listeners.push(listen(&document, "visibilitychange"));
            listeners.push(listen(&global, "pagehide"));
            listeners.push(listen(&global, "pageshow"));
        }
        Page {
            _listeners: listeners,
            _closure: closure,
        }
    }
}

/// Whether the page is hidden (`document.visibilityState` is `"hidden"`); never in a
/// worker.
pub(crate) fn hidden() -> bool {
    document().is_some_and(|document| {
        js_sys::Reflect::get(&document, &JsValue::from_str("visibilityState"))
            .ok()
            .and_then(|state| state.as_string())
            .is_some_and(|state| state == "hidden")
    })
}

/// The window's document, or `None` in a worker.
fn document() -> Option<web_sys::EventTarget> {
    let document = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("document")).ok()?;
    document
        .is_object()
        .then(|| document.unchecked_into::<web_sys::EventTarget>())
}

/// A `pagehide` or `pageshow` event's `persisted`: the page goes into, or comes from,
/// the back/forward cache.
fn persisted(event: &web_sys::Event) -> bool {
    js_sys::Reflect::get(event, &JsValue::from_str("persisted"))
        .ok()
        .and_then(|persisted| persisted.as_bool())
        .unwrap_or(false)
}
