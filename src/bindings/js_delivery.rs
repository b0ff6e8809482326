//! The npm face's side of a connection: its handlers live in JS (`js_hub.js`), so an
//! event's data stays a JS string from the native `EventSource` to the handler, and
//! the fetch transport's events cross into JS once per chunk: their data in one
//! string (one `TextDecoder` call) with the offsets of each event beside it.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::js_fetch;
use crate::delivery::{keep_id, Delivery, NativeListener, Progress};
use crate::event::{ConnectionState, SseError};
use crate::parser::ParsedEvent;
use crate::transport::{Connection, FetchRequest, SignalSink};

#[wasm_bindgen(module = "/src/bindings/js_hub.js")]
extern "C" {
    /// The JS handlers of one client.
    #[derive(Clone)]
    pub(crate) type Hub;

    /// The hub of client `client`, whose stream is at `url`.
    #[wasm_bindgen(constructor)]
    pub(crate) fn new(json: bool, client: u32, url: &str) -> Hub;

    /// The client's key among the running ones (`js.rs`).
    #[wasm_bindgen(method, getter)]
    pub(crate) fn client(this: &Hub) -> u32;

    #[wasm_bindgen(method, js_name = takeEmptied)]
    fn take_emptied(this: &Hub) -> Option<String>;
    #[wasm_bindgen(method)]
    fn slot(this: &Hub, event_type: &str) -> u32;
    /// Lets go of the handlers of a closed client, and keeps what it still answers.
    #[wasm_bindgen(method)]
    pub(crate) fn release(this: &Hub, last_event_id: &str);

    #[wasm_bindgen(method)]
    fn begin(this: &Hub, resume_from: &str);
    #[wasm_bindgen(method)]
    fn end(this: &Hub);
    #[wasm_bindgen(method)]
    fn delivered(this: &Hub) -> bool;
    #[wasm_bindgen(method)]
    fn id(this: &Hub) -> Option<String>;
    #[wasm_bindgen(method, js_name = lastEventAt)]
    fn last_event_at(this: &Hub) -> Option<f64>;
    #[wasm_bindgen(method)]
    fn listener(this: &Hub, event_type: &str) -> Function;
    #[wasm_bindgen(method)]
    fn batch(this: &Hub, text: &str, records: &[u32]);

    #[wasm_bindgen(method)]
    fn state(this: &Hub, name: &str, attempt: Option<u32>, delay_ms: Option<f64>);
    #[wasm_bindgen(method)]
    fn error(this: &Hub, kind: &str, message: &str, status: Option<u16>);
}

/// Marks "no slot" and "no id" in a batch record (as in `js_hub.js`).
const NONE: u32 = u32::MAX;

pub(crate) struct JsDelivery {
    pub(crate) hub: Hub,
    /// Event types with handlers and their slots in the hub's batch records.
    types: RefCell<Vec<(String, u32)>>,
    batch: RefCell<Batch>,
    /// Fetch: an event arrived since the driver last asked (of any type: the batch
    /// carries only those with handlers).
    delivered: Cell<bool>,
    /// Closed for good: the hub has let go of its handlers and takes no more.
    released: Cell<bool>,
    /// The client's key among the running ones (`js.rs`).
    client: u32,
    /// The `headers` option, for the fetch transport's JS reader: `[name, value, …]`.
    headers: Array,
    /// The `headers` option's function.
    make_headers: Option<Function>,
}

/// One chunk's events on their way to JS.
#[derive(Default)]
struct Batch {
    /// Their data and changed ids, one after another.
    text: String,
    /// The length of `text` in UTF-16 units, JS strings' offsets.
    text_utf16: u32,
    /// `[slot, data start, data end, id start, id end]` per event or id.
    records: Vec<u32>,
    /// The stream's id as of the last record.
    id: Option<String>,
}

impl Batch {
    /// Appends `text`; returns where it is, in UTF-16 units.
    fn push(&mut self, text: &str) -> (u32, u32) {
        let start = self.text_utf16;
        self.text.push_str(text);
        self.text_utf16 = start.saturating_add(utf16_len(text));
        (start, self.text_utf16)
    }

    fn clear(&mut self) {
        self.text.clear();
        self.text_utf16 = 0;
        self.records.clear();
    }
}

/// The length of `text` in UTF-16 code units: one per UTF-8 sequence, two for the
/// four-byte ones (outside the BMP). ASCII, the rule, is counted in one pass.
fn utf16_len(text: &str) -> u32 {
    let units = if text.is_ascii() {
        text.len()
    } else {
        text.bytes()
            .map(|byte| match byte {
                0x80..=0xBF => 0,
                0xF0..=0xFF => 2,
                _ => 1,
            })
            .sum()
    };
    u32::try_from(units).unwrap_or(u32::MAX)
}

impl JsDelivery {
    pub(crate) fn new(
        client: u32,
        hub: Hub,
        headers: Array,
        make_headers: Option<Function>,
    ) -> JsDelivery {
        JsDelivery {
            hub,
            types: RefCell::default(),
            batch: RefCell::default(),
            delivered: Cell::new(false),
            released: Cell::new(false),
            client,
            headers,
            make_headers,
        }
    }

    /// A handler of `event_type` was added; `true` if the type is new to the client.
    pub(crate) fn add_type(&self, event_type: &str) -> bool {
        let mut types = self.types.borrow_mut();
        if types.iter().any(|(listened, _)| listened == event_type) {
            return false;
        }
        types.push((event_type.to_owned(), self.hub.slot(event_type)));
        true
    }

