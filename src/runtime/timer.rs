//! Timers: `gloo-timers`' `Timeout` (dropping it cancels the timer and frees its
//! closure), counted while it is pending.

use std::time::Duration;

use gloo_timers::callback::Timeout;

use super::LiveToken;

/// A pending `setTimeout`; dropping it cancels the timer and frees its closure.
pub(crate) struct Timer {
    _timeout: Timeout,
    _live: LiveToken,
}

impl Timer {
    /// Every caller passes the same boxed type, so the package carries one closure's
    /// glue for all timers.
    pub(crate) fn new(delay: Duration, callback: Box<dyn FnOnce()>) -> Timer {
        // setTimeout treats anything above i32::MAX ms (about 24.8 days) as 0.
        let ms = u32::try_from(crate::millis::whole(delay))
            .unwrap_or(u32::MAX)
            .min(i32::MAX as u32);
        Timer {
            _timeout: Timeout::new(ms, callback),
            _live: LiveToken::new(),
        }
    }
}
