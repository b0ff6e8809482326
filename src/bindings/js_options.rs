//! The npm API's options object, read key by key and checked into a builder.
//!
//! The reading is written out by hand rather than derived with serde: the npm package
//! carries no serde at all, and every message can name the option the way a JS
//! developer wrote it (`backoff.initialMs`), where the builder's own checks name the
//! Rust methods. What an object holds is asked through [`OptionsObject`], so the rules
//! here are pure and tested natively; `js.rs` reads a real JS object.
//!
//! Unknown keys are ignored, as a WebIDL dictionary such as `EventSourceInit` ignores
//! them; `null` means "not given" (and "off" for `idleTimeoutMs` and
//! `backoff.maxRetries`); a known key with a value of the wrong type or out of range is
//! an [`SseError::Invalid`] that names the key and says what was expected.

use std::rc::Rc;
use std::time::Duration;

use crate::backoff::{Backoff, Jitter};
use crate::client::{SseClient, SseClientBuilder};
use crate::event::SseError;
use crate::transport::HeaderFuture;
use crate::transport::Transport;

/// One value of an options object, as far as the checks need to know it.
pub(crate) enum Value<O> {
    /// `undefined`, or no such key.
    Absent,
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Object(O),
    /// Anything else, by what it is (`"a function"`, `"an array"`).
    Other(&'static str),
}

/// An options object.
pub(crate) trait OptionsObject: Sized {
    /// The value of `key`.
    fn get(&self, key: &str) -> Value<Self>;
    /// `number` as the language of the options prints it, for messages (the npm face
    /// asks JS, so no float printing is compiled into the package).
    fn show(number: f64) -> String;
}

/// The `headers` option, read by the caller (it may be a function).
pub(crate) enum HeadersOption {
    Fixed(Vec<(String, String)>),
    /// A function makes them before every request; the face that reads the response
    /// calls it (the npm face's JS reader).
    Made,
}

/// What the options ask for beyond the builder.
pub(crate) struct Settings {
    pub(crate) builder: SseClientBuilder,
    /// Hand handlers `JSON.parse`d data rather than the raw string.
    pub(crate) json: bool,
}

/// Checks every option and turns them into a builder for `url`.
pub(crate) fn read<O: OptionsObject>(
    url: &str,
    options: Option<&O>,
    headers: Option<HeadersOption>,
) -> Result<Settings, SseError> {
    let mut settings = Settings {
        builder: SseClient::builder(url),
        json: true,
    };
    if let Some(options) = options {
        read_into(&mut settings, options, headers)?;
    }
    Ok(settings)
}

fn read_into<O: OptionsObject>(
    settings: &mut Settings,
    options: &O,
    headers: Option<HeadersOption>,
) -> Result<(), SseError> {
    let builder = &mut settings.builder;
    let field = Field {
        options,
        prefix: "",
    };
    if let Some(transport) = field.text("transport")? {
        builder.transport = match transport.as_str() {
            "auto" => Transport::Auto,
            "eventsource" => Transport::EventSource,
            "fetch" => Transport::Fetch,
            other => {
                return Err(SseError::invalid(format!(
                    "transport: expected \"auto\", \"eventsource\" or \"fetch\", got \"{other}\""
                )))
            }
        };
    }
    builder.method = field.text("method")?;
    builder.body = field.text("body")?;
    match headers {
        None => {}
        Some(HeadersOption::Fixed(headers)) => builder.headers = headers,
        // The builder needs only to know that headers come (the transport follows from
        // that); the JS reader calls the function itself.
        Some(HeadersOption::Made) => {
            builder.header_fn = Some(Rc::new(|| {
                Box::pin(std::future::ready(Ok(Vec::new()))) as HeaderFuture
            }));
        }
    }
    if let Some(bytes) = field.number("maxEventSize")? {
        builder.max_event_size = size::<O>("maxEventSize", bytes)?;
    }
    if let Some(with_credentials) = field.boolean("withCredentials")? {
        builder.with_credentials = with_credentials;
    }
    match field.options.get("backoff") {
        Value::Absent | Value::Null => {}
        Value::Object(backoff) => builder.backoff = read_backoff(&backoff)?,
        other => return Err(wrong::<O>("backoff", "an object", &other)),
    }
    if let Some(resume) = field.boolean("resume")? {
        builder.resume = resume;
    }
    if let Some(name) = field.text("resumeParam")? {
        if name.is_empty() {
            return Err(SseError::invalid(
                "resumeParam: expected a non-empty query parameter name",
            ));
        }
        builder.resume_param = name;
    }
    if let Some(id) = field.text("lastEventId")? {
        builder.last_event_id = id;
    }
    if let Some(reconnect_on_end) = field.boolean("reconnectOnEnd")? {
        builder.reconnect_on_end = reconnect_on_end;
    }
    if let Some(ms) = field.number("idleTimeoutMs")? {
        let timeout = millis::<O>("idleTimeoutMs", ms)?;
        if timeout.is_zero() {
            return Err(SseError::invalid(
                "idleTimeoutMs: expected a positive number of milliseconds or null, got 0",
            ));
        }
        builder.idle_timeout = Some(timeout);
    }
    if let Some(json) = field.boolean("json")? {
        settings.json = json;
    }
    Ok(())
}

fn read_backoff<O: OptionsObject>(options: &O) -> Result<Backoff, SseError> {
    let field = Field {
        options,
        prefix: "backoff.",
    };
    let defaults = Backoff::default();
    let max = field
        .number("maxMs")?
        .map(|ms| millis::<O>("backoff.maxMs", ms))
        .transpose()?;
    // Only maxMs given: a first delay above it would be refused, so the default first
    // delay gives way to the cap instead.
    let initial = match field.number("initialMs")? {
        Some(ms) => millis::<O>("backoff.initialMs", ms)?,
        None => max.map_or(defaults.initial, |max| max.min(defaults.initial)),
    };
    let mut backoff = defaults.initial(initial);
    if let Some(max) = max {
        backoff = backoff.max(max);
    }
    if backoff.max < initial {
        let ms = |duration: Duration| O::show(duration.as_secs_f64() * 1000.0);
        return Err(SseError::invalid(format!(
            "backoff.maxMs: {} ms is below initialMs {} ms",
            ms(backoff.max),
            ms(initial)
        )));
    }
    if let Some(factor) = field.number("factor")? {
        if !factor.is_finite() || factor < 1.0 {
            return Err(SseError::invalid(format!(
                "backoff.factor: expected a finite number >= 1, got {}",
                O::show(factor)
            )));
        }
        backoff = backoff.factor(factor);
    }
    if let Some(jitter) = field.text("jitter")? {
        let jitter = match jitter.as_str() {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            other => {
                return Err(SseError::invalid(format!(
                    "backoff.jitter: expected \"none\", \"full\" or \"equal\", got \"{other}\""
                )))
            }
        };
        backoff = backoff.jitter(jitter);
    }
    if let Some(retries) = field.number("maxRetries")? {
        backoff = backoff.max_retries(Some(count::<O>("backoff.maxRetries", retries)?));
    }
    Ok(backoff)
}

/// Reads keys of one object, naming them in messages as the user wrote them.
struct Field<'a, O> {
    options: &'a O,
    /// `backoff.` for the keys of `backoff`.
    prefix: &'static str,
}

