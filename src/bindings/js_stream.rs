//! The npm face's fetch body, read in JS (`js_fetch.js`) and parsed here: each chunk's
//! events cross into JS once, their data and changed ids in one string (one
//! `TextDecoder` call) with the offsets of each beside it, and only for the event types
//! that have handlers.

use std::cell::RefCell;
use std::time::Duration;

use crate::delivery::keep_id;
use crate::machine::Failure;
use crate::parser::ParsedEvent;
use crate::transport::fetch::{Stop, StreamReader};
use crate::transport::Signal;

/// Marks "no slot" and "no id" in a batch record (as in `js_hub.js`).
pub(super) const NONE: u32 = u32::MAX;
/// The slot of a last record that holds a failure's message (as in `js_driver.js`).
const FAILED_RECORD: u32 = u32::MAX - 1;

thread_local! {
    /// The records of the batch `__sseChunk` returned last, until `__sseRecords`.
    static RECORDS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Hands over the records of the last batch.
pub(super) fn take_records() -> Vec<u32> {
    RECORDS.with(|records| std::mem::take(&mut *records.borrow_mut()))
}

/// One client's fetch stream: its parser, and the types whose events it hands over.
pub(super) struct Stream {
    reader: StreamReader,
    max_event_size: usize,
    /// Event types with handlers and their slots in the hub's batch records.
    types: Vec<(String, u32)>,
    batch: Batch,
    /// An event arrived since the machine last heard (of any type: the batch carries
    /// only those with handlers).
    delivered: bool,
}

impl Stream {
    pub(super) fn new(max_event_size: usize) -> Stream {
        Stream {
            reader: StreamReader::new(max_event_size),
            max_event_size,
            types: Vec::new(),
            batch: Batch::default(),
            delivered: false,
        }
    }

    /// Whether an event arrived since the last call.
    pub(super) fn take_delivered(&mut self) -> bool {
        std::mem::take(&mut self.delivered)
    }

    /// A new response: its bytes start a stream of their own.
    pub(super) fn restart(&mut self) {
        self.reader = StreamReader::new(self.max_event_size);
        self.batch = Batch::default();
    }

    /// `event_type` has handlers in `slot`, or none (`NONE`).
    pub(super) fn handle(&mut self, event_type: &str, slot: u32) {
        self.types.retain(|(handled, _)| handled != event_type);
        if slot != NONE {
            self.types.push((event_type.to_owned(), slot));
        }
    }

    /// Parses `bytes` into the batch; a server's `retry:` goes to `on_retry`. A failure
    /// ends the batch with its message.
    pub(super) fn chunk(
        &mut self,
        bytes: &[u8],
        mut on_retry: impl FnMut(Duration),
    ) -> Result<(), Failure> {
        let Stream {
            reader,
            types,
            batch,
            delivered,
            ..
        } = self;
        let mut report = |signal: Signal<'_>| {
            match signal {
                Signal::Event(event) => {
                    *delivered = true;
                    batch.event(types, event);
                }
                Signal::Id(id) => batch.id(id),
                Signal::Retry(retry) => on_retry(retry),
                _ => {}
            }
            Ok(())
        };
        match reader.chunk(bytes, &mut report) {
            Err(Stop::Failed(failure)) => {
                let (start, end) = batch.push(&failure.error.describe());
                batch
                    .records
                    .extend_from_slice(&[FAILED_RECORD, start, end, NONE, NONE]);
                Err(failure)
            }
            _ => Ok(()),
        }
    }

    /// The batch's text; its records wait for [`take_records`].
    pub(super) fn take_text(&mut self) -> String {
        let batch = &mut self.batch;
        RECORDS.with(|records| *records.borrow_mut() = std::mem::take(&mut batch.records));
        batch.text_utf16 = 0;
        std::mem::take(&mut batch.text)
    }
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

    /// An event: recorded if its type has handlers or its id moved.
    fn event(&mut self, types: &[(String, u32)], event: ParsedEvent<'_>) {
        let found = types
            .iter()
            .find(|(handled, _)| handled == event.event_type);
        let slot = found.map(|(_, slot)| *slot);
        let id_moved = event.last_event_id != self.id.as_deref();
        if slot.is_none() && !id_moved {
            return;
        }
        let (id_start, id_end) = match event.last_event_id {
            Some(id) if id_moved => {
                keep_id(&mut self.id, Some(id));
                self.push(id)
            }
            _ => (NONE, NONE),
        };
        let (data_start, data_end) = match slot {
            Some(_) => self.push(event.data),
            None => (0, 0),
        };
        let slot = slot.unwrap_or(NONE);
        self.records
            .extend_from_slice(&[slot, data_start, data_end, id_start, id_end]);
    }

    /// The id moved without an event.
    fn id(&mut self, id: &str) {
        keep_id(&mut self.id, Some(id));
        let (id_start, id_end) = self.push(id);
        self.records
            .extend_from_slice(&[NONE, 0, 0, id_start, id_end]);
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
