//! What a fetch response and its bytes mean, whoever reads them: the verdict on its
//! status and headers, the signals its chunks hold, and how its end counts.

use std::cell::Cell;
use std::time::Duration;

use crate::event::SseError;
use crate::machine::{Failure, FailureClass};
use crate::parser::{Item, ParseError, Parser};
use crate::transport::{status, Signal, SignalSink};

/// Why reading stopped before the stream ended by itself.
pub(crate) enum Stop {
    /// The connection was dropped: report nothing.
    Dropped,
    /// Report this and stop.
    Failed(Failure),
}

/// Hands `signal` to `sink` unless the connection was let go (`dropped`): the one way
/// every fetch reader reports, so none reports after its client moved on.
pub(crate) fn report(
    dropped: &Cell<bool>,
    sink: &SignalSink,
    signal: Signal<'_>,
) -> Result<(), Stop> {
    if dropped.get() {
        return Err(Stop::Dropped);
    }
    sink(signal);
    // A handler may have closed or reconnected the client just now.
    if dropped.get() {
        Err(Stop::Dropped)
    } else {
        Ok(())
    }
}

impl Stop {
    pub(crate) fn failed(error: SseError, class: FailureClass) -> Stop {
        Stop::Failed(Failure {
            error,
            class,
            retry_after: None,
        })
    }
}

/// One response body on its way to signals.
pub(crate) struct StreamReader {
    parser: Parser,
}

impl StreamReader {
    pub(crate) fn new(max_event_size: usize) -> StreamReader {
        StreamReader {
            parser: Parser::with_max_event_size(max_event_size),
        }
    }

    /// The verdict on a response: `Ok` when its body is an event stream to read.
    /// `retry_after` is the header as sent (seconds, or an HTTP date).
    pub(crate) fn judge(
        status_code: u16,
        content_type: Option<&str>,
        retry_after: Option<&str>,
    ) -> Result<(), Failure> {
        let retry_after = retry_after.and_then(Self::retry_after);
        status::judge(status_code, content_type, retry_after)
    }

    /// A `Retry-After` header's wait: seconds, or an HTTP date (read by the page's
    /// `Date`).
    pub(crate) fn retry_after(value: &str) -> Option<Duration> {
        status::retry_after(value, |date| {
            let at = js_sys::Date::parse(date);
            let delay_ms = at - js_sys::Date::now();
            at.is_finite()
                .then(|| crate::millis::duration(delay_ms.max(0.0)))
                .flatten()
        })
    }

    /// Parses one chunk, handing each event to `report` as it completes, then the end
    /// of the chunk. `report` says whether to go on.
    pub(crate) fn chunk(
        &mut self,
        chunk: &[u8],
        report: &mut dyn FnMut(Signal<'_>) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        self.read(chunk, report)?.map_err(|error| {
            Stop::failed(
                SseError::network([&error.describe(), "; reconnecting"].concat()),
                FailureClass::Retryable,
            )
        })
    }

    /// As [`chunk`](Self::chunk), but a stream the parser refuses is handed back as its
    /// [`ParseError`], for the caller to put into words (a retryable failure).
    pub(crate) fn read(
        &mut self,
        chunk: &[u8],
        report: &mut dyn FnMut(Signal<'_>) -> Result<(), Stop>,
    ) -> Result<Result<(), ParseError>, Stop> {
        report(Signal::Activity)?;
        let mut outcome = Ok(());
        let fed = self.parser.feed(chunk, |item| {
            if outcome.is_err() {
                return;
            }
            let signal = match item {
                Item::Event(event) => Signal::Event(event),
                Item::Retry(ms) => Signal::Retry(Duration::from_millis(ms)),
                Item::Comment(_) => return,
            };
            outcome = report(signal);
        });
        outcome?;
        if let Err(error) = fed {
            return Ok(Err(error));
        }
        // An `id:` committed by a blank line with no data is no event, but it is the
        // id to resume from. Ids only move on in stream order, so reporting it after
        // the chunk's events keeps that order.
        if let Some(id) = self.parser.take_id_without_event() {
            report(Signal::Id(id))?;
        }
        report(Signal::ChunkEnd).map(Ok)
    }

    /// The body ended: the server closed the stream.
    pub(crate) fn ended(&mut self) -> Failure {
        self.parser.finish();
        Failure {
            error: SseError::network("the server ended the stream"),
            class: FailureClass::Ended,
            retry_after: None,
        }
    }
}