impl<O: OptionsObject> Field<'_, O> {
    fn boolean(&self, key: &'static str) -> Result<Option<bool>, SseError> {
        match self.options.get(key) {
            Value::Absent | Value::Null => Ok(None),
            Value::Bool(value) => Ok(Some(value)),
            other => Err(wrong::<O>(self.path(key), "a boolean", &other)),
        }
    }

    fn number(&self, key: &'static str) -> Result<Option<f64>, SseError> {
        match self.options.get(key) {
            Value::Absent | Value::Null => Ok(None),
            Value::Number(value) => Ok(Some(value)),
            other => Err(wrong::<O>(self.path(key), "a number", &other)),
        }
    }

    fn text(&self, key: &'static str) -> Result<Option<String>, SseError> {
        match self.options.get(key) {
            Value::Absent | Value::Null => Ok(None),
            Value::Text(value) => Ok(Some(value)),
            other => Err(wrong::<O>(self.path(key), "a string", &other)),
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

/// "`path`: expected `expected`, got a string".
fn wrong<O: OptionsObject>(path: impl AsRef<str>, expected: &str, got: &Value<O>) -> SseError {
    let got = match got {
        Value::Absent => "undefined".to_owned(),
        Value::Null => "null".to_owned(),
        Value::Bool(value) => format!("the boolean {value}"),
        Value::Number(value) => format!("the number {}", O::show(*value)),
        Value::Text(value) => format!("the string \"{value}\""),
        Value::Object(_) => "an object".to_owned(),
        Value::Other(what) => (*what).to_owned(),
    };
    SseError::invalid(format!("{}: expected {expected}, got {got}", path.as_ref()))
}

/// A JS number of milliseconds as a `Duration`: finite, not negative, not absurd.
fn millis<O: OptionsObject>(field: &str, ms: f64) -> Result<Duration, SseError> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(SseError::invalid(format!(
            "{field}: expected a non-negative number of milliseconds, got {}",
            O::show(ms)
        )));
    }
    crate::millis::duration(ms).ok_or_else(|| {
        SseError::invalid(format!(
            "{field}: {} milliseconds is too large",
            O::show(ms)
        ))
    })
}

