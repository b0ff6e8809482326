//! The `/sse` query string: what a test asks the stream to do.
//!
//! Every parameter is optional. Unknown parameters are ignored so that callers
//! can add cache busters; malformed values are rejected with a message that the
//! handler turns into a 400 response.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};

/// Largest `count`.
pub const MAX_COUNT: u64 = 10_000_000;
/// Largest `interval`, `chunk_delay` and `comment_every`, in milliseconds.
pub const MAX_INTERVAL_MS: u64 = 60_000;
/// Largest `size`, in bytes.
pub const MAX_SIZE: u64 = 16 * 1024 * 1024;
/// Default `max_ms`.
pub const DEFAULT_MAX_MS: u64 = 30_000;
/// `max_ms` values above this are clamped to it.
pub const MAX_MAX_MS: u64 = 120_000;
/// Longest session name, in characters.
pub const MAX_SESSION_CHARS: usize = 128;
/// Default name of the query parameter that carries the last event id.
pub const DEFAULT_RESUME_PARAM: &str = "lastEventId";

/// How event data is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"seq":N,"type":"T"}`, optionally padded.
    Json,
    /// `event N`.
    Text,
}

/// What happens after the last event of the logical stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// End the response.
    End,
    /// Keep the response open until `max_ms`.
    Hold,
}

/// Line terminator used for every line of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// `\n`
    Lf,
    /// `\r\n`
    CrLf,
    /// `\r`
    Cr,
}

impl LineEnd {
    /// The terminator's bytes.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnd::Lf => "\n",
            LineEnd::CrLf => "\r\n",
            LineEnd::Cr => "\r",
        }
    }
}

/// Scripted failure of the first connections of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    /// Status sent instead of a stream.
    pub status: StatusCode,
    /// How many of the session's first requests fail.
    pub first: u64,
    /// Value of the `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
}

/// A parsed `/sse` request script.
#[derive(Debug, Clone)]
pub struct Script {
    /// Session the connection is recorded under.
    pub session: Option<String>,
    /// Number of events of the logical stream (ids `1..=count`).
    pub count: u64,
    /// Event types cycled by sequence number; `None` means no `event:` field.
    /// Empty when every event goes without an `event:` field.
    pub types: Vec<Option<String>>,
    /// Pause between two events.
    pub interval: Duration,
    /// Rendering of the data field.
    pub format: Format,
    /// Minimum size of JSON data, in bytes.
    pub size: usize,
    /// Sequence numbers whose data is replaced by invalid JSON.
    pub malformed: BTreeSet<u64>,
    /// Whether events carry `id:` lines.
    pub ids: bool,
    /// End each connection after this many events.
    pub drop_after: Option<u64>,
    /// Query parameter that carries the last event id.
    pub resume_param: String,
    /// What happens after the last event.
    pub then: Then,
    /// Stop sending events after this many on a connection.
    pub stall_after: Option<u64>,
    /// Heartbeat comment period while idle.
    pub comment_every: Option<Duration>,
    /// Value of a `retry:` field sent first.
    pub retry: Option<u64>,
    /// Scripted failure responses.
    pub fail: Option<Fail>,
    /// Content-Type of the stream.
    pub content_type: HeaderValue,
    /// Line terminator.
    pub line_end: LineEnd,
    /// Write one byte per body chunk.
    pub byte_by_byte: bool,
    /// Pause between chunks when writing byte by byte.
    pub chunk_delay: Duration,
    /// Send an `echo` event describing the request first.
    pub echo: bool,
    /// Upper bound of a connection's duration.
    pub max: Duration,
    /// The decoded query (last value wins), echoed back and used for resuming.
    pub query: BTreeMap<String, String>,
}

/// Why a query string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError(pub String);

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// `types`: the event type of each sequence number in turn (empty: no `event:` line).
fn event_types(p: &Params<'_>) -> Result<Vec<Option<String>>, ScriptError> {
    Ok(match p.get("types") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|item| {
                if item.contains(['\r', '\n']) {
                    err("types: an event type must not contain a line break")
                } else if item.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(item.to_owned()))
                }
            })
            .collect::<Result<_, _>>()?,
    })
}

/// `malformed`: the sequence numbers whose data is broken JSON.
fn malformed_seqs(p: &Params<'_>) -> Result<BTreeSet<u64>, ScriptError> {
    Ok(match p.get("malformed") {
        None => BTreeSet::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<u64>()
                    .or_else(|_| err(format!("malformed: not a sequence number: {item:?}")))
            })
            .collect::<Result<_, _>>()?,
    })
}

