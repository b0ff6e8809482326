//! The WHATWG event-stream parser (HTML Living Standard §9.2.6, "Interpreting an event
//! stream"): bytes in, events out.
//!
//! It is pure and incremental. Feed it the body of a `text/event-stream` response in
//! chunks of any size, split anywhere (inside a line end, a UTF-8 sequence or the byte
//! order mark), and it hands each [`Item`] to a callback as soon as the line that
//! completes it arrives. The items borrow the chunk or the parser's buffers, so once
//! those have grown to fit, valid UTF-8 is parsed without allocating; copy out what you
//! keep.
//!
//! ```
//! use sse_wasm::parser::{Item, Parser};
//!
//! let mut parser = Parser::new();
//! let mut seen = Vec::new();
//! for chunk in [&b"id: 7\nevent: tick\nda"[..], b"ta: {\"price\": 1}\n\n: ping\n"] {
//!     parser.feed(chunk, |item| match item {
//!         Item::Event(event) => seen.push(format!("{} {}", event.event_type, event.data)),
//!         Item::Comment(text) => seen.push(format!("comment {text}")),
//!         Item::Retry(ms) => seen.push(format!("retry {ms}")),
//!     })?;
//! }
//! assert_eq!(seen, ["tick {\"price\": 1}", "comment ping"]);
//! assert_eq!(parser.last_event_id(), Some("7"));
//! # Ok::<(), sse_wasm::parser::ParseError>(())
//! ```
//!
//! Where the standard leaves a choice, this parser:
//!
//! - hands comments over (the standard ignores them; a transport uses them as
//!   heartbeats), without the colon and with one leading space removed, like a value;
//! - reports `retry:` at once, as the standard sets the reconnection time when the line
//!   is read, not when the event is dispatched; a value that does not fit in a `u64` is
//!   ignored, as Chromium does, rather than saturated into a wait that never ends;
//! - bounds memory: see [`Parser::with_max_event_size`].

use std::borrow::Cow;
use std::fmt;

/// The default bound on one pending event: 64 MiB. Large enough for what browsers
/// accept in practice (the native `EventSource` has no bound at all, and streams of
/// whole documents or model outputs carry events of tens of megabytes), small enough
/// that a stream that never ends its event cannot take the page's memory.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 64 * 1024 * 1024;

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// What the stream produced, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A blank line dispatched an event with data.
    Event(ParsedEvent<'a>),
    /// A line starting with `:` (the text after the colon, one leading space removed).
    Comment(&'a str),
    /// A valid `retry:` field: the server's reconnection time, in milliseconds.
    Retry(u64),
}

/// One dispatched event. It borrows the chunk or the parser's buffers, which the next
/// line reuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedEvent<'a> {
    /// The `event:` field, or `"message"` when the event had none (or an empty one).
    pub event_type: &'a str,
    /// The `data:` lines joined with `\n`.
    pub data: &'a str,
    /// The stream's last event id at this event, which an event without an `id:` field
    /// inherits from earlier ones; `None` while no `id:` field has been seen.
    pub last_event_id: Option<&'a str>,
}

/// Why the parser stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The pending event (its data so far plus the current line) grew past the limit.
    /// The parser has dropped it and accepts nothing more from this stream.
    EventTooLarge {
        /// The configured limit, in bytes.
        limit: usize,
    },
}

