//! The npm API's options object: read with serde (from a JS object by
//! `serde-wasm-bindgen`, from JSON in the native tests) and checked into a builder.
//!
//! Unknown keys are ignored, as a WebIDL dictionary such as `EventSourceInit` ignores
//! them; a known key with a value of the wrong type or out of range is an
//! [`SseError::Invalid`] that names the key and says what was expected.

use std::time::Duration;

use serde::Deserialize;

use crate::backoff::{Backoff, Jitter};
use crate::{SseClient, SseClientBuilder, SseError, Transport};

/// `SseOptions` as the npm contract spells it. `headers` is not here: it may be a
/// function, which serde cannot carry, so the bindings look at it themselves.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Options {
    with_credentials: Option<bool>,
    json: Option<bool>,
    backoff: Option<BackoffOptions>,
    resume: Option<bool>,
    resume_param: Option<String>,
    last_event_id: Option<String>,
    reconnect_on_end: Option<bool>,
    /// `null` and absent both mean "off".
    idle_timeout_ms: Option<f64>,
    transport: Option<TransportOption>,
    method: Option<String>,
    body: Option<String>,
    /// An addition to the contract: the fetch transport's limit, in bytes.
    max_event_size: Option<f64>,
}

/// The `headers` option: a record, or a function called before every request.
#[derive(Debug)]
pub(crate) enum HeadersOption {
    Fixed(Vec<(String, String)>),
    #[cfg(feature = "js")]
    Script(js_sys::Function),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackoffOptions {
    initial_ms: Option<f64>,
    max_ms: Option<f64>,
    factor: Option<f64>,
    jitter: Option<String>,
    /// `null` and absent both mean "unlimited".
    max_retries: Option<f64>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum TransportOption {
    Auto,
    EventSource,
    Fetch,
}

/// What the options ask for beyond the builder.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) builder: SseClientBuilder,
    /// Hand handlers `JSON.parse`d data rather than the raw string.
    pub(crate) json: bool,
}

impl Options {
    /// Checks every option and turns them into a builder for `url`; `headers` is the
    /// `headers` option, read by the caller.
    pub(crate) fn resolve(
        self,
        url: &str,
        headers: Option<HeadersOption>,
    ) -> Result<Settings, SseError> {
        let mut builder = SseClient::builder(url).transport(match self.transport {
            None | Some(TransportOption::Auto) => Transport::Auto,
            Some(TransportOption::EventSource) => Transport::EventSource,
            Some(TransportOption::Fetch) => Transport::Fetch,
        });
        if let Some(method) = self.method {
            builder = builder.method(method);
        }
        if let Some(body) = self.body {
            builder = builder.body(body);
        }
        match headers {
            None => {}
            Some(HeadersOption::Fixed(headers)) => {
                for (name, value) in headers {
                    builder = builder.header(name, value);
                }
            }
            #[cfg(feature = "js")]
            Some(HeadersOption::Script(make)) => builder = builder.header_script(make),
        }
        if let Some(bytes) = self.max_event_size {
            builder = builder.max_event_size(size("maxEventSize", bytes)?);
        }
        if let Some(with_credentials) = self.with_credentials {
            builder = builder.with_credentials(with_credentials);
        }
        if let Some(backoff) = self.backoff {
            builder = builder.backoff(backoff.resolve()?);
        }
        if let Some(resume) = self.resume {
            builder = builder.resume(resume);
        }
        if let Some(name) = self.resume_param {
            if name.is_empty() {
                return Err(SseError::invalid(
                    "resumeParam: expected a non-empty query parameter name",
                ));
            }
            builder = builder.resume_param(name);
        }
        if let Some(id) = self.last_event_id {
            builder = builder.last_event_id(id);
        }
        if let Some(reconnect_on_end) = self.reconnect_on_end {
            builder = builder.reconnect_on_end(reconnect_on_end);
        }
        if let Some(ms) = self.idle_timeout_ms {
            let timeout = millis("idleTimeoutMs", ms)?;
            if timeout.is_zero() {
                return Err(SseError::invalid(
                    "idleTimeoutMs: expected a positive number of milliseconds or null, got 0",
                ));
            }
            builder = builder.idle_timeout(Some(timeout));
        }
        Ok(Settings {
            builder,
            json: self.json.unwrap_or(true),
        })
    }
}

impl BackoffOptions {
    fn resolve(self) -> Result<Backoff, SseError> {
        let defaults = Backoff::default();
        let max = self
            .max_ms
            .map(|ms| millis("backoff.maxMs", ms))
            .transpose()?;
        // Only maxMs given: a first delay above it would be rejected, so the default
        // first delay gives way to the cap instead.
        let initial = match self.initial_ms {
            Some(ms) => millis("backoff.initialMs", ms)?,
            None => max.map_or(defaults.initial_delay(), |max| {
                max.min(defaults.initial_delay())
            }),
        };
        let mut backoff = defaults.initial(initial);
        if let Some(max) = max {
            backoff = backoff.max(max);
        }
        if let Some(factor) = self.factor {
            backoff = backoff.factor(factor);
        }
        if let Some(jitter) = self.jitter {
            backoff = backoff.jitter(jitter.parse::<Jitter>()?);
        }
        if let Some(retries) = self.max_retries {
            backoff = backoff.max_retries(Some(count("backoff.maxRetries", retries)?));
        }
        backoff.validate()?;
        Ok(backoff)
    }
}

/// A JS number of milliseconds as a `Duration`: finite, not negative, not absurd.
fn millis(field: &str, ms: f64) -> Result<Duration, SseError> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(SseError::invalid(format!(
            "{field}: expected a non-negative number of milliseconds, got {ms}"
        )));
    }
    Duration::try_from_secs_f64(ms / 1000.0)
        .map_err(|_| SseError::invalid(format!("{field}: {ms:e} milliseconds is too large")))
}

