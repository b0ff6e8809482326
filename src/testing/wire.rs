//! What the scripted server writes: events, ids, `retry:` and comments in the
//! event-stream format (pure).

use std::time::Duration;

/// One event the [`MockServer`](super::MockServer) sends, built field by field.
///
/// ```
/// use std::time::Duration;
/// use sse_wasm::testing::Event;
///
/// let event = Event::new("tick", "{\"price\":3}").id("7").retry(Duration::from_millis(50));
/// assert_eq!(
///     event.to_bytes(),
///     b"event: tick\nid: 7\nretry: 50\ndata: {\"price\":3}\n\n".to_vec()
/// );
/// // No `event:` field: the client sees the type "message".
/// assert_eq!(Event::message("hi").to_bytes(), b"data: hi\n\n".to_vec());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    event_type: Option<String>,
    data: String,
    id: Option<String>,
    retry: Option<Duration>,
}

impl Event {
    /// An event of this type with this data. Line breaks in `data` (LF, CRLF or CR)
    /// become `data:` lines of their own, which the client joins with `\n`.
    ///
    /// ```
    /// use sse_wasm::testing::Event;
    ///
    /// assert_eq!(
    ///     Event::new("news", "a\nb").to_bytes(),
    ///     b"event: news\ndata: a\ndata: b\n\n".to_vec()
    /// );
    /// ```
    pub fn new(event_type: impl Into<String>, data: impl Into<String>) -> Event {
        Event {
            event_type: Some(event_type.into()),
            ..Event::message(data)
        }
    }

    /// An event without an `event:` field, which the client delivers as `"message"`.
    ///
    /// ```
    /// use sse_wasm::testing::Event;
    ///
    /// assert_eq!(Event::message("1").to_bytes(), b"data: 1\n\n".to_vec());
    /// ```
    pub fn message(data: impl Into<String>) -> Event {
        Event {
            event_type: None,
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    /// Gives the event an `id:` field: the id the client resumes from after it.
    ///
    /// ```
    /// use sse_wasm::testing::Event;
    ///
    /// assert_eq!(Event::message("x").id("41").to_bytes(), b"id: 41\ndata: x\n\n".to_vec());
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Event {
        self.id = Some(id.into());
        self
    }

    /// Adds a `retry:` field: the least wait before the client's next reconnect (the
    /// fetch transport honours it; the native `EventSource` keeps it to itself).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_wasm::testing::Event;
    ///
    /// let event = Event::message("x").retry(Duration::from_secs(2));
    /// assert_eq!(event.to_bytes(), b"retry: 2000\ndata: x\n\n".to_vec());
    /// ```
    pub fn retry(mut self, retry: Duration) -> Event {
        self.retry = Some(retry);
        self
    }

    /// The event as it goes over the wire, blank line included.
    ///
    /// ```
    /// use sse_wasm::testing::Event;
    ///
    /// assert_eq!(Event::new("a", "").to_bytes(), b"event: a\ndata: \n\n".to_vec());
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        if let Some(event_type) = &self.event_type {
            field(&mut out, "event", event_type);
        }
        if let Some(id) = &self.id {
            field(&mut out, "id", id);
        }
        if let Some(retry) = self.retry {
            field(&mut out, "retry", &retry.as_millis().to_string());
        }
        for line in lines(&self.data) {
            field(&mut out, "data", line);
        }
        out.push('\n');
        out.into_bytes()
    }
}

/// `id: <id>` and a blank line: the stream's last event id changes without an event.
pub(crate) fn id_only(id: &str) -> Vec<u8> {
    let mut out = String::new();
    field(&mut out, "id", id);
    out.push('\n');
    out.into_bytes()
}

/// `retry: <ms>` and a blank line.
pub(crate) fn retry_only(retry: Duration) -> Vec<u8> {
    let mut out = String::new();
    field(&mut out, "retry", &retry.as_millis().to_string());
    out.push('\n');
    out.into_bytes()
}

/// One comment line per line of `text`.
pub(crate) fn comment(text: &str) -> Vec<u8> {
    let mut out = String::new();
    for line in lines(text) {
        out.push_str(": ");
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

/// `name: value`; a line break inside a single-line field would start a new field,
/// so only what comes before the first one is written.
fn field(out: &mut String, name: &str, value: &str) {
    let value = if name == "data" {
        value
    } else {
        lines(value).next().unwrap_or("")
    };
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

/// The lines of `text`, split at LF, CRLF or CR as the parser splits them.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::{Item, Parser};

    /// What the library's parser makes of `bytes`: (type, data, id) per event.
    fn parse(bytes: &[u8]) -> Vec<(String, String, Option<String>)> {
        let mut events = Vec::new();
        Parser::new()
            .feed(bytes, |item| {
                if let Item::Event(event) = item {
                    events.push((
                        event.event_type.to_owned(),
                        event.data.to_owned(),
                        event.last_event_id.map(str::to_owned),
                    ));
                }
            })
            .expect("parses");
        events
    }

    #[test]
    fn events_parse_back_to_what_was_sent() {
        let mut bytes = Event::new("tick", "a\r\nb\rc\nd").id("9").to_bytes();
        bytes.extend(Event::message(" leading space").to_bytes());
        bytes.extend(comment("ping\npong"));
        bytes.extend(id_only("10"));
        bytes.extend(Event::new("x", "").to_bytes());
        assert_eq!(
            parse(&bytes),
            [
                ("tick".into(), "a\nb\nc\nd".into(), Some("9".into())),
                ("message".into(), " leading space".into(), Some("9".into())),
                ("x".into(), "".into(), Some("10".into())),
            ]
        );
    }

    #[test]
    fn a_line_break_cannot_smuggle_a_field_into_a_single_line_one() {
        let bytes = Event::new("a\ndata: b", "c").id("1\r\nevent: z").to_bytes();
        assert_eq!(parse(&bytes), [("a".into(), "c".into(), Some("1".into()))]);
    }

    #[test]
    fn retry_alone_dispatches_no_event() {
        let bytes = retry_only(Duration::from_millis(250));
        assert_eq!(bytes, b"retry: 250\n\n");
        assert!(parse(&bytes).is_empty());
    }
}
