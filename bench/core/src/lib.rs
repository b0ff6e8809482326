//! The size of the Rust API as an app uses it: one client with a typed handler, its
//! state and its errors, handed to a JS function (the same job as `bench/floor`, with
//! reconnection, resume, dispatch by type and error reporting on top).

use serde::Deserialize;
use sse_wasm::{SseClient, Subscription};
use wasm_bindgen::prelude::*;

#[derive(Deserialize)]
struct Tick {
    seq: u64,
}

/// A client whose `tick` events are decoded into `Tick` and handed to a JS function.
#[wasm_bindgen]
pub struct Feed {
    client: SseClient,
    _ticks: Subscription,
}

#[wasm_bindgen]
impl Feed {
    /// Opens `url` and calls `handler(seq)` for every tick that decodes.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, handler: js_sys::Function) -> Result<Feed, JsValue> {
        let client =
            SseClient::connect(url).map_err(|error| JsValue::from_str(&error.to_string()))?;
        let ticks = client.on::<Tick>("tick", move |tick| {
            let _ = handler.call1(&JsValue::NULL, &JsValue::from_f64(tick.seq as f64));
        });
        Ok(Feed {
            client,
            _ticks: ticks,
        })
    }

    /// The connection's state.
    pub fn state(&self) -> String {
        self.client.state().to_string()
    }

    /// Closes the client.
    pub fn close(&self) {
        self.client.close();
    }
}