/// `fail_status`, `fail_first` and `retry_after`: the scripted failure, if any.
fn failure(p: &Params<'_>, has_session: bool) -> Result<Option<Fail>, ScriptError> {
    // A 1xx status cannot be the final response of an HTTP exchange (hyper
    // would turn it into a bare 500, or treat 101 as an upgrade), so the
    // usable range starts at 200.
    let fail_status = p.number("fail_status", 200, 599)?;
    let fail_first = p.number("fail_first", 0, u64::MAX)?;
    let retry_after = p.number("retry_after", 0, u64::MAX)?;
    Ok(match fail_status {
        None if fail_first.is_some() || retry_after.is_some() => {
            return err("fail_first and retry_after need fail_status");
        }
        None => None,
        Some(_) if !has_session => return err("fail_status needs a session"),
        Some(code) => Some(Fail {
            // The range check above makes this infallible; map the error anyway
            // rather than unwrap so that no input can panic.
            status: u16::try_from(code)
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| ScriptError(format!("fail_status: invalid: {code}")))?,
            first: fail_first.unwrap_or(1),
            retry_after,
        }),
    })
}

/// `content_type`: the response's Content-Type (default `text/event-stream`).
fn content_type(p: &Params<'_>) -> Result<HeaderValue, ScriptError> {
    Ok(match p.get("content_type") {
        None => HeaderValue::from_static("text/event-stream"),
        Some(raw) => HeaderValue::from_str(raw)
            .map_err(|_| ScriptError(format!("content_type: not a header value: {raw:?}")))?,
    })
}

fn err<T>(msg: impl Into<String>) -> Result<T, ScriptError> {
    Err(ScriptError(msg.into()))
}

/// Decodes a raw query string into a map; a repeated parameter keeps its last value.
pub fn decode_query(raw: Option<&str>) -> BTreeMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Validates a session name as accepted by `/sse`, `/stats` and `/drop`.
pub fn check_session(name: &str) -> Result<(), ScriptError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_SESSION_CHARS {
        return err(format!(
            "session: must be 1 to {MAX_SESSION_CHARS} characters long"
        ));
    }
    Ok(())
}

struct Params<'a>(&'a BTreeMap<String, String>);

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ScriptError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match raw.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Ok(_) => err(format!(
                "{name}: must be between {min} and {max}, got {raw:?}"
            )),
            Err(_) => err(format!("{name}: not a non-negative integer: {raw:?}")),
        }
    }

    fn millis(&self, name: &str, min: u64, max: u64) -> Result<Option<Duration>, ScriptError> {
        Ok(self.number(name, min, max)?.map(Duration::from_millis))
    }

    fn flag(&self, name: &str) -> Result<bool, ScriptError> {
        match self.get(name) {
            None | Some("0" | "false" | "off") => Ok(false),
            Some("1" | "true" | "on") => Ok(true),
            Some(other) => err(format!("{name}: expected 1 or 0, got {other:?}")),
        }
    }

    fn choice<T: Copy>(
        &self,
        name: &str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, ScriptError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match choices.iter().find(|(key, _)| *key == raw) {
            Some((_, value)) => Ok(*value),
            None => {
                let names: Vec<&str> = choices.iter().map(|(key, _)| *key).collect();
                err(format!(
                    "{name}: expected one of {}, got {raw:?}",
                    names.join(", ")
                ))
            }
        }
    }
}

impl Script {
    /// Parses a raw (still percent-encoded) query string.
    pub fn parse(raw_query: Option<&str>) -> Result<Script, ScriptError> {
        Script::from_query(decode_query(raw_query))
    }

