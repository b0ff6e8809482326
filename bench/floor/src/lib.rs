//! The size floor: a typed EventSource wrapper with nothing else (no reconnection,
//! no state, no dispatch by type, no error reporting).

use serde::Deserialize;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};

#[derive(Deserialize)]
struct Tick {
    seq: u64,
}

/// An EventSource whose messages are decoded into `Tick` and handed to a JS function.
#[wasm_bindgen]
pub struct Feed {
    source: EventSource,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

#[wasm_bindgen]
impl Feed {
    /// Opens `url` and calls `handler(seq)` for every message that decodes.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, handler: js_sys::Function) -> Result<Feed, JsValue> {
        let source = EventSource::new(url)?;
        let on_message = Closure::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            if let Ok(tick) = serde_json::from_str::<Tick>(&text) {
                let _ = handler.call1(&JsValue::NULL, &JsValue::from_f64(tick.seq as f64));
            }
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(Feed {
            source,
            _on_message: on_message,
        })
    }

    /// Closes the EventSource.
    pub fn close(&self) {
        self.source.close();
    }
}
