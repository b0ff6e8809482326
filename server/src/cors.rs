//! CORS for loopback origins.
//!
//! The browser tests run on a loopback origin on another port and use
//! credentials, so the origin is reflected (a wildcard is not allowed with
//! credentials). This runs as the outermost middleware, so failure responses
//! (scripted 500s, 404s, 400s) carry the headers too and the client can see
//! their status instead of an opaque network error.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Methods announced in preflight responses.
pub const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
/// Response headers a cross-origin client may read.
pub const EXPOSE_HEADERS: &str = "Retry-After, Content-Type";
/// How long a browser may cache a preflight, in seconds.
pub const MAX_AGE: &str = "600";

/// Whether `origin` is `http(s)://` + a loopback host + an optional port.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    // `[::1]` contains colons, so split the port off after the closing bracket.
    let (host, port) = if let Some(after) = rest.strip_prefix("[::1]") {
        ("[::1]", after)
    } else {
        match rest.find(':') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        }
    };
    let host_ok = host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost") || host == "[::1]";
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => {
            !digits.is_empty()
                && digits.len() <= 5
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u32>().is_ok_and(|p| p <= 65_535)
        }
    };
    host_ok && port_ok
}

fn allowed_origin(headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    is_loopback_origin(origin.to_str().ok()?).then(|| origin.clone())
}

fn add_common(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// Middleware: answers every `OPTIONS` request as a preflight and adds the
/// CORS headers to every response for a loopback origin.
pub async fn layer(request: Request, next: Next) -> Response {
    let origin = allowed_origin(request.headers());
    if request.method() == Method::OPTIONS {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(header::ALLOW, HeaderValue::from_static(ALLOW_METHODS));
        if let Some(origin) = origin {
            add_common(headers, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            if let Some(requested) = request
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE),
            );
        }
        return response;
    }
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        add_common(response.headers_mut(), origin);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_loopback_origin;

    #[test]
    fn loopback_origins() {
        for ok in [
            "http://127.0.0.1",
            "http://127.0.0.1:8000",
            "https://localhost:3000",
            "http://LOCALHOST",
            "http://[::1]:65535",
            "https://[::1]",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "null",
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com:80",
            "http://127.0.0.1:",
            "http://127.0.0.1:65536",
            "http://127.0.0.1:80/path",
            "ftp://127.0.0.1",
            "http://[::1]x",
            "http://127.0.0.2",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }
}