/// A JS number that must be a whole, positive number of bytes.
fn size<O: OptionsObject>(field: &str, value: f64) -> Result<usize, SseError> {
    if value.fract() == 0.0 && value >= 1.0 && value <= 2f64.powi(53) {
        // Whole and within the exact range of f64, so the conversion is exact (and a
        // usize that cannot hold it saturates, which no allocation reaches anyway).
        Ok(value as usize)
    } else {
        Err(SseError::invalid(format!(
            "{field}: expected a whole number of bytes, at least 1, got {}",
            O::show(value)
        )))
    }
}

/// A JS number that must be a whole count that fits a `u32`.
fn count<O: OptionsObject>(field: &str, value: f64) -> Result<u32, SseError> {
    if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        // In range and whole, so the conversion is exact.
        Ok(value as u32)
    } else {
        Err(SseError::invalid(format!(
            "{field}: expected a whole number from 0 to 4294967295 or null, got {}",
            O::show(value)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    /// JSON stands in for a JS object in the native tests.
    impl OptionsObject for Json {
        fn get(&self, key: &str) -> Value<Self> {
            match self.get(key) {
                None => Value::Absent,
                Some(Json::Null) => Value::Null,
                Some(Json::Bool(value)) => Value::Bool(*value),
                Some(Json::Number(value)) => Value::Number(value.as_f64().unwrap_or(f64::NAN)),
                Some(Json::String(value)) => Value::Text(value.clone()),
                Some(Json::Object(_)) => Value::Object(self[key].clone()),
                Some(Json::Array(_)) => Value::Other("an array"),
            }
        }

        fn show(number: f64) -> String {
            number.to_string()
        }
    }

    fn resolve(json: &str) -> Result<Settings, SseError> {
        let options: Json = serde_json::from_str(json).unwrap();
        read("/sse", Some(&options), None)
    }

    fn resolve_with_headers(json: &str, headers: &[(&str, &str)]) -> Result<Settings, SseError> {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let options: Json = serde_json::from_str(json).unwrap();
        read("/sse", Some(&options), Some(HeadersOption::Fixed(headers)))
    }

    fn message(json: &str) -> String {
        match resolve(json) {
            Err(SseError::Invalid { message }) => message,
            Err(other) => panic!("expected an invalid-options error for {json}, got {other}"),
            Ok(_) => panic!("expected an invalid-options error for {json}"),
        }
    }

    /// Builders have no equality; their Debug form compares every option.
    fn same(settings: &Settings, expected: SseClientBuilder) {
        assert_eq!(format!("{:?}", settings.builder), format!("{expected:?}"));
    }

    #[test]
    fn no_options_are_the_defaults() {
        let settings = read::<Json>("/sse", None, None).unwrap();
        assert!(settings.json);
        same(&settings, SseClient::builder("/sse"));
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
        assert_eq!(
            message(r#"{"withCredentials": "yes"}"#),
            "withCredentials: expected a boolean, got the string \"yes\""
        );
        assert_eq!(
            message(r#"{"backoff": {"initialMs": "100"}}"#),
            "backoff.initialMs: expected a number, got the string \"100\""
        );
        assert_eq!(
            message(r#"{"backoff": 5}"#),
            "backoff: expected an object, got the number 5"
        );
        assert_eq!(
            message(r#"{"method": 7}"#),
            "method: expected a string, got the number 7"
        );
        assert_eq!(
            message(r#"{"json": [true]}"#),
            "json: expected a boolean, got an array"
        );
    }

    #[test]
    fn values_out_of_range_say_what_was_expected() {
        for (json, start) in [
            (
                r#"{"backoff": {"initialMs": -1}}"#,
                "backoff.initialMs: expected a non-negative number of milliseconds, got -1",
            ),
            (
                r#"{"backoff": {"maxMs": 1e300}}"#,
                "backoff.maxMs: 1000000000000",
            ),
            (
                r#"{"backoff": {"factor": 0.5}}"#,
                "backoff.factor: expected a finite number >= 1, got 0.5",
            ),
            (
                r#"{"backoff": {"jitter": "some"}}"#,
                "backoff.jitter: expected \"none\", \"full\" or \"equal\", got \"some\"",
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
                "backoff.maxMs: 100 ms is below initialMs 500 ms",
            ),
            (
                r#"{"backoff": {"initialMs": 60000}}"#,
                "backoff.maxMs: 30000 ms is below initialMs 60000 ms",
            ),
            (
                r#"{"idleTimeoutMs": 0}"#,
                "idleTimeoutMs: expected a positive",
            ),
            (
                r#"{"idleTimeoutMs": -3}"#,
                "idleTimeoutMs: expected a non-negative number of milliseconds, got -3",
            ),
            (
                r#"{"resumeParam": ""}"#,
                "resumeParam: expected a non-empty",
            ),
            (
                r#"{"transport": "websocket"}"#,
                "transport: expected \"auto\", \"eventsource\" or \"fetch\", got \"websocket\"",
            ),
            (
                r#"{"maxEventSize": 0}"#,
                "maxEventSize: expected a whole number",
            ),
            (
                r#"{"maxEventSize": 1.5}"#,
                "maxEventSize: expected a whole number",
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
    }

    #[test]
    fn the_last_event_id_alone_keeps_the_native_transport() {
        assert!(resolve(r#"{"transport": "auto", "lastEventId": "7"}"#).is_ok());
    }

    #[test]
    fn counts_convert_exactly_or_not_at_all() {
        assert_eq!(count::<Json>("n", 0.0).unwrap(), 0);
        assert_eq!(count::<Json>("n", f64::from(u32::MAX)).unwrap(), u32::MAX);
        assert!(count::<Json>("n", f64::from(u32::MAX) + 1.0).is_err());
        assert!(count::<Json>("n", f64::NAN).is_err());
        assert!(millis::<Json>("m", f64::INFINITY).is_err());
        assert!(millis::<Json>("m", f64::NAN).is_err());
        assert_eq!(
            millis::<Json>("m", 0.5).unwrap(),
            Duration::from_micros(500)
        );
    }
}