    /// Builds a script from an already decoded query.
    pub fn from_query(query: BTreeMap<String, String>) -> Result<Script, ScriptError> {
        let p = Params(&query);

        let session = p.get("session").map(str::to_owned);
        if let Some(name) = &session {
            check_session(name)?;
        }

        let types = event_types(&p)?;
        let malformed = malformed_seqs(&p)?;

        let resume_param = p.get("resume_param").unwrap_or(DEFAULT_RESUME_PARAM);
        if resume_param.is_empty() {
            return err("resume_param: must not be empty");
        }

        let fail = failure(&p, session.is_some())?;

        let content_type = content_type(&p)?;

        let max_ms = p
            .number("max_ms", 0, u64::MAX)?
            .unwrap_or(DEFAULT_MAX_MS)
            .min(MAX_MAX_MS);

        Ok(Script {
            count: p.number("count", 0, MAX_COUNT)?.unwrap_or(10),
            types,
            interval: p
                .millis("interval", 0, MAX_INTERVAL_MS)?
                .unwrap_or(Duration::ZERO),
            format: p.choice(
                "format",
                Format::Json,
                &[("json", Format::Json), ("text", Format::Text)],
            )?,
            // MAX_SIZE fits in usize on every supported target.
            size: usize::try_from(p.number("size", 0, MAX_SIZE)?.unwrap_or(0))
                .or_else(|_| err("size: too large"))?,
            malformed,
            ids: p.choice("ids", true, &[("on", true), ("off", false)])?,
            drop_after: p.number("drop_after", 1, u64::MAX)?,
            resume_param: resume_param.to_owned(),
            then: p.choice(
                "then",
                Then::End,
                &[("end", Then::End), ("hold", Then::Hold)],
            )?,
            stall_after: p.number("stall_after", 0, u64::MAX)?,
            // Zero would spin the generator, so heartbeats need at least 1 ms.
            comment_every: p.millis("comment_every", 1, MAX_MAX_MS)?,
            retry: p.number("retry", 0, u64::MAX)?,
            fail,
            content_type,
            line_end: p.choice(
                "line_end",
                LineEnd::Lf,
                &[
                    ("lf", LineEnd::Lf),
                    ("crlf", LineEnd::CrLf),
                    ("cr", LineEnd::Cr),
                ],
            )?,
            byte_by_byte: p.flag("byte_by_byte")?,
            chunk_delay: p
                .millis("chunk_delay", 0, MAX_INTERVAL_MS)?
                .unwrap_or(Duration::ZERO),
            echo: p.flag("echo")?,
            max: Duration::from_millis(max_ms),
            session,
            query,
        })
    }

    /// The event type of sequence number `seq`, if it has an `event:` field.
    pub fn event_type(&self, seq: u64) -> Option<&str> {
        if self.types.is_empty() || seq == 0 {
            return None;
        }
        // usize -> u64 never truncates on supported targets; the result of `%`
        // is below `len`, so converting back cannot fail either.
        let len = self.types.len() as u64;
        let index = usize::try_from((seq - 1) % len).unwrap_or(0);
        self.types.get(index).and_then(|t| t.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = Script::parse(None).unwrap();
        assert_eq!(s.count, 10);
        assert!(s.types.is_empty());
        assert_eq!(s.format, Format::Json);
        assert!(s.ids);
        assert_eq!(s.then, Then::End);
        assert_eq!(s.max, Duration::from_millis(DEFAULT_MAX_MS));
        assert_eq!(s.resume_param, "lastEventId");
        assert_eq!(s.content_type, "text/event-stream");
        assert_eq!(s.event_type(1), None);
    }

    #[test]
    fn types_cycle() {
        let s = Script::parse(Some("types=tick,,news")).unwrap();
        assert_eq!(s.event_type(1), Some("tick"));
        assert_eq!(s.event_type(2), None);
        assert_eq!(s.event_type(3), Some("news"));
        assert_eq!(s.event_type(4), Some("tick"));
        assert_eq!(Script::parse(Some("types=")).unwrap().event_type(1), None);
        assert!(Script::parse(Some("types=a%0Ab")).is_err());
    }

    #[test]
    fn rejects_bad_values() {
        for q in [
            "count=x",
            "count=-1",
            "count=10000001",
            "interval=60001",
            "size=16777217",
            "malformed=1,x",
            "ids=maybe",
            "drop_after=0",
            "then=later",
            "comment_every=0",
            "fail_status=503",
            "fail_status=600&session=s",
            "fail_status=99&session=s",
            "fail_status=101&session=s",
            "fail_status=199&session=s",
            "fail_first=2",
            "line_end=crcr",
            "byte_by_byte=2",
            "echo=yes",
            "format=xml",
            "session=",
            "resume_param=",
            "max_ms=abc",
            "content_type=a%0Ab",
        ] {
            assert!(Script::parse(Some(q)).is_err(), "{q} should be rejected");
        }
        let long = format!("session={}", "s".repeat(129));
        assert!(Script::parse(Some(&long)).is_err());
    }

    #[test]
    fn fail_and_clamps() {
        let s = Script::parse(Some(
            "session=a&fail_status=204&retry_after=3&max_ms=999999",
        ))
        .unwrap();
        let fail = s.fail.unwrap();
        assert_eq!(fail.status, StatusCode::NO_CONTENT);
        assert_eq!(fail.first, 1);
        assert_eq!(fail.retry_after, Some(3));
        assert_eq!(s.max, Duration::from_millis(MAX_MAX_MS));
        let s = Script::parse(Some("malformed=3,,5&line_end=crlf&byte_by_byte=1")).unwrap();
        assert_eq!(s.malformed.into_iter().collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(s.line_end, LineEnd::CrLf);
        assert!(s.byte_by_byte);
    }
}
