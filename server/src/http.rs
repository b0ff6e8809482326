//! What every endpoint of the server writes the same way: plain-text errors, the
//! headers of an event stream, the wire form of an event, the last event id a client
//! resumes from, and the wall clock in milliseconds. The fault injector (`/sse`) and
//! the demo (`/demo/…`) both use it.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::stats::IdSource;

/// `400 Bad Request` with `message` as plain text.
pub fn bad_request(message: impl Display) -> Response {
    (StatusCode::BAD_REQUEST, format!("bad request: {message}\n")).into_response()
}

/// A streaming response of type `content_type`: never cached, and never buffered by a
/// proxy such as nginx (`X-Accel-Buffering: no`).
pub fn stream_response(body: Body, content_type: HeaderValue) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// A `text/event-stream` response (see [`stream_response`]).
pub fn event_stream(body: Body) -> Response {
    stream_response(body, HeaderValue::from_static("text/event-stream"))
}

/// One event on the wire: `event:` (when given), `id:` (when given), one `data:` line
/// and the blank line that dispatches it, each line ended by `newline`. `data` must
/// be one line (JSON from serde never holds a raw line break).
pub fn event_text(event: Option<&str>, id: Option<u64>, data: &str, newline: &str) -> String {
    let mut out = String::with_capacity(data.len() + 48);
    if let Some(event) = event {
        out.push_str("event: ");
        out.push_str(event);
        out.push_str(newline);
    }
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(&id.to_string());
        out.push_str(newline);
    }
    out.push_str("data: ");
    out.push_str(data);
    out.push_str(newline);
    out.push_str(newline);
    out
}

/// The id a client resumes from: the `Last-Event-ID` header, else the query parameter
/// `param` (where the native `EventSource` transport of `sse-wasm` puts it).
pub fn last_event_id(
    headers: &HeaderMap,
    query: &BTreeMap<String, String>,
    param: &str,
) -> Option<(String, IdSource)> {
    match headers.get("last-event-id") {
        Some(value) => Some((
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
            IdSource::Header,
        )),
        None => query
            .get(param)
            .map(|value| (value.clone(), IdSource::Query)),
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_has_its_fields_in_order_and_a_blank_line() {
        assert_eq!(
            event_text(Some("tick"), Some(7), "{}", "\n"),
            "event: tick\nid: 7\ndata: {}\n\n"
        );
        assert_eq!(event_text(None, None, "x", "\r\n"), "data: x\r\n\r\n");
    }

    #[test]
    fn the_header_wins_over_the_query() {
        let mut headers = HeaderMap::new();
        let query = BTreeMap::from([("lastEventId".to_owned(), "3".to_owned())]);
        assert_eq!(
            last_event_id(&headers, &query, "lastEventId"),
            Some(("3".to_owned(), IdSource::Query))
        );
        headers.insert("last-event-id", HeaderValue::from_static("9"));
        assert_eq!(
            last_event_id(&headers, &query, "lastEventId"),
            Some(("9".to_owned(), IdSource::Header))
        );
        assert_eq!(last_event_id(&HeaderMap::new(), &query, "other"), None);
    }
}