impl ParseError {
    /// What `Display` prints, without `core::fmt` (see [`crate::text`]).
    pub(crate) fn describe(&self) -> String {
        match self {
            ParseError::EventTooLarge { limit } => [
                "event stream: an event exceeded the limit of ",
                &crate::text::decimal(*limit as u64),
                " bytes",
            ]
            .concat(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for ParseError {}

/// An incremental event-stream parser for one stream at a time.
#[derive(Clone, Debug)]
pub struct Parser {
    limit: usize,
    /// How many bytes of a leading BOM have been seen; `None` once the stream has
    /// started (the BOM is only stripped as the very first bytes).
    bom_seen: Option<usize>,
    /// The last chunk ended in CR: an LF starting the next chunk belongs to that line
    /// end, not a new one.
    after_cr: bool,
    /// The start of a line whose end has not arrived yet, as raw bytes: decoding waits
    /// for the whole line so that a UTF-8 sequence split across chunks survives.
    line: Vec<u8>,
    /// The data buffer: the event's `data:` values, each followed by LF, once an event
    /// has more than one or its chunk ends (until then its one value stays in the
    /// chunk). Line ends are ASCII, so decoding each line equals decoding the joined
    /// lines.
    data: String,
    /// The raw bytes of the event's data so far, LFs included, wherever it is: what the
    /// limit counts (an invalid byte decodes to a longer replacement character).
    data_len: usize,
    /// The event type buffer; empty means `"message"`.
    event_type: String,
    /// Two id buffers that take turns, so that a dispatch copies no id: one holds the
    /// id as of the last dispatch (what `EventSource.lastEventId` would show), the
    /// other the standard's last event id buffer when an `id:` line has come since.
    /// While a chunk is parsed, an id of the chunk stands in for its buffer and is
    /// copied only when the chunk ends (`scan`'s `ids`).
    ids: [Option<String>; 2],
    /// Which of `ids` holds the id as of the last dispatch.
    dispatched_id: bool,
    /// Whether an `id:` line has come since the last dispatch, into the other slot.
    id_pending: bool,
    /// Whether a blank line has committed an id since the last event was handed over:
    /// the last event id moved (or was set again) with no event to carry it.
    id_without_event: bool,
    failed: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with the default limit ([`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn new() -> Self {
        Parser::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A parser that fails with [`ParseError::EventTooLarge`] once the pending event,
    /// counted as its data buffer plus the current line in bytes, exceeds `limit`.
    ///
    /// The same bound applies to any single line (a comment, or a line whose end never
    /// comes), so the parser's memory stays within a small multiple of `limit` whatever
    /// the server sends.
    pub fn with_max_event_size(limit: usize) -> Self {
        Parser {
            limit,
            bom_seen: Some(0),
            after_cr: false,
            line: Vec::new(),
            data: String::new(),
            data_len: 0,
            event_type: String::new(),
            ids: [None, None],
            dispatched_id: false,
            id_pending: false,
            id_without_event: false,
            failed: false,
        }
    }

    /// The configured limit, in bytes.
    pub fn max_event_size(&self) -> usize {
        self.limit
    }

    /// The last event id as of the last dispatch (blank line), even one that
    /// dispatched nothing because it had no data: what `EventSource.lastEventId` would
    /// show, and what to send as `Last-Event-ID` when reconnecting. `None` while no
    /// `id:` field has been dispatched; `Some("")` after an empty `id:`, which the
    /// standard treats as "send no header".
    pub fn last_event_id(&self) -> Option<&str> {
        self.ids[usize::from(self.dispatched_id)].as_deref()
    }

    /// The last event id if a blank line has committed an id since the last event was
    /// handed over (an `id:` with no data: no event carries it), once: the flag is
    /// cleared. A transport reports it so that a reconnect resumes from it; the id may
    /// equal the last event's (an `id:` sent again).
    pub(crate) fn take_id_without_event(&mut self) -> Option<&str> {
        if !std::mem::take(&mut self.id_without_event) {
            return None;
        }
        self.last_event_id()
    }

    /// The standard's "last event ID buffer": the latest `id:` field, dispatched or
    /// not. An id whose event was cut off before its blank line shows here but not in
    /// [`last_event_id`](Self::last_event_id).
    pub fn last_event_id_buffer(&self) -> Option<&str> {
        self.ids[usize::from(self.dispatched_id ^ self.id_pending)].as_deref()
    }

    /// Parses the next bytes of the stream, handing every completed item to `on_item`
    /// in order.
    ///
    /// On error the items before the offending line have been delivered; the parser
    /// then frees its buffers and fails every later call until [`finish`](Self::finish).
    pub fn feed<F>(&mut self, chunk: &[u8], on_item: F) -> Result<(), ParseError>
    where
        F: FnMut(Item<'_>),
    {
        self.feed_using::<LineEnds, F>(chunk, on_item)
    }

    /// [`feed`](Self::feed) with a given way of finding line ends: the tests run every
    /// one of them through the whole parser.
    fn feed_using<'c, L, F>(&mut self, chunk: &'c [u8], mut on_item: F) -> Result<(), ParseError>
    where
        L: FindLineEnds<'c>,
        F: FnMut(Item<'_>),
    {
        if self.failed {
            return Err(self.error());
        }
        let mut rest = chunk;
        if let Some(seen) = self.bom_seen {
            let wanted = &BOM[seen..];
            let n = wanted.len().min(rest.len());
            if rest[..n] == wanted[..n] {
                if n < wanted.len() {
                    // The whole chunk is a prefix of the BOM: wait for the rest.
                    self.bom_seen = Some(seen + n);
                    return Ok(());
                }
                rest = &rest[n..];
                self.bom_seen = None;
            } else {
                self.bom_seen = None;
                // What looked like the start of a BOM is the stream's first bytes.
                self.scan::<L, F>(&BOM[..seen], &mut on_item)?;
            }
        }
        self.scan::<L, F>(rest, &mut on_item)
    }

    /// Ends the stream: an unterminated line and an undispatched event are discarded,
    /// as the standard requires, and the parser is ready for the next stream (a
    /// reconnect), a BOM included.
    ///
    /// The last event id carries over, as browsers carry it over reconnects: the next
    /// stream starts from [`last_event_id`](Self::last_event_id), and an `id:` that was
    /// never dispatched is forgotten. Clears a failure.
    pub fn finish(&mut self) {
        self.bom_seen = Some(0);
        self.after_cr = false;
        self.line.clear();
        self.data.clear();
        self.data_len = 0;
        self.event_type.clear();
        self.id_pending = false;
        self.id_without_event = false;
        self.failed = false;
    }

    fn error(&self) -> ParseError {
        ParseError::EventTooLarge { limit: self.limit }
    }

    /// Gives up on the stream, releasing the memory a large event took.
    fn fail(&mut self) -> ParseError {
        self.failed = true;
        self.line = Vec::new();
        self.data = String::new();
        self.data_len = 0;
        self.event_type = String::new();
        self.error()
    }

    /// Parses the lines of `chunk`: the one that earlier chunks began, every line
    /// wholly inside it, then keeps the start of its last, unfinished line.
    fn scan<'c, L, F>(&mut self, chunk: &'c [u8], on_item: &mut F) -> Result<(), ParseError>
    where
        L: FindLineEnds<'c>,
        F: FnMut(Item<'_>),
    {
        let mut start = 0;
        if self.after_cr {
            if let Some(&first) = chunk.first() {
                self.after_cr = false;
                if first == b'\n' {
                    start = 1;
                }
            }
        }
        let mut ends = L::new(chunk);
        // The first line end in the chunk ends the line that earlier chunks began, if
        // any. (One loop finds every line end: the search is inlined once.)
        let mut carried = !self.line.is_empty();
        // The one data line of the event so far while it is in this chunk: an event of
        // one `data:` line (the common shape) is handed over without being copied.
        let mut borrowed: Option<&str> = None;
        // The ids of the chunk, in place of `self.ids` (see `keep_ids`): one per event
        // is common, and none of them is copied while it is in the chunk.
        let mut ids = [None, None];
        // The pending event grows by at most the chunk's bytes (a carried line's value
        // is no longer than the line): when even that fits, no line of the chunk needs
        // the check.
        let fits = !self.too_large(chunk.len());
        while let Some(end) = ends.next_from(start) {
            if carried {
                carried = false;
                let head = chunk.get(start..end).unwrap_or_default();
                if self.too_large(head.len()) {
                    self.keep_ids(&mut ids);
                    return Err(self.fail());
                }
                self.split_line(head, on_item);
                start = self.next_start(chunk, end);
                continue;
            }
            let raw = chunk.get(start..end).unwrap_or_default();
            if !fits && self.too_large(raw.len()) {
                self.keep_ids(&mut ids);
                return Err(self.fail());
            }
            let line = if ends.is_ascii(start, end) {
                // SAFETY: `LineEnds` saw every byte of the line, and none is above 0x7F:
                // ASCII is valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(raw) }
            } else if let Ok(line) = std::str::from_utf8(raw) {
                line
            } else {
                // Its value, if it is one, goes after the one borrowed.
                if let Some(first) = borrowed.take() {
                    self.push_data(first);
                }
                self.keep_ids(&mut ids);
                self.decode_line(raw, on_item);
                start = self.next_start(chunk, end);
                continue;
            };
            if let Some(value) = value_of(line, "data") {
                if self.data_len == 0 {
                    borrowed = Some(value);
                } else {
                    if let Some(first) = borrowed.take() {
                        self.push_data(first);
                    }
                    self.push_data(value);
                }
                self.data_len += value.len() + 1;
            } else if line.is_empty() {
                self.dispatch(borrowed.take(), &ids, on_item);
            } else {
                self.field(line, &mut ids, on_item);
            }
            start = self.next_start(chunk, end);
            #[cfg(feature = "perf-copy")]
            if fits {
                while let Some(next) = self.copy_data_line(&mut ends, chunk, start, &mut borrowed) {
                    start = next;
                }
            }
        }
        // The chunk goes away: keep what the pending event borrowed from it.
        if let Some(first) = borrowed {
            self.push_data(first);
        }
        self.keep_ids(&mut ids);
        self.push_tail(chunk.get(start..).unwrap_or_default())
    }

    /// Applies the line at `start` if it is a `data:` line of an event that has data
    /// already, and `ends` can copy its value while it finds its end: where the next
    /// line starts. (Copying each value after its search cost a call into the engine's
    /// `memory.copy` per line in wasm.) The caller has checked that the chunk fits
    /// within the limit.
    #[cfg(feature = "perf-copy")]
    #[inline]
    fn copy_data_line<'c, L>(
        &mut self,
        ends: &mut L,
        chunk: &'c [u8],
        start: usize,
        borrowed: &mut Option<&'c str>,
    ) -> Option<usize>
    where
        L: FindLineEnds<'c>,
    {
        const FIELD: &[u8] = b"data: ";
        if self.data_len == 0 || !chunk.get(start..)?.starts_with(FIELD) {
            return None;
        }
        // The value goes after the one borrowed, whatever becomes of it.
        if let Some(first) = borrowed.take() {
            self.push_data(first);
        }
        let value = start + FIELD.len();
        let end = ends.next_copying_data(value, &mut self.data)?;
        self.data_len += end - value + 1;
        Some(self.next_start(chunk, end))
    }

    /// Where the line after the one that ends at `end` starts. A CR that ends the chunk
    /// may have its LF at the start of the next one.
    #[inline]
    fn next_start(&mut self, chunk: &[u8], end: usize) -> usize {
        let start = end + 1;
        if chunk.get(end) == Some(&b'\r') {
            match chunk.get(start) {
                Some(b'\n') => return start + 1,
                Some(_) => {}
                None => self.after_cr = true,
            }
        }
        start
    }

    /// Keeps the start of a line whose end has not arrived.
    fn push_tail(&mut self, tail: &[u8]) -> Result<(), ParseError> {
        if !tail.is_empty() {
            // Check before copying, so a line that never ends cannot grow the buffer.
            if self.too_large(tail.len()) {
                return Err(self.fail());
            }
            self.line.extend_from_slice(tail);
        }
        Ok(())
    }

    /// Ends a line that began in an earlier chunk: its start is in `self.line`, its
    /// last bytes are `head`.
    #[cold]
    fn split_line<F>(&mut self, head: &[u8], on_item: &mut F)
    where
        F: FnMut(Item<'_>),
    {
        self.line.extend_from_slice(head);
        let line = std::mem::take(&mut self.line);
        self.decode_line(&line, on_item);
        // Hand the allocation back, so the next split line reuses it.
        self.line = line;
        self.line.clear();
    }

    /// Applies a line that has to be decoded (it may hold invalid UTF-8) and so cannot
    /// be borrowed from the chunk.
    #[cold]
    fn decode_line<F>(&mut self, raw: &[u8], on_item: &mut F)
    where
        F: FnMut(Item<'_>),
    {
        let line = text(raw);
        let mut ids = [None, None];
        if let Some(value) = value_of(&line, "data") {
            self.push_data(value);
            // The limit counts raw bytes, which replacement characters may stand for.
            self.data_len += value.len() + raw.len() - line.len() + 1;
        } else if line.is_empty() {
            self.dispatch(None, &ids, on_item);
        } else {
            self.field(&line, &mut ids, on_item);
            self.keep_ids(&mut ids);
        }
    }

    /// Whether `more` bytes on the current line would take the pending event past the
    /// limit.
    #[inline]
    fn too_large(&self, more: usize) -> bool {
        self.data_len
            .saturating_add(self.line.len())
            .saturating_add(more)
            > self.limit
    }

    /// Appends one `data:` value and its LF to the data buffer.
    #[inline]
    fn push_data(&mut self, value: &str) {
        self.data.push_str(value);
        self.data.push('\n');
    }

    /// Applies a line that is neither a `data:` line nor blank. An id goes to `ids`,
    /// borrowed from the line.
    fn field<'l, F>(&mut self, line: &'l str, ids: &mut [Option<&'l str>; 2], on_item: &mut F)
    where
        F: FnMut(Item<'_>),
    {
        // Field names are exact, so the first bytes tell the field without looking for
        // the colon: `id:` is `id`, `idx:` and `id x:` are unknown fields.
        // (`strip_prefix` rather than slicing: an `&str` slice that could fail links the
        // formatting of its panic message, a few KiB of wasm.)
        match line.as_bytes().first() {
            Some(b':') => {
                let comment = line.strip_prefix(':').unwrap_or(line);
                on_item(Item::Comment(strip_space(comment)));
            }
            Some(b'i') => {
                // An id containing NUL is ignored: it could not be sent back in a
                // header.
                if let Some(value) = value_of(line, "id").filter(|v| !v.bytes().any(|b| b == 0)) {
                    ids[usize::from(!self.dispatched_id)] = Some(value);
                    self.id_pending = true;
                }
            }
            Some(b'e') => {
                if let Some(value) = value_of(line, "event") {
                    self.event_type.clear();
                    self.event_type.push_str(value);
                }
            }
            Some(b'r') => {
                if let Some(ms) = value_of(line, "retry").and_then(|v| parse_retry(v.as_bytes())) {
                    on_item(Item::Retry(ms));
                }
            }
            _ => {}
        }
    }

    /// Ends the event at a blank line. `borrowed` is its data when that is one line
    /// still in the chunk; otherwise the data is in the buffer. `ids` stand in for
    /// `self.ids` where they are set.
    fn dispatch<F>(&mut self, borrowed: Option<&str>, ids: &[Option<&str>; 2], on_item: &mut F)
    where
        F: FnMut(Item<'_>),
    {
        // The id is committed by every blank line, before the check for data: an
        // `id:` alone in an event moves the last event id without an event.
        let committed = self.id_pending;
        if committed {
            self.id_pending = false;
            self.dispatched_id = !self.dispatched_id;
        }
        let dispatched = usize::from(self.dispatched_id);
        // The strip drops the LF that the last `data:` line appended.
        let data = borrowed.or_else(|| self.data.strip_suffix('\n'));
        self.id_without_event = data.is_none() && (committed || self.id_without_event);
        if let Some(data) = data {
            let event_type = if self.event_type.is_empty() {
                "message"
            } else {
                &self.event_type
            };
            on_item(Item::Event(ParsedEvent {
                event_type,
                data,
                last_event_id: ids[dispatched].or(self.ids[dispatched].as_deref()),
            }));
        }
        self.data.clear();
        self.data_len = 0;
        self.event_type.clear();
    }

    /// Copies into the id buffers the ids that stand in for them, before the chunk
    /// (or the line) they borrow from goes away.
    #[cold]
    fn keep_ids(&mut self, ids: &mut [Option<&str>; 2]) {
        for (slot, id) in self.ids.iter_mut().zip(ids) {
            if let Some(id) = id.take() {
                let buffer = slot.get_or_insert_with(String::new);
                buffer.clear();
                buffer.push_str(id);
            }
        }
    }
}

/// The value of `line` if its field name is exactly `name`: the text after the colon,
/// one leading space removed, or nothing when the line is the bare name.
#[inline]
fn value_of<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    let rest = line.strip_prefix(name)?;
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix(':').map(strip_space)
}

/// The bytes as text, invalid UTF-8 replaced by U+FFFD as the standard says.
///
/// Valid UTF-8 is the rule, and `str::from_utf8` checks it word by word, where
/// `from_utf8_lossy` walks every byte: the check first made the whole parser about 1.5×
/// faster (`make bench`, row 2a).
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(valid) => Cow::Borrowed(valid),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Removes one leading space: `data:  x` keeps the second.
fn strip_space(value: &str) -> &str {
    value.strip_prefix(' ').unwrap_or(value)
}

/// A `retry:` value: ASCII digits only, at least one, fitting in a `u64`.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |ms, &byte| {
        if !byte.is_ascii_digit() {
            return None;
        }
        ms.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
    })
}

// Finding line ends is most of the parser's work. Where SIMD is part of the target (SSE2
// on x86-64; wasm's simd128 when enabled), 64-byte blocks are turned into bitmasks, one
// pass over the chunk whatever the length of its lines: `memchr2` per line spends much
// of its time setting up for lines of 80 bytes or so. Elsewhere (wasm32 without
// simd128, which is how Rust builds for the web by default, and where memchr falls back
// to 4-byte words), each line end is searched for sixteen bytes at a time in two `u64`s
// (natively, off x86-64, with memchr).
//
// Both find out on the way whether the line is ASCII, so that no other pass over the
// chunk is needed: a separate UTF-8 check (`str::from_utf8` of the chunk or of each
// event's data) cost natively as much as the rest of the parser, as it read the chunk
// from memory once more.
/// A way of finding the line ends of one chunk, in order.
trait FindLineEnds<'a> {
    fn new(chunk: &'a [u8]) -> Self;
    /// The first CR or LF at or after `start`, which is past the last one handed out.
    fn next_from(&mut self, start: usize) -> Option<usize>;
    /// Whether the bytes from `start` to `end`, the line end handed out last, are all
    /// ASCII. `false` may be conservative (the line is then checked as UTF-8); `true`
    /// never is, and skips that check.
    fn is_ascii(&self, start: usize, end: usize) -> bool;
    /// The end of the line from `start`, which is past the last one handed out, when
    /// this search can append the line's bytes and an LF to `data` as it goes and has:
    /// the line is valid UTF-8 and ends within the room `data` has. `None` leaves
    /// `data` as it was, and the line to [`next_from`](Self::next_from).
    #[cfg(feature = "perf-copy")]
    #[inline]
    fn next_copying_data(&mut self, _start: usize, _data: &mut String) -> Option<usize> {
        None
    }
}

#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
use blocks::LineEnds;
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
use words::LineEnds;

#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
mod blocks {
    /// The CR and LF bytes of a chunk, found a 64-byte block at a time, and which
    /// lines are all ASCII.
    pub(super) struct LineEnds<'a> {
        chunk: &'a [u8],
        /// Where the current block starts.
        base: usize,
        /// One bit per byte of the current block, set for CR and LF; cleared as they
        /// are handed out.
        ends: u64,
        /// One bit per byte of the current block, set for the bytes above 0x7F.
        high: u64,
        /// Just past the last byte above 0x7F in the blocks before the current one.
        ascii_from: usize,
    }

    const BLOCK: usize = 64;
    /// How far ahead of the block being read the x86-64 search asks for the chunk's
    /// bytes (a prefetch hint, inside the chunk only). A chunk fresh from the network
    /// is often not in the cache yet, and the parser reads it a block at a time
    /// between lines of work, which the hardware prefetcher alone did not keep ahead
    /// of: natively, on the bench's 64 MiB stream, 1, 2 and 4 KiB ahead each took a
    /// pass from about 22.0 to 20.5-20.8 ms of CPU time (the memchr line split: 19.2).
    #[cfg(target_arch = "x86_64")]
    const PREFETCH: usize = 2048;

    impl<'a> super::FindLineEnds<'a> for LineEnds<'a> {
        #[inline]
        fn new(chunk: &'a [u8]) -> Self {
            LineEnds::new(chunk)
        }

        #[inline]
        fn next_from(&mut self, start: usize) -> Option<usize> {
            LineEnds::next_from(self, start)
        }

        #[inline]
        fn is_ascii(&self, start: usize, end: usize) -> bool {
            LineEnds::is_ascii(self, start, end)
        }
    }

    impl<'a> LineEnds<'a> {
        pub(super) fn new(chunk: &'a [u8]) -> Self {
            let (ends, high) = block_masks(chunk);
            LineEnds {
                chunk,
                base: 0,
                ends,
                high,
                ascii_from: 0,
            }
        }

        /// The first CR or LF at or after `start`, which is past the last one handed
        /// out.
        #[inline]
        pub(super) fn next_from(&mut self, start: usize) -> Option<usize> {
            let end = self.next()?;
            if end >= start {
                return Some(end);
            }
            // Below `start` is only the LF of a CRLF, consumed with its CR.
            self.next()
        }

        #[inline]
        fn next(&mut self) -> Option<usize> {
            while self.ends == 0 {
                if self.high != 0 {
                    self.ascii_from = self.base + BLOCK - self.high.leading_zeros() as usize;
                }
                self.base += BLOCK;
                let block = self.chunk.get(self.base..).filter(|b| !b.is_empty())?;
                #[cfg(target_arch = "x86_64")]
                if let Some(ahead) = block.get(PREFETCH) {
                    // SAFETY: a prefetch is a hint; it reads nothing.
                    unsafe {
                        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(ahead).cast());
                    }
                }
                (self.ends, self.high) = block_masks(block);
            }
            let end = self.base + self.ends.trailing_zeros() as usize;
            self.ends &= self.ends - 1;
            Some(end)
        }

        /// Whether the bytes from `start` to `end`, the line end handed out last, are
        /// all ASCII.
        #[inline]
        pub(super) fn is_ascii(&self, start: usize, end: usize) -> bool {
            if start < self.ascii_from {
                return false;
            }
            if self.high == 0 {
                return true;
            }
            // The bits of the current block from `start` (or its first byte) to `end`.
            let below = |bit: usize| (1u64 << bit) - 1;
            let from = start.saturating_sub(self.base);
            let to = end - self.base;
            self.high & below(to) & !below(from) == 0
        }
    }

    /// The line-end and high-byte masks of the first 64 bytes of `bytes` (all of them
    /// if fewer).
    #[inline]
    fn block_masks(bytes: &[u8]) -> (u64, u64) {
        match bytes.first_chunk::<BLOCK>() {
            Some(block) => masks(block),
            None => {
                // The chunk's last, short block: zeros are neither line ends nor high.
                let mut block = [0; BLOCK];
                let n = bytes.len().min(BLOCK);
                block[..n].copy_from_slice(&bytes[..n]);
                masks(&block)
            }
        }
    }

    /// Bit `i` of the first mask is set where `block[i]` is CR or LF, of the second
    /// where it is above 0x7F. SSE2 is part of every x86-64 CPU.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn masks(block: &[u8; BLOCK]) -> (u64, u64) {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
            _mm_setzero_si128,
        };
        // SAFETY: SSE2 is enabled at compile time (the module's cfg), and the loads
        // read the 16 bytes of a `part`, without alignment.
        unsafe {
            let mut ends = 0;
            let mut any_high = _mm_setzero_si128();
            let mut parts = [any_high; 4];
            for (i, part) in block.chunks_exact(16).enumerate() {
                let v = _mm_loadu_si128(part.as_ptr().cast());
                parts[i] = v;
                any_high = _mm_or_si128(any_high, v);
                let lf = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
                let cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8));
                ends |= u64::from(_mm_movemask_epi8(_mm_or_si128(lf, cr)) as u16) << (16 * i);
            }
            if _mm_movemask_epi8(any_high) == 0 {
                return (ends, 0);
            }
            // Text beyond ASCII: where, exactly.
            let mut high = 0;
            for (i, v) in parts.into_iter().enumerate() {
                high |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * i);
            }
            (ends, high)
        }
    }

    /// Bit `i` of the first mask is set where `block[i]` is CR or LF, of the second
    /// where it is above 0x7F; with wasm's 128-bit SIMD.
    #[cfg(target_arch = "wasm32")]
    #[inline]
    fn masks(block: &[u8; BLOCK]) -> (u64, u64) {
        use std::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, v128, v128_load, v128_or};
        let mut ends = 0;
        let mut any_high = u8x16_splat(0);
        let mut parts = [any_high; 4];
        for (i, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` holds the 16 bytes the load reads; wasm loads need no
            // alignment.
            let v = unsafe { v128_load(part.as_ptr().cast::<v128>()) };
            parts[i] = v;
            any_high = v128_or(any_high, v);
            let hits = v128_or(
                u8x16_eq(v, u8x16_splat(b'\n')),
                u8x16_eq(v, u8x16_splat(b'\r')),
            );
            ends |= u64::from(u8x16_bitmask(hits)) << (16 * i);
        }
        if u8x16_bitmask(any_high) == 0 {
            return (ends, 0);
        }
        // Text beyond ASCII: where, exactly.
        let mut high = 0;
        for (i, v) in parts.into_iter().enumerate() {
            high |= u64::from(u8x16_bitmask(v)) << (16 * i);
        }
        (ends, high)
    }
}

// Also built for the native tests, which check it against a plain scan.
#[cfg(any(
    test,
    not(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "wasm32", target_feature = "simd128")
    ))
))]
mod words {
    /// The CR and LF bytes of a chunk, each searched for from the line's start in
    /// `u64` words (wasm32 has 64-bit integers even though its `usize` is 32 bits), and
    /// which lines are all ASCII.
    ///
    /// In V8 (node 20, the parser on the bench's mixed stream), two words a step with
    /// the cheap test of [`calm`] and the exact search only where it fires, inlined
    /// into the parser's loop, took the line search from about 21 to 17 ms per 64 MiB
    /// against one word a step with the exact search; 32 bytes a step was no faster,
    /// and a first pass that lists every line end of the chunk was slower. Left as a
    /// call, the search cost as much again in the call and its returned `Option`.
    /// In Chromium 156, a step that finds the line end picking its word without a
    /// branch (the word is as random as the line's length), a conservative ASCII
    /// verdict (no mask of the bytes before the line end) and one index for the loop
    /// took the parser's search alone from about 19 to 17 ms per 64 MiB; that index
    /// is now a pointer that moves (see `step`).
    pub(super) struct LineEnds<'a> {
        chunk: &'a [u8],
        /// Whether the last search met a byte above 0x7F before the line end it found,
        /// or (the word search) after it within the step that found it.
        high: bool,
        /// Natively: the whole chunk is ASCII (the rule), so no line needs a check.
        #[cfg(not(target_arch = "wasm32"))]
        ascii: bool,
    }

    /// The room `next_copying_data` makes at the end of the data buffer: lines of
    /// events with several `data:` lines are seldom longer.
    #[cfg(feature = "perf-copy")]
    const COPY_ROOM: usize = 512;

    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);

    impl<'a> super::FindLineEnds<'a> for LineEnds<'a> {
        #[inline]
        fn new(chunk: &'a [u8]) -> Self {
            LineEnds::new(chunk)
        }

        #[inline]
        fn next_from(&mut self, start: usize) -> Option<usize> {
            LineEnds::next_from(self, start)
        }

        #[inline]
        fn is_ascii(&self, start: usize, end: usize) -> bool {
            LineEnds::is_ascii(self, start, end)
        }

        // Natively memchr finds line ends faster than this search, and copies cost no
        // call.
        #[cfg(all(feature = "perf-copy", target_arch = "wasm32"))]
        #[inline]
        fn next_copying_data(&mut self, start: usize, data: &mut String) -> Option<usize> {
            LineEnds::next_copying_data(self, start, data)
        }
    }

    impl<'a> LineEnds<'a> {
        pub(super) fn new(chunk: &'a [u8]) -> Self {
            LineEnds {
                chunk,
                high: false,
                #[cfg(not(target_arch = "wasm32"))]
                ascii: chunk.is_ascii(),
            }
        }

        /// The first CR or LF at or after `start`.
        #[inline]
        pub(super) fn next_from(&mut self, start: usize) -> Option<usize> {
            #[cfg(not(target_arch = "wasm32"))]
            return self.next_from_simd(start);
            #[cfg(target_arch = "wasm32")]
            return self.next_from_words(start);
        }

        /// Natively: memchr's vector search, and std's ASCII check of the line when the
        /// chunk is not all ASCII (both several times faster there than eight bytes a
        /// step, and one check of the whole chunk costs less than one per line).
        #[cfg(not(target_arch = "wasm32"))]
        #[inline]
        fn next_from_simd(&mut self, start: usize) -> Option<usize> {
            let bytes = self.chunk.get(start..)?;
            let end = memchr::memchr2(b'\n', b'\r', bytes)?;
            self.high = !self.ascii && !bytes.get(..end).unwrap_or_default().is_ascii();
            Some(start + end)
        }

        /// In wasm: sixteen bytes a step, the line end and the ASCII check in one pass.
        /// A step costs a few operations while its bytes are all plain text (0x0E to
        /// 0x7F, see [`calm`]); only a step that holds anything else looks for the
        /// exact line end, a word at a time.
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        #[inline]
        pub(super) fn next_from_words(&mut self, start: usize) -> Option<usize> {
            let chunk = self.chunk;
            let mut at = start;
            // The bytes of the line's steps that were not calm, OR-ed together.
            let mut seen = 0;
            if let Some(last) = chunk.len().checked_sub(16) {
                // A pointer that moves, not an index (see `step`).
                let base = chunk.as_ptr();
                let stop = base.wrapping_add(last);
                let mut from = base.wrapping_add(start);
                while from <= stop {
                    // SAFETY: `from + 16 <= chunk.len()`.
                    let (a, b) = unsafe { step(from) };
                    if calm(a) & calm(b) != HIGH {
                        if let Some(offset) = first_line_end(a, b) {
                            // Conservative: a byte above 0x7F after the line end, in
                            // this step, makes the line a candidate for the UTF-8
                            // check too.
                            self.high = (seen | a | b) & HIGH != 0;
                            return Some(distance(base, from) + offset);
                        }
                        seen |= a | b;
                    }
                    from = from.wrapping_add(16);
                }
                at = distance(base, from);
            }
            // The chunk's last 15 bytes at most.
            for &byte in chunk.get(at..)? {
                if byte == b'\n' || byte == b'\r' {
                    self.high = seen & HIGH != 0;
                    return Some(at);
                }
                seen |= u64::from(byte);
                at += 1;
            }
            None
        }

        /// [`next_from_words`](Self::next_from_words), each step's sixteen bytes also
        /// stored at the end of `data` (see `FindLineEnds::next_copying_data`). The
        /// room is what `data` has after reserving [`COPY_ROOM`] bytes: a longer line,
        /// or one that ends in the chunk's last fifteen bytes, is left to the plain
        /// search.
        #[cfg(feature = "perf-copy")]
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        #[inline]
        pub(super) fn next_copying_data(
            &mut self,
            start: usize,
            data: &mut String,
        ) -> Option<usize> {
            data.reserve(COPY_ROOM);
            // SAFETY: the length grows only over bytes written and found to be valid
            // UTF-8; what the steps write past it is spare capacity.
            let data = unsafe { data.as_mut_vec() };
            let (len, room) = (data.len(), data.capacity() - data.len());
            let chunk = self.chunk;
            // `room >= COPY_ROOM > 16`.
            let last = chunk.len().checked_sub(16)?.min(start + room - 16);
            let mut seen = 0;
            let base = chunk.as_ptr();
            let stop = base.wrapping_add(last);
            let mut from = base.wrapping_add(start);
            // SAFETY: `len <= capacity`.
            let mut to = unsafe { data.as_mut_ptr().add(len) };
            while from <= stop {
                debug_assert!(
                    distance(base, from) + 16 <= chunk.len()
                        && distance(data.as_ptr(), to) + 16 <= data.capacity()
                );
                // SAFETY: `from + 16 <= chunk.len()`, and `to` is as far past the end of
                // `data` as `from` is past `start`, which is at most `room - 16`;
                // neither side needs alignment.
                let (a, b) = unsafe {
                    let bytes = from.cast::<u128>().read_unaligned();
                    to.cast::<u128>().write_unaligned(bytes);
                    words(bytes)
                };
                if calm(a) & calm(b) != HIGH {
                    if let Some(offset) = first_line_end(a, b) {
                        let end = distance(base, from) + offset;
                        // As in `next_from_words`, a byte above 0x7F after the line
                        // end costs the line a UTF-8 check, never a wrong verdict.
                        let high = (seen | a | b) & HIGH != 0;
                        if high && std::str::from_utf8(chunk.get(start..end)?).is_err() {
                            return None;
                        }
                        let value = end - start;
                        // SAFETY: `value < from - start + 16`, which fits in `room`; the
                        // LF goes into the byte after the value.
                        unsafe {
                            data.as_mut_ptr().add(len + value).write(b'\n');
                            data.set_len(len + value + 1);
                        }
                        return Some(end);
                    }
                    seen |= a | b;
                }
                from = from.wrapping_add(16);
                to = to.wrapping_add(16);
            }
            None
        }

        /// Whether the line from `start` to the line end handed out last (searched for
        /// from `start`) is all ASCII; in wasm, `false` also when a byte above 0x7F
        /// follows the line end within its step.
        #[inline]
        pub(super) fn is_ascii(&self, _start: usize, _end: usize) -> bool {
            !self.high
        }
    }

    /// The sixteen bytes at `at` as two `u64`s (see [`words`]).
    ///
    /// One `u128` read, so that wasm loads the second word at an offset from the
    /// first's address. The loops move pointers for the same reason: with an index,
    /// wasm added it to the chunk's start (and to the end of the data buffer) at every
    /// step and `+ 8` apart, and V8 kept those additions (together about 1.03-1.07x on
    /// the bench's mixed stream in Chromium).
    ///
    /// # Safety
    ///
    /// `at` must point to sixteen readable bytes.
    #[inline]
    unsafe fn step(at: *const u8) -> (u64, u64) {
        words(at.cast::<u128>().read_unaligned())
    }

    /// How many bytes `to` is past `from`, as addresses: no `unsafe` needed.
    #[inline]
    fn distance(from: *const u8, to: *const u8) -> usize {
        to as usize - from as usize
    }

    /// Sixteen bytes read as they lie in memory, as two `u64`s: the first byte in the
    /// lowest bits of the first.
    #[inline]
    fn words(bytes: u128) -> (u64, u64) {
        let bytes = u128::from_le(bytes);
        (bytes as u64, (bytes >> 64) as u64)
    }

    /// 0x72 added to a byte from 0x0E to 0x7F sets its top bit and carries nothing
    /// into the next byte.
    const CALM: u64 = u64::from_ne_bytes([0x72; 8]);

    /// `HIGH` exactly when every byte of `word` is from 0x0E to 0x7F: no CR, no LF,
    /// nothing above ASCII. A byte below 0x0E clears its own bit, one above 0x7F clears
    /// its own through `!word` (whatever it carries into the next byte), so a word with
    /// a line end or a byte above 0x7F is never calm.
    #[inline]
    fn calm(word: u64) -> u64 {
        word.wrapping_add(CALM) & !word & HIGH
    }

    /// Where the first CR or LF of the sixteen bytes `a` then `b` is, if any.
    #[inline]
    fn first_line_end(a: u64, b: u64) -> Option<usize> {
        let (in_a, in_b) = (line_ends(a), line_ends(b));
        if in_a | in_b == 0 {
            return None;
        }
        // In `a` if it has one (the lowest bit of `in_a` is exact), else in `b`. No
        // branch: which word holds it is as random as the line's length.
        let bit = in_a.trailing_zeros() + if in_a == 0 { in_b.trailing_zeros() } else { 0 };
        Some((bit / 8) as usize)
    }

    /// 0x80 in the bytes of `word` that are CR or LF, and perhaps in some above one:
    /// the lowest is exact.
    #[inline]
    fn line_ends(word: u64) -> u64 {
        zero_bytes(word ^ (ONES * u64::from(b'\n'))) | zero_bytes(word ^ (ONES * u64::from(b'\r')))
    }

    /// 0x80 in the bytes of `x` that are zero, and perhaps in some above a zero byte
    /// (a borrow): the lowest is exact.
    #[inline]
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGH
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    mod tests {
        use super::LineEnds;

        /// Both searches find the same line ends and the same ASCII verdicts.
        #[test]
        fn the_word_search_agrees_with_the_vector_search() {
            let pieces: [&[u8]; 7] = [
                b"data: x",
                b"\n",
                b"\r\n",
                b"\r",
                "é😀".as_bytes(),
                b"0123456789abcdef",
                b"",
            ];
            let mut seed = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..2000 {
                let mut chunk = Vec::new();
                for _ in 0..(seed % 12) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    chunk.extend_from_slice(pieces[(seed % 7) as usize]);
                }
                let (mut simd, mut words) = (LineEnds::new(&chunk), LineEnds::new(&chunk));
                let mut start = 0;
                loop {
                    let found = simd.next_from_simd(start);
                    assert_eq!(
                        found,
                        words.next_from_words(start),
                        "{chunk:?} from {start}"
                    );
                    let Some(end) = found else { break };
                    // The word search may call a line beyond ASCII when the step of
                    // its line end holds a high byte after it: never the other way.
                    assert!(words.high || !simd.high, "{chunk:?} from {start}");
                    assert!(!words.high || !chunk.is_ascii(), "{chunk:?} from {start}");
                    start = end + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffers a limit is meant to bound.
    fn buffered(parser: &Parser) -> usize {
        parser.line.capacity() + parser.data.capacity() + parser.event_type.capacity()
    }

    /// The ids each chunk leaves for a transport to report: an id committed with no
    /// event after it, once.
    fn ids_without_events(chunks: &[&str]) -> Vec<Option<String>> {
        let mut parser = Parser::new();
        chunks
            .iter()
            .map(|chunk| {
                parser.feed(chunk.as_bytes(), |_| {}).unwrap();
                parser.take_id_without_event().map(str::to_owned)
            })
            .collect()
    }

    #[test]
    fn an_id_committed_without_an_event_is_taken_once() {
        let some = |id: &str| Some(id.to_owned());
        assert_eq!(
            ids_without_events(&[
                "id: 1\ndata: a\n\n",
                "id: 2\n\n",
                "",
                "id: 3\n\ndata: b\n\n",
                "id: 4\n\nid: 5\n",
                "\n",
                "id\n\n",
                "id: 6\ndata: c\n",
                "\n",
                "id: 6\n\n",
            ]),
            [
                // An event carries its id.
                None,
                some("2"),
                // Taken already.
                None,
                // An event after the id carries it: `b` has id 3.
                None,
                // Only the dispatched id counts: 5 is pending until its blank line.
                some("4"),
                some("5"),
                // An empty id resets the last event id, with no event.
                some(""),
                // The event is not dispatched yet, and the id is not committed.
                None,
                None,
                // The same id again is still a commit without an event.
                some("6"),
            ]
        );
    }

    #[test]
    fn a_new_stream_forgets_an_id_not_taken() {
        let mut parser = Parser::new();
        parser.feed(b"id: 1\n\n", |_| {}).unwrap();
        parser.finish();
        assert_eq!(parser.take_id_without_event(), None);
        assert_eq!(parser.last_event_id(), Some("1"));
    }

    #[test]
    fn a_line_that_never_ends_does_not_grow_past_the_limit() {
        let limit = 64 * 1024;
        let mut parser = Parser::with_max_event_size(limit);
        let chunk = [b'x'; 1000];
        let mut fed = 0;
        let error = loop {
            match parser.feed(&chunk, |_| {}) {
                Ok(()) => fed += chunk.len(),
                Err(error) => break error,
            }
            assert!(parser.line.len() <= limit);
        };
        assert_eq!(error, ParseError::EventTooLarge { limit });
        assert!(fed <= limit && fed + chunk.len() > limit);
        assert_eq!(buffered(&parser), 0, "a failed parser frees its buffers");
        assert!(parser.feed(&chunk, |_| {}).is_err());
        assert_eq!(buffered(&parser), 0);
    }

    #[test]
    fn one_huge_chunk_is_refused_before_it_is_copied() {
        let mut parser = Parser::with_max_event_size(1024);
        let huge = vec![b'd'; 1 << 20];
        assert!(parser.feed(&huge, |_| {}).is_err());
        assert_eq!(buffered(&parser), 0);
    }

    /// The ids a chunk set before a line that fails survive the failure, as if they
    /// had been copied when they came.
    #[test]
    fn a_failure_keeps_the_ids_before_it() {
        let chunk = b"id: 7\ndata: x\n\nid: 8\ndata: 0123456789abcdefghij\n";
        for limit in [16, 20] {
            let mut parser = Parser::with_max_event_size(limit);
            assert!(parser.feed(chunk, |_| {}).is_err());
            assert_eq!(parser.last_event_id(), Some("7"));
            assert_eq!(parser.last_event_id_buffer(), Some("8"));
            parser.finish();
            assert_eq!(parser.last_event_id(), Some("7"));
        }
    }

    #[test]
    fn data_never_exceeds_the_limit() {
        let limit = 4096;
        let mut parser = Parser::with_max_event_size(limit);
        let line = format!("data: {}\n", "y".repeat(100));
        loop {
            if parser.feed(line.as_bytes(), |_| {}).is_err() {
                break;
            }
            assert!(parser.data.len() <= limit);
        }
    }

    /// The word search (wasm32's) through the whole parser, natively.
    struct Words<'a>(words::LineEnds<'a>);

    impl<'a> FindLineEnds<'a> for Words<'a> {
        fn new(chunk: &'a [u8]) -> Self {
            Words(words::LineEnds::new(chunk))
        }

        fn next_from(&mut self, start: usize) -> Option<usize> {
            self.0.next_from_words(start)
        }

        fn is_ascii(&self, start: usize, end: usize) -> bool {
            self.0.is_ascii(start, end)
        }

        #[cfg(feature = "perf-copy")]
        fn next_copying_data(&mut self, start: usize, data: &mut String) -> Option<usize> {
            self.0.next_copying_data(start, data)
        }
    }

    #[derive(Debug, PartialEq)]
    enum Owned {
        Event(String, String, Option<String>),
        Comment(String),
        Retry(u64),
    }

    /// What a parser makes of `chunks` with line ends found by `L`: its items, its
    /// error, its last event ids.
    fn run<'c, L: FindLineEnds<'c>>(
        limit: usize,
        chunks: &[&'c [u8]],
    ) -> (
        Vec<Owned>,
        Option<ParseError>,
        Option<String>,
        Option<String>,
    ) {
        let mut parser = Parser::with_max_event_size(limit);
        let mut items = Vec::new();
        let mut error = None;
        for &chunk in chunks {
            let fed = parser.feed_using::<L, _>(chunk, |item| {
                items.push(match item {
                    Item::Event(e) => Owned::Event(
                        e.event_type.to_owned(),
                        e.data.to_owned(),
                        e.last_event_id.map(str::to_owned),
                    ),
                    Item::Comment(text) => Owned::Comment(text.to_owned()),
                    Item::Retry(ms) => Owned::Retry(ms),
                })
            });
            if let Err(e) = fed {
                error = Some(e);
                break;
            }
        }
        let ids = (
            parser.last_event_id().map(str::to_owned),
            parser.last_event_id_buffer().map(str::to_owned),
        );
        (items, error, ids.0, ids.1)
    }

    /// Every way of finding line ends makes the parser produce the same items from the
    /// same streams, however they are cut into chunks: long plain lines (the word
    /// search's fast steps), text beyond ASCII, invalid UTF-8, control bytes and every
    /// line end, each at any offset from a step's start.
    #[test]
    fn every_line_search_parses_alike() {
        // Longer than the room the word search's copy of a `data:` line makes.
        const LONG_LINE: &[u8] = &[b'z'; 700];
        let pieces: [&[u8]; 23] = [
            b"data:",
            b"data: ",
            b"id: ",
            b"event: ",
            b"retry: 1",
            b": ",
            b"\n",
            b"\r",
            b"\r\n",
            b"\n\n",
            b"x",
            b"0123456789abcdef",
            b"the quick brown fox jumps over the lazy dog, ",
            "é😀".as_bytes(),
            b"\xEF\xBB\xBF",
            b"\xFF",
            b"\xC3",
            b"\x00",
            b"\t",
            b"\x0E\x7F\x0C\x8E",
            b"data: {\"seq\":1,\"type\":\"tick\",\"price\":101.25}\n",
            b"data: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            LONG_LINE,
        ];
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..3000 {
            let mut stream = Vec::new();
            for _ in 0..next() % 60 {
                stream.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let mut chunks = Vec::new();
            let mut rest = &stream[..];
            while !rest.is_empty() {
                let n = match next() % 4 {
                    0 => 1,
                    1 => (next() % 8) as usize,
                    _ => (next() % 200) as usize,
                }
                .min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                chunks.push(chunk);
                rest = tail;
            }
            let limit = if round % 5 == 0 { 64 } else { 1 << 20 };
            let whole = run::<LineEnds>(limit, &[&stream]);
            let cut = run::<LineEnds>(limit, &chunks);
            assert_eq!(run::<Words>(limit, &[&stream]), whole, "{stream:?}");
            assert_eq!(
                run::<Words>(limit, &chunks),
                cut,
                "{stream:?} in {chunks:?}"
            );
            assert_eq!(run::<words::LineEnds>(limit, &chunks), cut, "{stream:?}");
            if whole.1.is_none() && cut.1.is_none() {
                assert_eq!(whole, cut, "{stream:?} in {chunks:?}");
            }
        }
    }

    #[test]
    fn retry_values() {
        assert_eq!(parse_retry(b"0"), Some(0));
        assert_eq!(parse_retry(b"0003000"), Some(3000));
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
        assert_eq!(parse_retry(&[b'9'; 400]), None);
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"-1",
            b"+1",
            b"1.5",
            b"1e3",
            b"\xEF\xBC\x91",
        ] {
            assert_eq!(parse_retry(bad), None, "{bad:?}");
        }
    }
}

/// Both ways of finding line ends, against a plain scan, as the parser calls them: each
/// search starts past the last line end, and past the LF of a CRLF.
#[cfg(test)]
mod line_end_tests {
    /// Random bytes that are mostly ASCII letters, with line ends, control bytes,
    /// UTF-8 sequences and bytes that are never UTF-8 mixed in.
    fn samples() -> impl Iterator<Item = Vec<u8>> {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..4000).map(move |_| {
            let len = (next() % 300) as usize;
            (0..len)
                .map(|_| match next() % 40 {
                    0..=2 => b'\n',
                    3..=4 => b'\r',
                    5 => 0xC3,
                    6 => 0xA9,
                    7 => 0xFF,
                    8 => b'\t',
                    9 => 0,
                    _ => b'a' + (next() % 26) as u8,
                })
                .collect()
        })
    }

    /// The line ends of `bytes` and whether each line is ASCII, the plain way.
    fn plain(bytes: &[u8], mut start: usize) -> Vec<(usize, bool)> {
        let mut lines = Vec::new();
        while let Some(at) = bytes[start.min(bytes.len())..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = start + at;
            lines.push((end, bytes[start..end].is_ascii()));
            start = after(bytes, end);
        }
        lines
    }

    /// Where the next line starts, a CRLF being one line end.
    fn after(bytes: &[u8], end: usize) -> usize {
        if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
            end + 2
        } else {
            end + 1
        }
    }

    /// `exact`: whether the search's ASCII verdicts are exact, or only never call a
    /// line ASCII that is not (and every line of an ASCII chunk ASCII).
    macro_rules! check {
        ($ends:ty, $exact:expr) => {
            for bytes in samples() {
                // A chunk may start with the LF of a CR that ended the last one.
                let first = usize::from(bytes.first() == Some(&b'\n'));
                let mut ends = <$ends>::new(&bytes);
                let mut start = first;
                let mut lines = Vec::new();
                while let Some(end) = ends.next_from(start) {
                    lines.push((end, ends.is_ascii(start, end)));
                    start = after(&bytes, end);
                }
                let expected = plain(&bytes, first);
                if $exact {
                    assert_eq!(lines, expected, "{bytes:?}");
                } else {
                    let at =
                        |lines: &[(usize, bool)]| lines.iter().map(|l| l.0).collect::<Vec<_>>();
                    assert_eq!(at(&lines), at(&expected), "{bytes:?}");
                    for (&(end, found), &(_, ascii)) in lines.iter().zip(&expected) {
                        assert!(!found || ascii, "{bytes:?} at {end}");
                        assert!(found || !bytes.is_ascii(), "{bytes:?} at {end}");
                    }
                }
            }
        };
    }

    #[test]
    fn words_find_every_line_end_and_ascii_line() {
        check!(super::words::LineEnds, false);
    }

    #[cfg(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "wasm32", target_feature = "simd128")
    ))]
    #[test]
    fn blocks_find_every_line_end_and_ascii_line() {
        check!(super::blocks::LineEnds, true);
    }
}