    /// Forgets the types whose last handler was removed (the hub's unsubscribe
    /// functions are plain JS, so it learns of them when it next asks) and hands each
    /// to `unlisten`.
    pub(crate) fn prune_types(&self, mut unlisten: impl FnMut(&str)) {
        while let Some(event_type) = self.hub.take_emptied() {
            self.types
                .borrow_mut()
                .retain(|(listened, _)| *listened != event_type);
            unlisten(&event_type);
        }
    }

    fn slot(&self, event_type: &str) -> Option<u32> {
        let types = self.types.borrow();
        let found = types.iter().find(|(listened, _)| listened == event_type);
        found.map(|(_, slot)| *slot)
    }
}

impl Delivery for JsDelivery {
    fn begin(&self, resume_from: &str) {
        // The connection about to open listens only to types that have handlers.
        self.prune_types(|_| {});
        let mut batch = self.batch.borrow_mut();
        batch.clear();
        batch.id = None;
        self.hub.begin(resume_from);
    }

    fn end(&self) {
        self.batch.borrow_mut().clear();
        self.hub.end();
    }

    fn take_progress(&self) -> Progress {
        // Both: the hub's native events and the fetch events counted here.
        let delivered = self.hub.delivered() | self.delivered.take();
        Progress {
            delivered,
            id: self.hub.id(),
        }
    }

    fn last_event_at(&self) -> Option<Duration> {
        let stamp = self.hub.last_event_at()?;
        crate::millis::duration(stamp)
    }

    fn event_types(&self) -> Vec<String> {
        let types = self.types.borrow();
        types
            .iter()
            .map(|(event_type, _)| event_type.clone())
            .collect()
    }

    fn native_listener(&self, event_type: &str) -> NativeListener {
        NativeListener::function(self.hub.listener(event_type))
    }

    fn open_fetch(
        &self,
        request: FetchRequest<'_>,
        sink: SignalSink,
    ) -> Result<Box<dyn Connection>, SseError> {
        js_fetch::open(
            request,
            self.headers.clone(),
            self.make_headers.clone(),
            sink,
        )
    }

    fn parsed(&self, event: ParsedEvent<'_>) {
        self.delivered.set(true);
        let slot = self.slot(event.event_type);
        let mut batch = self.batch.borrow_mut();
        let id_moved = event.last_event_id != batch.id.as_deref();
        if slot.is_none() && !id_moved {
            return;
        }
        let (id_start, id_end) = match event.last_event_id {
            Some(id) if id_moved => {
                keep_id(&mut batch.id, Some(id));
                batch.push(id)
            }
            _ => (NONE, NONE),
        };
        let (data_start, data_end) = match slot {
            Some(_) => batch.push(event.data),
            None => (0, 0),
        };
        let slot = slot.unwrap_or(NONE);
        batch
            .records
            .extend_from_slice(&[slot, data_start, data_end, id_start, id_end]);
    }

    fn parsed_id(&self, id: &str) {
        let mut batch = self.batch.borrow_mut();
        keep_id(&mut batch.id, Some(id));
        let (id_start, id_end) = batch.push(id);
        batch
            .records
            .extend_from_slice(&[NONE, 0, 0, id_start, id_end]);
    }

    fn flush(&self) {
        let (text, records) = {
            let mut batch = self.batch.borrow_mut();
            if batch.records.is_empty() {
                return;
            }
            batch.text_utf16 = 0;
            (
                std::mem::take(&mut batch.text),
                std::mem::take(&mut batch.records),
            )
        };
        // No borrow is held: the handlers may close or reconnect the client.
        self.hub.batch(&text, &records);
        let mut batch = self.batch.borrow_mut();
        if batch.records.is_empty() && batch.text.is_empty() {
            // Hand the buffers back for the next chunk.
            let (mut text, mut records) = (text, records);
            text.clear();
            records.clear();
            batch.text = text;
            batch.records = records;
        }
    }

    fn state(&self, state: ConnectionState) {
        let (attempt, delay_ms) = state.retry_detail();
        self.hub.state(state.as_str(), attempt, delay_ms);
        if state == ConnectionState::Closed && !self.released.replace(true) {
            self.types.borrow_mut().clear();
            // The driver is let go of here, and freed once the caller is done with it:
            // nothing of a closed client waits for the script's garbage to be collected.
            let last_event_id = super::js::stop_running(self.client)
                .map(|driver| driver.last_event_id())
                .unwrap_or_default();
            self.hub.release(&last_event_id);
        }
    }

    fn error(&self, error: &SseError) {
        let status = match error {
            SseError::Http { status, .. } => Some(*status),
            _ => None,
        };
        self.hub.error(error.kind(), &error.describe(), status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_lengths_match_js_string_lengths() {
        for text in ["", "abc", "é", "日本語", "a😀b", "😀😀", "ASCII then é"] {
            assert_eq!(
                utf16_len(text) as usize,
                text.encode_utf16().count(),
                "{text}"
            );
        }
    }

    #[test]
    fn a_batch_records_where_each_piece_is_in_utf16_units() {
        let mut batch = Batch::default();
        assert_eq!(batch.push("😀x"), (0, 3));
        assert_eq!(batch.push("id-1"), (3, 7));
        assert_eq!(batch.text, "😀xid-1");
        batch.clear();
        assert_eq!(batch.push("a"), (0, 1));
    }
}
