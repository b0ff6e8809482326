//! An event listener that is removed, and its closure freed, when it is dropped.

use wasm_bindgen::prelude::*;

use crate::delivery::NativeListener;
use crate::runtime::Tracked;

pub(crate) struct Listener {
    target: web_sys::EventTarget,
    event_type: String,
    callback: NativeListener,
}

impl Listener {
    /// Adds `callback` as a listener of `event_type` on `target`.
    pub(crate) fn new(
        target: &web_sys::EventTarget,
        event_type: &str,
        callback: NativeListener,
    ) -> Listener {
        // addEventListener only throws for a non-callable listener, which this is not.
        let _ = target.add_event_listener_with_callback(event_type, callback.as_function());
        Listener {
            target: target.clone(),
            event_type: event_type.to_owned(),
            callback,
        }
    }

    /// Adds a Rust closure as a listener.
    pub(crate) fn closure(
        target: &web_sys::EventTarget,
        event_type: &str,
        callback: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        let callback = Tracked::new(Closure::<dyn FnMut(web_sys::Event)>::new(callback));
        Listener::new(target, event_type, NativeListener::closure(callback))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(&self.event_type, self.callback.as_function());
    }
}
