//! The page's life, for the browser suites. Headless Chromium never hides a page (the
//! npm suites found no way either), so `document.visibilityState` is overridden and
//! `visibilitychange` dispatched, as the browser would; `online`, `pagehide` and
//! `pageshow` are dispatched on the window as the browser dispatches them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
export function set_visibility(state) {
  if (state === null) {
    delete document.visibilityState;
    delete document.hidden;
  } else {
    Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
    Object.defineProperty(document, 'hidden', { value: state === 'hidden', configurable: true });
  }
  document.dispatchEvent(new Event('visibilitychange'));
}
export function page_event(type, persisted) {
  window.dispatchEvent(
    type === 'online' ? new Event('online') : new PageTransitionEvent(type, { persisted }),
  );
}
export function visibility_state() { return document.visibilityState; }
")]
extern "C" {
    /// `"hidden"` or `"visible"`; `None` gives back the browser's own.
    pub fn set_visibility(state: Option<&str>);
    pub fn page_event(event_type: &str, persisted: bool);
    pub fn visibility_state() -> String;
}

/// The page looks hidden until this is dropped.
pub struct Hidden;

impl Hidden {
    pub fn new() -> Hidden {
        set_visibility(Some("hidden"));
        assert_eq!(visibility_state(), "hidden");
        Hidden
    }
}

impl Drop for Hidden {
    fn drop(&mut self) {
        set_visibility(None);
    }
}

pub fn going_online() {
    page_event("online", false);
}
