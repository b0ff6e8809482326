//! The WHATWG event-stream parser (HTML Living Standard §9.2.6, "Interpreting an event
//! stream"): bytes in, events out.
//!
//! It is pure and incremental. Feed it the body of a `text/event-stream` response in
//! chunks of any size, split anywhere (inside a line end, a UTF-8 sequence or the byte
//! order mark), and it hands each [`Item`] to a callback as soon as the line that
//! completes it arrives. The items borrow the parser's buffers, so once those have
//! grown to fit, valid UTF-8 is parsed without allocating; copy out what you keep.
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

/// The default bound on one pending event: 8 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 8 * 1024 * 1024;

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

/// One dispatched event. It borrows the parser's buffers, which the next line reuses.
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

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::EventTooLarge { limit } => {
                write!(
                    f,
                    "event stream: an event exceeded the limit of {limit} bytes"
                )
            }
        }
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
    /// The data buffer, raw: decoded once per event rather than once per line. Line
    /// ends are ASCII, so decoding the joined lines equals decoding each one.
    data: Vec<u8>,
    /// The event type buffer; empty means `"message"`.
    event_type: String,
    /// The last event id buffer, set by `id:` lines.
    id_buffer: Option<String>,
    /// The id as of the last dispatch: what `EventSource.lastEventId` would show.
    last_event_id: Option<String>,
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
            data: Vec::new(),
            event_type: String::new(),
            id_buffer: None,
            last_event_id: None,
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
        self.last_event_id.as_deref()
    }

    /// The standard's "last event ID buffer": the latest `id:` field, dispatched or
    /// not. An id whose event was cut off before its blank line shows here but not in
    /// [`last_event_id`](Self::last_event_id).
    pub fn last_event_id_buffer(&self) -> Option<&str> {
        self.id_buffer.as_deref()
    }

    /// Parses the next bytes of the stream, handing every completed item to `on_item`
    /// in order.
    ///
    /// On error the items before the offending line have been delivered; the parser
    /// then frees its buffers and fails every later call until [`finish`](Self::finish).
    pub fn feed<F>(&mut self, chunk: &[u8], mut on_item: F) -> Result<(), ParseError>
    where
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
                self.scan(&BOM[..seen], &mut on_item)?;
            }
        }
        self.scan(rest, &mut on_item)
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
        self.event_type.clear();
        self.id_buffer.clone_from(&self.last_event_id);
        self.failed = false;
    }

    fn error(&self) -> ParseError {
        ParseError::EventTooLarge { limit: self.limit }
    }

    /// Gives up on the stream, releasing the memory a large event took.
    fn fail(&mut self) -> ParseError {
        self.failed = true;
        self.line = Vec::new();
        self.data = Vec::new();
        self.event_type = String::new();
        self.error()
    }

    /// Whether `more` bytes on the current line would take the pending event past the
    /// limit.
    fn too_large(&self, more: usize) -> bool {
        self.data
            .len()
            .saturating_add(self.line.len())
            .saturating_add(more)
            > self.limit
    }

    fn scan<F>(&mut self, mut rest: &[u8], on_item: &mut F) -> Result<(), ParseError>
    where
        F: FnMut(Item<'_>),
    {
        if self.after_cr {
            if let Some(&first) = rest.first() {
                self.after_cr = false;
                if first == b'\n' {
                    rest = &rest[1..];
                }
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
            let head = &rest[..end];
            if self.too_large(head.len()) {
                return Err(self.fail());
            }
            if self.line.is_empty() {
                // The common case: the whole line is in this chunk, so no copy.
                self.process_line(head, on_item);
            } else {
                self.line.extend_from_slice(head);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, on_item);
                // Hand the allocation back, so the next split line reuses it.
                self.line = line;
                self.line.clear();
            }
            let was_cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if was_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        if !rest.is_empty() {
            // Check before copying, so a line that never ends cannot grow the buffer.
            if self.too_large(rest.len()) {
                return Err(self.fail());
            }
            self.line.extend_from_slice(rest);
        }
        Ok(())
    }

    fn process_line<F>(&mut self, line: &[u8], on_item: &mut F)
    where
        F: FnMut(Item<'_>),
    {
        if line.is_empty() {
            self.dispatch(on_item);
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(0) => {
                let comment = text(strip_space(&line[1..]));
                on_item(Item::Comment(&comment));
                return;
            }
            Some(colon) => (&line[..colon], strip_space(&line[colon + 1..])),
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&text(value));
            }
            // An id containing NUL is ignored (it falls through to `_`): it could not
            // be sent back in a header.
            b"id" if !value.contains(&0) => {
                let buffer = self.id_buffer.get_or_insert_with(String::new);
                buffer.clear();
                buffer.push_str(&text(value));
            }
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    on_item(Item::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch<F>(&mut self, on_item: &mut F)
    where
        F: FnMut(Item<'_>),
    {
        // The id is committed by every blank line, before the check for data: an
        // `id:` alone in an event moves the last event id without an event.
        self.last_event_id.clone_from(&self.id_buffer);
        if let Some((_, data)) = self.data.split_last() {
            // The split drops the LF that the last `data:` line appended.
            let data: Cow<'_, str> = text(data);
            let event_type = if self.event_type.is_empty() {
                "message"
            } else {
                &self.event_type
            };
            on_item(Item::Event(ParsedEvent {
                event_type,
                data: &data,
                last_event_id: self.last_event_id.as_deref(),
            }));
        }
        self.data.clear();
        self.event_type.clear();
    }
}

/// Removes one leading space: `data:  x` keeps the second.
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

fn strip_space(value: &[u8]) -> &[u8] {
    value.strip_prefix(b" ").unwrap_or(value)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffers a limit is meant to bound.
    fn buffered(parser: &Parser) -> usize {
        parser.line.capacity() + parser.data.capacity() + parser.event_type.capacity()
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
