//! The npm face's fetch body, read in JS (`js_fetch.js`) and parsed here: each chunk's
//! events cross into JS once, their types, data and changed ids in one string (one
//! `TextDecoder` call) with the offsets of each beside it. A type is written only when
//! it differs from the event before: a stream of one type costs one per chunk.

use std::cell::RefCell;
use std::time::Duration;

use crate::delivery::keep_id;
use crate::parser::ParsedEvent;
use crate::transport::fetch::StreamReader;
use crate::transport::Signal;

/// Marks "no event" (an id set without one) and "no id" in a batch record (as in
/// `js_hub.js`).
pub(super) const NONE: u32 = u32::MAX;
/// The type of a last record that says the parser refused the stream: an event was
/// larger than `maxEventSize` (as in `js_driver.js`, which says so).
const FAILED_RECORD: u32 = u32::MAX - 1;

thread_local! {
    /// The records of the batch `__sseChunk` returned last, until `__sseRecords`.
    static RECORDS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Hands over the records of the last batch.
pub(super) fn take_records() -> Vec<u32> {
    RECORDS.with(|records| std::mem::take(&mut *records.borrow_mut()))
}

/// One client's fetch stream: its parser and its batch.
pub(super) struct Stream {
    reader: StreamReader,
    max_event_size: usize,
    batch: Batch,
}

impl Stream {
    pub(super) fn new(max_event_size: usize) -> Stream {
        Stream {
            reader: StreamReader::new(max_event_size),
            max_event_size,
            batch: Batch::default(),
        }
    }

    /// A new response: its bytes start a stream of their own.
    pub(super) fn restart(&mut self) {
        self.reader = StreamReader::new(self.max_event_size);
        self.batch = Batch::default();
    }

    /// Parses `bytes` into the batch; a server's `retry:` goes to `on_retry`. A stream
    /// the parser refuses ends the batch with a `FAILED_RECORD`, and is `false`.
    pub(super) fn chunk(&mut self, bytes: &[u8], mut on_retry: impl FnMut(Duration)) -> bool {
        let Stream { reader, batch, .. } = self;
        let mut report = |signal: Signal<'_>| {
            match signal {
                Signal::Event(event) => batch.event(event),
                Signal::Id(id) => batch.id(id),
                Signal::Retry(retry) => on_retry(retry),
                _ => {}
            }
            Ok(())
        };
        // `report` never stops the reader.
        let refused = matches!(reader.read(bytes, &mut report), Ok(Err(_)));
        if refused {
            batch
                .records
                .extend_from_slice(&[FAILED_RECORD, 0, 0, 0, NONE, NONE]);
        }
        !refused
    }

    /// The batch's text; its records wait for [`take_records`].
    pub(super) fn take_text(&mut self) -> String {
        let batch = &mut self.batch;
        RECORDS.with(|records| *records.borrow_mut() = std::mem::take(&mut batch.records));
        batch.text_utf16 = 0;
        // The next batch names its first event's type.
        batch.typed = false;
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
    /// `[type start, type end, data start, data end, id start, id end]` per event or
    /// id: an empty type is the type of the event before, a type of `NONE` an id set
    /// without an event, an id of `NONE` an id that did not move.
    records: Vec<u32>,
    /// The stream's id as of the last record.
    id: Option<String>,
    /// The type of the batch's last event, once it has one.
    event_type: String,
    typed: bool,
}

impl Batch {
    /// Appends `text`; returns where it is, in UTF-16 units.
    fn push(&mut self, text: &str) -> (u32, u32) {
        let start = self.text_utf16;
        self.text.push_str(text);
        self.text_utf16 = start.saturating_add(utf16_len(text));
        (start, self.text_utf16)
    }

    /// An event, whatever its type: the hub hands over those with handlers.
    fn event(&mut self, event: ParsedEvent<'_>) {
        let (type_start, type_end) = if self.typed && self.event_type == event.event_type {
            (0, 0)
        } else {
            self.typed = true;
            self.event_type.clear();
            self.event_type.push_str(event.event_type);
            self.push(event.event_type)
        };
        let (id_start, id_end) = match event.last_event_id {
            Some(id) if event.last_event_id != self.id.as_deref() => {
                keep_id(&mut self.id, Some(id));
                self.push(id)
            }
            _ => (NONE, NONE),
        };
        let (data_start, data_end) = self.push(event.data);
        self.records
            .extend_from_slice(&[type_start, type_end, data_start, data_end, id_start, id_end]);
    }

    /// An id committed without an event: a record when it moved.
    fn id(&mut self, id: &str) {
        if self.id.as_deref() == Some(id) {
            return;
        }
        keep_id(&mut self.id, Some(id));
        let (id_start, id_end) = self.push(id);
        self.records
            .extend_from_slice(&[NONE, NONE, 0, 0, id_start, id_end]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `chunks` in turn; returns each batch's text and records.
    fn batches(max_event_size: usize, chunks: &[&str]) -> Vec<(String, Vec<u32>, bool)> {
        let mut stream = Stream::new(max_event_size);
        chunks
            .iter()
            .map(|chunk| {
                let read = stream.chunk(chunk.as_bytes(), |_| {});
                (stream.take_text(), take_records(), read)
            })
            .collect()
    }

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
    fn a_type_is_written_once_per_run_of_it_and_again_when_it_changes() {
        let stream = "event: a\ndata: 1\n\nevent: a\ndata: 2\n\nevent: b\ndata: 3\n\ndata: 4\n\n";
        let found = batches(1024, &[stream]);
        let (text, records, read) = &found[0];
        assert!(read);
        assert_eq!(text, "a12b3message4");
        #[rustfmt::skip]
        assert_eq!(records, &[
            0, 1, 1, 2, NONE, NONE,
            0, 0, 2, 3, NONE, NONE,
            3, 4, 4, 5, NONE, NONE,
            5, 12, 12, 13, NONE, NONE,
        ]);
    }

    #[test]
    fn ids_are_written_when_they_move_with_an_event_or_alone() {
        let found = batches(1024, &["id: 7\ndata: x\n\ndata: y\n\nid: 8\n\n"]);
        let (text, records, _) = &found[0];
        assert_eq!(text, "message7xy8");
        #[rustfmt::skip]
        assert_eq!(records, &[
            0, 7, 8, 9, 7, 8,
            0, 0, 9, 10, NONE, NONE,
            NONE, NONE, 0, 0, 10, 11,
        ]);
    }

    #[test]
    fn each_batch_names_its_first_type_and_offsets_count_utf16_units() {
        let found = batches(1024, &["data: 😀é\n\n", "data: z\n\n"]);
        assert_eq!(found[0].0, "message😀é");
        assert_eq!(found[0].1, [0, 7, 7, 10, NONE, NONE]);
        // A new batch: the type again, though it did not change.
        assert_eq!(found[1].0, "messagez");
        assert_eq!(found[1].1, [0, 7, 7, 8, NONE, NONE]);
    }

    #[test]
    fn an_event_over_the_limit_ends_the_batch_with_a_failed_record() {
        let big = ["data: ", &"x".repeat(64), "\n\n"].concat();
        let found = batches(16, &[&["data: ok\n\n", &big].concat()]);
        let (text, records, read) = &found[0];
        assert!(!read);
        assert_eq!(text, "messageok");
        #[rustfmt::skip]
        assert_eq!(records, &[
            0, 7, 7, 9, NONE, NONE,
            FAILED_RECORD, 0, 0, 0, NONE, NONE,
        ]);
    }

    #[test]
    fn a_restart_forgets_the_id() {
        let mut stream = Stream::new(1024);
        assert!(stream.chunk(b"id: 1\ndata: a\n\n", |_| {}));
        stream.take_text();
        take_records();
        stream.restart();
        // The same id on a new response moves the id of that response's stream.
        assert!(stream.chunk(b"id: 1\ndata: b\n\n", |_| {}));
        assert_eq!(stream.take_text(), "message1b");
        assert_eq!(take_records(), [0, 7, 8, 9, 7, 8]);
    }

    #[test]
    fn a_server_retry_goes_to_its_callback() {
        let mut stream = Stream::new(1024);
        let mut retries = Vec::new();
        assert!(stream.chunk(b"retry: 2500\n\n", |retry| retries.push(retry)));
        assert_eq!(retries, [Duration::from_millis(2500)]);
    }
}