/// A JS number that must be a whole, positive number of bytes.
fn size(field: &str, value: f64) -> Result<usize, SseError> {
    if value.fract() == 0.0 && value >= 1.0 && value <= 2f64.powi(53) {
        // Whole and within the exact range of f64, so the conversion is exact (and a
        // usize that cannot hold it saturates, which no allocation reaches anyway).
        Ok(value as usize)
    } else {
        Err(SseError::invalid(format!(
            "{field}: expected a whole number of bytes, at least 1, got {value}"
        )))
    }
}

/// A JS number that must be a whole count that fits a `u32`.
fn count(field: &str, value: f64) -> Result<u32, SseError> {
    if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        // In range and whole, so the conversion is exact.
        Ok(value as u32)
    } else {
        Err(SseError::invalid(format!(
            "{field}: expected a whole number from 0 to {} or null, got {value}",
            u32::MAX
        )))
    }
}

/// Reads options with `deserializer`, naming the path of a value of the wrong type
/// (`backoff.initialMs: invalid type: string "x", expected f64`).
pub(crate) fn read<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Options, SseError>
where
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." {
            SseError::invalid(format!("options: {inner}"))
        } else {
            SseError::invalid(format!("{path}: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(json: &str) -> Result<Settings, SseError> {
        read(&mut serde_json::Deserializer::from_str(json))?.resolve("/sse", None)
    }

    fn resolve_with_headers(json: &str, headers: &[(&str, &str)]) -> Result<Settings, SseError> {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        read(&mut serde_json::Deserializer::from_str(json))?
            .resolve("/sse", Some(HeadersOption::Fixed(headers)))
    }

    fn message(json: &str) -> String {
        match resolve(json) {
            Err(SseError::Invalid { message }) => message,
            other => panic!("expected an invalid-options error for {json}, got {other:?}"),
        }
    }

    /// Builders have no equality; their Debug form compares every option.
    fn same(settings: &Settings, expected: SseClientBuilder) {
        assert_eq!(format!("{:?}", settings.builder), format!("{expected:?}"));
    }

    #[test]
    fn no_options_are_the_defaults() {
        let settings = resolve("{}").unwrap();
        assert!(settings.json);
        same(&settings, SseClient::builder("/sse"));
    }

    #[test]
    fn every_option_reaches_the_builder() {
        let settings = resolve(
            r#"{"withCredentials": true, "json": false, "resume": true,
                "resumeParam": "after", "lastEventId": "41", "reconnectOnEnd": false,
                "idleTimeoutMs": 1500, "transport": "eventsource",
                "backoff": {"initialMs": 0, "maxMs": 2000, "factor": 3,
                            "jitter": "equal", "maxRetries": 4}}"#,
        )
        .unwrap();
        assert!(!settings.json);
        let backoff = Backoff::exponential(Duration::ZERO)
            .max(Duration::from_secs(2))
            .factor(3.0)
            .jitter(Jitter::Equal)
            .max_retries(Some(4));
        same(
            &settings,
            SseClient::builder("/sse")
                .transport(Transport::EventSource)
                .with_credentials(true)
                .resume(true)
                .resume_param("after")
                .last_event_id("41")
                .reconnect_on_end(false)
                .idle_timeout(Some(Duration::from_millis(1500)))
                .backoff(backoff),
        );
    }

    #[test]
    fn null_means_off_for_the_nullable_options() {
        let settings =
            resolve(r#"{"idleTimeoutMs": null, "backoff": {"maxRetries": null}}"#).unwrap();
        same(
            &settings,
            SseClient::builder("/sse").backoff(Backoff::default()),
        );
    }

    #[test]
    fn unknown_keys_are_ignored_like_a_webidl_dictionary() {
        assert!(resolve(r#"{"withCredential": true, "extra": [1, 2]}"#).is_ok());
    }

    #[test]
    fn a_cap_alone_lowers_the_default_first_delay() {
        let settings = resolve(r#"{"backoff": {"maxMs": 200}}"#).unwrap();
        let expected =
            Backoff::exponential(Duration::from_millis(200)).max(Duration::from_millis(200));
        same(&settings, SseClient::builder("/sse").backoff(expected));
    }

    #[test]
    fn wrong_types_name_the_field_and_the_expected_type() {
        let text = message(r#"{"withCredentials": "yes"}"#);
        assert!(
            text.starts_with("withCredentials: invalid type: string"),
            "{text}"
        );
        let text = message(r#"{"backoff": {"initialMs": "100"}}"#);
        assert!(
            text.starts_with("backoff.initialMs: invalid type: string"),
            "{text}"
        );
        let text = message(r#""fast""#);
        assert!(text.starts_with("options: invalid type"), "{text}");
    }

    #[test]
    fn values_out_of_range_say_what_was_expected() {
        for (json, start) in [
            (
                r#"{"backoff": {"initialMs": -1}}"#,
                "backoff.initialMs: expected a non-negative",
            ),
            (
                r#"{"backoff": {"maxMs": 1e300}}"#,
                "backoff.maxMs: 1e300 milliseconds is too large",
            ),
            (
                r#"{"backoff": {"factor": 0.5}}"#,
                "backoff.factor: expected a finite number >= 1",
            ),
            (
                r#"{"backoff": {"jitter": "some"}}"#,
                "backoff.jitter: expected \"none\"",
            ),
            (
                r#"{"backoff": {"maxRetries": 1.5}}"#,
                "backoff.maxRetries: expected a whole number",
            ),
            (
                r#"{"backoff": {"maxRetries": -1}}"#,
                "backoff.maxRetries: expected a whole number",
            ),
            (
                r#"{"backoff": {"initialMs": 500, "maxMs": 100}}"#,
                "backoff.maxMs: 100 ms is below",
            ),
            (
                r#"{"idleTimeoutMs": 0}"#,
                "idleTimeoutMs: expected a positive",
            ),
            (
                r#"{"resumeParam": ""}"#,
                "resumeParam: expected a non-empty",
            ),
            (
                r#"{"transport": "websocket"}"#,
                "transport: unknown variant `websocket`",
            ),
        ] {
            let text = message(json);
            assert!(text.starts_with(start), "{json}: {text}");
        }
    }

    #[test]
    fn fetch_options_reach_the_builder() {
        let settings = resolve_with_headers(
            r#"{"transport": "fetch", "method": "PUT", "body": "{}", "maxEventSize": 1024}"#,
            &[("Authorization", "Bearer t")],
        )
        .unwrap();
        same(
            &settings,
            SseClient::builder("/sse")
                .transport(Transport::Fetch)
                .method("PUT")
                .body("{}")
                .header("Authorization", "Bearer t")
                .max_event_size(1024),
        );
        for (json, start) in [
            (
                r#"{"maxEventSize": 0}"#,
                "maxEventSize: expected a whole number",
            ),
            (
                r#"{"maxEventSize": 1.5}"#,
                "maxEventSize: expected a whole number",
            ),
            (r#"{"method": 7}"#, "method: invalid type: integer"),
        ] {
            let text = message(json);
            assert!(text.starts_with(start), "{json}: {text}");
        }
    }

    #[test]
    fn the_last_event_id_alone_keeps_the_native_transport() {
        assert!(resolve(r#"{"transport": "auto", "lastEventId": "7"}"#).is_ok());
    }

    #[test]
    fn counts_convert_exactly_or_not_at_all() {
        assert_eq!(count("n", 0.0).unwrap(), 0);
        assert_eq!(count("n", f64::from(u32::MAX)).unwrap(), u32::MAX);
        assert!(count("n", f64::from(u32::MAX) + 1.0).is_err());
        assert!(count("n", f64::NAN).is_err());
        assert!(millis("m", f64::INFINITY).is_err());
        assert!(millis("m", f64::NAN).is_err());
        assert_eq!(millis("m", 0.5).unwrap(), Duration::from_micros(500));
    }
}
