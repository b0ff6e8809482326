//! URLs as the `EventSource` constructor resolves them, in windows and workers.

use crate::event::SseError;

/// Resolves `url` against the document's base URL (or the worker's location), as the
/// `EventSource` constructor does, and accepts only `http:` and `https:`.
pub(crate) fn resolve_url(url: &str) -> Result<web_sys::Url, SseError> {
    let parsed = match base_url() {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    }
    .map_err(|_| SseError::invalid(format!("url: \"{url}\" is not a valid URL")))?;
    match parsed.protocol().as_str() {
        "http:" | "https:" => Ok(parsed),
        other => Err(SseError::invalid(format!(
            "url: expected an http: or https: URL, got a {other} URL"
        ))),
    }
}

fn base_url() -> Option<String> {
    let global = js_sys::global();
    let document = js_sys::Reflect::get(&global, &"document".into()).ok()?;
    if document.is_object() {
        if let Some(base) = js_sys::Reflect::get(&document, &"baseURI".into())
            .ok()?
            .as_string()
        {
            return Some(base);
        }
    }
    let location = js_sys::Reflect::get(&global, &"location".into()).ok()?;
    js_sys::Reflect::get(&location, &"href".into())
        .ok()?
        .as_string()
}

/// The URL of one request: `base` plus the resume parameter when there is an id.
pub(crate) fn request_url(base: &str, resume_param: Option<(&str, &str)>) -> String {
    match resume_param {
        Some((name, id)) if !id.is_empty() => match web_sys::Url::new(base) {
            Ok(url) => {
                url.search_params().set(name, id);
                url.href()
            }
            Err(_) => base.to_owned(),
        },
        _ => base.to_owned(),
    }
}
