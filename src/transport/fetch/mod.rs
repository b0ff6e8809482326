//! `fetch` + `ReadableStream`: headers, a method and a body, the real `Last-Event-ID`
//! header, and HTTP statuses the client can act on. The bytes are parsed in wasm by
//! [`crate::parser`], and each event is handed to the client borrowed from the parser:
//! a Rust handler decodes it where it lies.
//!
//! What a response and its bytes mean is [`StreamReader`]'s (`reader.rs`), whoever
//! reads them: the Rust faces' task (`task.rs`, async Rust over `JsFuture`), or the npm
//! face's JS reader (`bindings/js_fetch.js`, through `bindings/js_stream.rs`), which
//! keeps the futures machinery out of the package.

use web_sys::Headers;

use crate::event::SseError;
use crate::runtime::js_error_message;

mod body;
mod reader;
mod task;

pub(crate) use reader::{report, Stop, StreamReader};
pub(crate) use task::open;
#[cfg(feature = "testing")]
pub(crate) use task::request_headers;

/// Checks headers the way `fetch` will, so a bad name or value is an error when the
/// client is built rather than on every request.
pub(crate) fn check_headers(headers: &[(String, String)]) -> Result<(), SseError> {
    let checked = Headers::new().map_err(|error| SseError::invalid(js_error_message(&error)))?;
    for (name, value) in headers {
        checked.set(name, value).map_err(|error| {
            SseError::invalid(format!("headers: \"{name}\": {}", js_error_message(&error)))
        })?;
    }
    Ok(())
}

/// An HTTP method `fetch` will send: a token, and not one it forbids.
pub(crate) fn check_method(method: String) -> Result<String, SseError> {
    let is_token = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(SseError::invalid(format!(
            "method: \"{method}\" is not an HTTP method"
        )));
    }
    let upper = method.to_ascii_uppercase();
    if matches!(upper.as_str(), "CONNECT" | "TRACE" | "TRACK") {
        return Err(SseError::invalid(format!(
            "method: fetch does not allow {method}"
        )));
    }
    // fetch normalises these case-insensitively; do the same, so GET + body is caught.
    let normalised = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    Ok(if normalised.contains(&upper.as_str()) {
        upper
    } else {
        method
    })
}
