//! The standard's algorithm (HTML §9.2.6) transcribed as plainly as possible, as the
//! oracle for the parser: decode the whole stream at once, then walk its lines. Used by
//! `tests/parser.rs` and by the fuzz target, which include this file by path.

use sse_wasm::parser::Item;

/// An [`Item`] that outlives the parser's buffers, for comparing runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owned {
    Event {
        event_type: String,
        data: String,
        id: Option<String>,
    },
    Comment(String),
    Retry(u64),
}

pub fn own(item: Item<'_>) -> Owned {
    match item {
        Item::Event(event) => Owned::Event {
            event_type: event.event_type.to_owned(),
            data: event.data.to_owned(),
            id: event.last_event_id.map(str::to_owned),
        },
        Item::Comment(text) => Owned::Comment(text.to_owned()),
        Item::Retry(ms) => Owned::Retry(ms),
    }
}

/// The items of a whole stream, ended after its last byte. The parser must agree with
/// it on any input (with no size limit).
pub fn reference(stream: &[u8]) -> Vec<Owned> {
    let stream = stream.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stream);
    let text = String::from_utf8_lossy(stream);
    let mut items = Vec::new();
    let (mut data, mut event_type) = (String::new(), String::new());
    let mut id_buffer: Option<String> = None;
    let mut rest: &str = &text;
    // A last line without its line end is never processed.
    while let Some(end) = rest.find(['\r', '\n']) {
        let line = &rest[..end];
        rest = match rest[end..].strip_prefix("\r\n") {
            Some(after) => after,
            None => &rest[end + 1..],
        };
        if line.is_empty() {
            // Every blank line commits the id buffer; an event carries it.
            if !data.is_empty() {
                data.pop();
                let event_type = if event_type.is_empty() {
                    "message"
                } else {
                    &event_type
                };
                items.push(Owned::Event {
                    event_type: event_type.to_owned(),
                    data: data.clone(),
                    id: id_buffer.clone(),
                });
            }
            data.clear();
            event_type.clear();
        } else if let Some(text) = line.strip_prefix(':') {
            let text = text.strip_prefix(' ').unwrap_or(text);
            items.push(Owned::Comment(text.to_owned()));
        } else {
            let (name, value) = match line.split_once(':') {
                Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            match name {
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "event" => event_type = value.to_owned(),
                "id" if !value.contains('\0') => id_buffer = Some(value.to_owned()),
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    // Too large for a u64: ignored.
                    if let Ok(ms) = value.parse::<u64>() {
                        items.push(Owned::Retry(ms));
                    }
                }
                _ => {}
            }
        }
    }
    items
}
