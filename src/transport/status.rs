//! What the fetch transport makes of a response's status and headers (pure): open the
//! stream, retry, or give up. The rules are the npm contract's:
//!
//! - 200 with a `text/event-stream` media type opens (compared case-insensitively;
//!   parameters such as `charset=utf-8` are allowed);
//! - 204 is the server's "stop": closed, no retry;
//! - 5xx, 408 and 429 are retried, no sooner than a `Retry-After` asks;
//! - any other status, or a 200 of another media type, is fatal.

use std::time::Duration;

use crate::event::SseError;
use crate::machine::{Failure, FailureClass};
use crate::text::decimal;

/// What a response's status and Content-Type mean, before any words are put to it
/// (the npm face words it in JS; [`judge`] in Rust).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 200 with an event stream: read it.
    Open,
    /// 200 with another media type: fatal.
    WrongType,
    /// 204: the server asks the client to stop.
    NoContent,
    /// 408, 429, 5xx: retried, no sooner than a `Retry-After` asks.
    Retry,
    /// Any other status: fatal.
    Refuse,
}

impl Verdict {
    /// How the connection failed, or `None` when it opens.
    pub(crate) fn class(self) -> Option<FailureClass> {
        match self {
            Verdict::Open => None,
            Verdict::Retry => Some(FailureClass::Retryable),
            Verdict::WrongType | Verdict::NoContent | Verdict::Refuse => Some(FailureClass::Fatal),
        }
    }
}

/// The rules of the module's docs, for `status` and the Content-Type header.
pub(crate) fn verdict(status: u16, content_type: Option<&str>) -> Verdict {
    match status {
        200 if content_type.is_some_and(is_event_stream) => Verdict::Open,
        200 => Verdict::WrongType,
        204 => Verdict::NoContent,
        408 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Refuse,
    }
}

/// Judges a response: `Ok` when the stream can be read.
pub(crate) fn judge(
    status: u16,
    content_type: Option<&str>,
    retry_after: Option<Duration>,
) -> Result<(), Failure> {
    let verdict = verdict(status, content_type);
    let Some(class) = verdict.class() else {
        return Ok(());
    };
    let answered = || ["the server answered ", &decimal(u64::from(status))].concat();
    let error = match verdict {
        Verdict::WrongType => SseError::ContentType {
            content_type: content_type.unwrap_or("").to_owned(),
        },
        Verdict::NoContent => SseError::Http {
            status,
            message: "the server asked the client to stop (204 No Content)".to_owned(),
        },
        Verdict::Retry => SseError::Http {
            status,
            message: [&answered(), "; retrying"].concat(),
        },
        _ => SseError::Http {
            status,
            message: [&answered(), ", which is not retried"].concat(),
        },
    };
    Err(Failure {
        error,
        class,
        retry_after: retry_after.filter(|_| verdict == Verdict::Retry),
    })
}

/// Whether a Content-Type names the `text/event-stream` media type.
pub(crate) fn is_event_stream(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or("");
    media_type
        .trim_ascii()
        .eq_ignore_ascii_case("text/event-stream")
}

/// A `Retry-After` value: delay-seconds, or an HTTP date turned into a delay by
/// `date_delay` (which the browser's date parser answers). Anything else is ignored.
pub(crate) fn retry_after(
    value: &str,
    date_delay: impl FnOnce(&str) -> Option<Duration>,
) -> Option<Duration> {
    let value = value.trim_ascii();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds means "a very long time": saturate. (Compared
        // first rather than multiplied with an overflow check, which wasm32 does in
        // 128 bits, through a helper of a few hundred bytes.)
        const MOST: u64 = (u64::MAX - 9) / 10;
        let seconds = value.bytes().fold(0u64, |seconds, digit| {
            if seconds > MOST {
                u64::MAX
            } else {
                seconds * 10 + u64::from(digit - b'0')
            }
        });
        return Some(Duration::from_secs(seconds));
    }
    date_delay(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(status: u16, content_type: Option<&str>) -> Result<(), (String, FailureClass)> {
        judge(status, content_type, Some(Duration::from_secs(3)))
            .map_err(|failure| (failure.error.kind().to_owned(), failure.class))
    }

    #[test]
    fn ok_with_an_event_stream_opens_whatever_the_case_and_parameters() {
        for value in [
            "text/event-stream",
            "Text/Event-Stream",
            "text/event-stream; charset=utf-8",
            " text/event-stream ;charset=UTF-8",
        ] {
            assert_eq!(verdict(200, Some(value)), Ok(()), "{value}");
        }
    }

    #[test]
    fn ok_with_another_media_type_is_fatal() {
        for value in [
            None,
            Some("text/plain"),
            Some("text/event-streams"),
            Some(""),
        ] {
            assert_eq!(
                verdict(200, value),
                Err(("content-type".to_owned(), FailureClass::Fatal)),
                "{value:?}"
            );
        }
    }

    #[test]
    fn no_content_stops_for_good() {
        assert_eq!(
            verdict(204, None),
            Err(("http".to_owned(), FailureClass::Fatal))
        );
    }

    #[test]
    fn server_errors_timeouts_and_rate_limits_are_retried_with_their_retry_after() {
        for status in [408, 429, 500, 502, 503, 599] {
            let failure = judge(status, None, Some(Duration::from_secs(3))).unwrap_err();
            assert_eq!(failure.class, FailureClass::Retryable, "{status}");
            assert_eq!(failure.retry_after, Some(Duration::from_secs(3)));
            assert!(matches!(failure.error, SseError::Http { status: s, .. } if s == status));
        }
    }

    #[test]
    fn every_other_status_is_fatal_and_says_which() {
        for status in [201, 202, 301, 302, 304, 400, 401, 403, 404, 410, 418, 451] {
            let failure = judge(status, Some("text/event-stream"), None).unwrap_err();
            assert_eq!(failure.class, FailureClass::Fatal, "{status}");
            assert!(failure.error.to_string().contains(&status.to_string()));
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let never = |_: &str| None;
        assert_eq!(retry_after("1", never), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(" 120 ", never), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("99999999999999999999999", never),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(retry_after("-1", never), None);
        assert_eq!(retry_after("1.5", never), None);
        assert_eq!(retry_after("", never), None);
        let date = |value: &str| {
            (value == "Wed, 21 Oct 2026 07:28:00 GMT").then_some(Duration::from_secs(7))
        };
        assert_eq!(
            retry_after("Wed, 21 Oct 2026 07:28:00 GMT", date),
            Some(Duration::from_secs(7))
        );
    }
}
