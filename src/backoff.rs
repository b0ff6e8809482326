//! Reconnection policy: how long to wait before attempt `n`, and when the count resets.
//!
//! Everything here is pure: the current time and the random draw used for jitter are
//! arguments, so the policy is deterministic under test and runs natively.
//!
//! ```
//! use std::time::Duration;
//! use sse_wasm::{Backoff, Jitter};
//!
//! let policy = Backoff::exponential(Duration::from_millis(100))
//!     .factor(2.0)
//!     .max(Duration::from_secs(1))
//!     .jitter(Jitter::None);
//! assert_eq!(policy.delay(0, 0.5), Duration::from_millis(100));
//! assert_eq!(policy.delay(3, 0.5), Duration::from_millis(800));
//! assert_eq!(policy.delay(9, 0.5), Duration::from_secs(1));
//! ```

use std::time::Duration;

use crate::event::SseError;
use crate::millis;

/// How the computed delay is randomised, so that many clients dropped by one server
/// restart do not all come back in the same instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Jitter {
    /// The delay exactly as computed.
    None,
    /// Uniform in `[0, delay]` (the default).
    #[default]
    Full,
    /// `delay / 2` plus uniform in `[0, delay / 2]`.
    Equal,
}

impl Jitter {
    /// The name used by the npm options: `"none"`, `"full"` or `"equal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
        }
    }
}

impl std::str::FromStr for Jitter {
    type Err = SseError;

    fn from_str(name: &str) -> Result<Self, SseError> {
        match name {
            "none" => Ok(Jitter::None),
            "full" => Ok(Jitter::Full),
            "equal" => Ok(Jitter::Equal),
            other => Err(SseError::invalid(format!(
                "jitter: expected \"none\", \"full\" or \"equal\", got \"{other}\""
            ))),
        }
    }
}

/// The reconnection policy: `delay(n) = min(max, initial * factor^n)`, then jitter.
///
/// Defaults: initial 1 s, factor 2, max 30 s, full jitter, unlimited retries, and a
/// connection counts as healthy (resetting the attempt count) once it has delivered an
/// event or stayed open for 5 s.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: Jitter,
    max_retries: Option<u32>,
    stable_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            factor: 2.0,
            max: Duration::from_secs(30),
            jitter: Jitter::Full,
            max_retries: None,
            stable_after: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The default policy with another first delay.
    pub fn exponential(initial: Duration) -> Self {
        Backoff {
            initial,
            ..Backoff::default()
        }
    }

    /// A policy that waits `delay` every time (factor 1, no jitter).
    pub fn constant(delay: Duration) -> Self {
        Backoff {
            initial: delay,
            factor: 1.0,
            max: delay,
            jitter: Jitter::None,
            ..Backoff::default()
        }
    }

    /// The delay before the first reconnect (before jitter). Zero is allowed.
    pub fn initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Growth per failed attempt; must be finite and at least 1.
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// The cap of the computed delay (a server's `retry:` or `Retry-After` may exceed it).
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// How the delay is randomised.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// `Some(n)` allows `n` consecutive failed reconnects (`n + 1` requests) before the
    /// client gives up; `None` (the default) retries forever.
    pub fn max_retries(mut self, max_retries: Option<u32>) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// How long a connection must stay open, without any event, to count as healthy.
    pub fn stable_after(mut self, stable_after: Duration) -> Self {
        self.stable_after = stable_after;
        self
    }

    /// Checks the values a caller may have taken from untrusted input.
    pub fn validate(&self) -> Result<(), SseError> {
        // The messages name the builder's methods; the npm face checks its own option
        // names first (bindings/js_options.js). No float is formatted: that would put
        // float printing into every build.
        if !self.factor.is_finite() || self.factor < 1.0 {
            return Err(SseError::invalid(
                "backoff factor: expected a finite number >= 1",
            ));
        }
        if self.max < self.initial {
            return Err(SseError::invalid(format!(
                "backoff max: {} ms is below the initial delay of {} ms",
                millis::whole(self.max),
                millis::whole(self.initial)
            )));
        }
        Ok(())
    }

    /// The capped delay before jitter for the attempt numbered `attempt` (0 for the
    /// first reconnect).
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let initial_ms = millis::of(self.initial);
        let max_ms = millis::of(self.max);
        // powi saturates to infinity rather than overflowing, and min() then caps it.
        let exponent = i32::try_from(attempt).unwrap_or(i32::MAX);
        let grown = initial_ms * self.factor.powi(exponent);
        let capped = if grown.is_nan() {
            max_ms
        } else {
            grown.min(max_ms)
        };
        millis_to_duration(capped).min(self.max)
    }

    /// The delay for `attempt` after jitter; `random` is a draw from `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let base = self.base_delay(attempt);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self.jitter {
            Jitter::None => base,
            Jitter::Full => scaled(base, random),
            Jitter::Equal => {
                let half = base / 2;
                half + scaled(half, random)
            }
        }
    }
}

/// `duration` times `factor` (in `[0, 1]`).
fn scaled(duration: Duration, factor: f64) -> Duration {
    millis::duration(millis::of(duration) * factor).unwrap_or(duration)
}

fn millis_to_duration(ms: f64) -> Duration {
    millis::duration(ms).unwrap_or(Duration::MAX)
}

/// What to do after a connection failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    /// Reconnect after this delay; `attempt` counts consecutive failures from 1.
    Retry {
        /// 1 for the first reconnect since the last healthy connection.
        attempt: u32,
        /// How long to wait before reconnecting.
        delay: Duration,
    },
    /// The retry budget is spent: close.
    Exhausted {
        /// How many reconnects were made before giving up.
        attempts: u32,
    },
}

/// The running state of a [`Backoff`] policy over one client's life.
///
/// Times are durations since any fixed origin (the client uses `performance.now()`).
#[derive(Clone, Debug)]
pub(crate) struct RetryState {
    policy: Backoff,
    failures: u32,
    opened_at: Option<Duration>,
    server_retry: Option<Duration>,
    retry_after: Option<Duration>,
}

impl RetryState {
    /// A fresh state: the next failure waits `delay(0)`.
    pub fn new(policy: Backoff) -> Self {
        RetryState {
            policy,
            failures: 0,
            opened_at: None,
            server_retry: None,
            retry_after: None,
        }
    }

    /// The connection opened at `now`.
    pub fn on_open(&mut self, now: Duration) {
        self.opened_at = Some(now);
    }

    /// The connection delivered an event: it is healthy, so the count starts over.
    pub fn on_event(&mut self) {
        self.failures = 0;
    }

    /// A server's `retry:` field: the floor of every later delay until the next one.
    pub fn set_server_retry(&mut self, retry: Duration) {
        self.server_retry = Some(retry);
    }

    /// A server's `Retry-After`: the floor of the next delay only.
    pub fn set_retry_after(&mut self, retry_after: Duration) {
        self.retry_after = Some(retry_after);
    }

    /// Forgets the current connection's open time without counting a failure (a
    /// reconnect asked for by the user).
    pub fn on_abandon(&mut self) {
        self.opened_at = None;
    }

    /// The connection failed at `now`; `random` is a draw from `[0, 1)` for jitter.
    pub fn on_failure(&mut self, now: Duration, random: f64) -> RetryDecision {
        if let Some(opened_at) = self.opened_at.take() {
            if now.saturating_sub(opened_at) >= self.policy.stable_after {
                self.failures = 0;
            }
        }
        if let Some(limit) = self.policy.max_retries {
            if self.failures >= limit {
                return RetryDecision::Exhausted {
                    attempts: self.failures,
                };
            }
        }
        let mut delay = self.policy.delay(self.failures, random);
        let floors = [self.server_retry, self.retry_after.take()];
        for floor in floors.into_iter().flatten() {
            delay = delay.max(floor);
        }
        self.failures = self.failures.saturating_add(1);
        RetryDecision::Retry {
            attempt: self.failures,
            delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn no_jitter(initial_ms: u64) -> Backoff {
        Backoff::exponential(MS * initial_ms as u32).jitter(Jitter::None)
    }

    /// xorshift64*: deterministic draws in [0, 1) without a dependency.
    struct Draws(u64);
    impl Draws {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
            bits as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn exact_delays_without_jitter() {
        let policy = no_jitter(100).max(Duration::from_secs(2));
        let delays: Vec<u128> = (0..7).map(|n| policy.delay(n, 0.9).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn other_factors_and_zero_initial() {
        let policy = no_jitter(100).factor(1.5).max(Duration::from_secs(60));
        assert_eq!(policy.delay(2, 0.0), Duration::from_millis(225));
        let zero = no_jitter(0);
        assert_eq!(zero.delay(0, 0.7), Duration::ZERO);
        assert_eq!(zero.delay(40, 0.7), Duration::ZERO);
    }

    #[test]
    fn huge_attempts_and_maxima_do_not_overflow() {
        let policy = no_jitter(1000).factor(10.0).max(Duration::MAX);
        assert_eq!(policy.delay(u32::MAX, 0.5), Duration::MAX);
        let capped = no_jitter(1000).max(Duration::from_secs(30));
        assert_eq!(capped.delay(u32::MAX, 0.5), Duration::from_secs(30));
    }

    #[test]
    fn out_of_range_draws_are_clamped() {
        let policy = Backoff::exponential(Duration::from_secs(1)).jitter(Jitter::Full);
        assert_eq!(policy.delay(0, f64::NAN), Duration::ZERO);
        assert_eq!(policy.delay(0, 7.0), Duration::from_secs(1));
        assert_eq!(policy.delay(0, -1.0), Duration::ZERO);
    }

    fn mean_ms(policy: &Backoff, attempt: u32, draws: &mut Draws) -> (f64, f64, f64) {
        let n = 10_000;
        let mut sum = 0.0;
        let (mut lo, mut hi) = (f64::MAX, 0.0f64);
        for _ in 0..n {
            let ms = policy.delay(attempt, draws.next()).as_secs_f64() * 1000.0;
            sum += ms;
            lo = lo.min(ms);
            hi = hi.max(ms);
        }
        (sum / n as f64, lo, hi)
    }

    #[test]
    fn full_jitter_stays_in_bounds_with_the_expected_mean() {
        let policy = Backoff::exponential(MS * 100).jitter(Jitter::Full);
        let mut draws = Draws(0x9e37_79b9_7f4a_7c15);
        for attempt in [0, 2, 4] {
            let base = policy.base_delay(attempt).as_secs_f64() * 1000.0;
            let (mean, lo, hi) = mean_ms(&policy, attempt, &mut draws);
            assert!(lo >= 0.0 && hi <= base, "{lo}..{hi} outside 0..{base}");
            let expected = base / 2.0;
            assert!(
                (mean - expected).abs() <= expected * 0.05,
                "mean {mean} vs {expected}"
            );
        }
    }

    #[test]
    fn equal_jitter_stays_in_bounds_with_the_expected_mean() {
        let policy = Backoff::exponential(MS * 100).jitter(Jitter::Equal);
        let mut draws = Draws(0x1234_5678_9abc_def1);
        for attempt in [0, 3] {
            let base = policy.base_delay(attempt).as_secs_f64() * 1000.0;
            let (mean, lo, hi) = mean_ms(&policy, attempt, &mut draws);
            assert!(
                lo >= base / 2.0 && hi <= base,
                "{lo}..{hi} outside {base}/2..{base}"
            );
            let expected = base * 0.75;
            assert!(
                (mean - expected).abs() <= expected * 0.05,
                "mean {mean} vs {expected}"
            );
        }
    }

    fn delays(state: &mut RetryState, n: usize, now: Duration) -> Vec<RetryDecision> {
        (0..n).map(|_| state.on_failure(now, 0.5)).collect()
    }

    fn retry(attempt: u32, ms: u64) -> RetryDecision {
        RetryDecision::Retry {
            attempt,
            delay: Duration::from_millis(ms),
        }
    }

    #[test]
    fn consecutive_failures_grow_the_delay() {
        let mut state = RetryState::new(no_jitter(100));
        let got = delays(&mut state, 4, Duration::ZERO);
        assert_eq!(
            got,
            [retry(1, 100), retry(2, 200), retry(3, 400), retry(4, 800)]
        );
    }

    #[test]
    fn an_event_resets_the_count() {
        let mut state = RetryState::new(no_jitter(100));
        delays(&mut state, 3, Duration::ZERO);
        state.on_event();
        assert_eq!(state.on_failure(Duration::ZERO, 0.5), retry(1, 100));
    }

    #[test]
    fn staying_open_for_the_stable_period_resets_the_count() {
        let mut state = RetryState::new(no_jitter(100).stable_after(Duration::from_secs(5)));
        delays(&mut state, 3, Duration::ZERO);
        state.on_open(Duration::from_secs(10));
        // Open for 4.9 s: not yet healthy, so the delay keeps growing.
        assert_eq!(
            state.on_failure(Duration::from_millis(14_900), 0.5),
            retry(4, 800)
        );
        state.on_open(Duration::from_secs(20));
        assert_eq!(
            state.on_failure(Duration::from_secs(25), 0.5),
            retry(1, 100)
        );
    }

    #[test]
    fn an_open_then_immediate_drop_does_not_reset() {
        let mut state = RetryState::new(no_jitter(100));
        for attempt in 1..=5u32 {
            state.on_open(Duration::from_secs(attempt as u64));
            let decision = state.on_failure(Duration::from_secs(attempt as u64), 0.5);
            assert_eq!(decision, retry(attempt, 100 << (attempt - 1)));
        }
    }

    #[test]
    fn max_retries_allows_n_reconnects_then_exhausts() {
        let mut state = RetryState::new(no_jitter(100).max_retries(Some(3)));
        let got = delays(&mut state, 5, Duration::ZERO);
        let exhausted = RetryDecision::Exhausted { attempts: 3 };
        assert_eq!(
            got,
            [
                retry(1, 100),
                retry(2, 200),
                retry(3, 400),
                exhausted,
                exhausted
            ]
        );
        let mut none = RetryState::new(no_jitter(100).max_retries(Some(0)));
        assert_eq!(
            none.on_failure(Duration::ZERO, 0.5),
            RetryDecision::Exhausted { attempts: 0 }
        );
    }

    #[test]
    fn the_budget_resets_after_an_event() {
        let mut state = RetryState::new(no_jitter(100).max_retries(Some(2)));
        delays(&mut state, 2, Duration::ZERO);
        state.on_event();
        let got = delays(&mut state, 3, Duration::ZERO);
        assert_eq!(got[..2], [retry(1, 100), retry(2, 200)]);
        assert_eq!(got[2], RetryDecision::Exhausted { attempts: 2 });
    }

    #[test]
    fn server_retry_is_a_lasting_floor_above_max() {
        let mut state = RetryState::new(no_jitter(100).max(Duration::from_millis(500)));
        state.set_server_retry(Duration::from_secs(3));
        let got = delays(&mut state, 2, Duration::ZERO);
        assert_eq!(got, [retry(1, 3000), retry(2, 3000)]);
    }

    #[test]
    fn retry_after_is_a_floor_for_the_next_delay_only() {
        let mut state = RetryState::new(no_jitter(100));
        state.set_retry_after(Duration::from_secs(1));
        let got = delays(&mut state, 2, Duration::ZERO);
        assert_eq!(got, [retry(1, 1000), retry(2, 200)]);
    }

    #[test]
    fn a_floor_below_the_delay_changes_nothing() {
        let mut state = RetryState::new(no_jitter(400));
        state.set_server_retry(Duration::from_millis(50));
        assert_eq!(state.on_failure(Duration::ZERO, 0.5), retry(1, 400));
    }

    #[test]
    fn validation_rejects_bad_factors_and_inverted_bounds() {
        assert!(Backoff::default().validate().is_ok());
        for factor in [f64::NAN, f64::INFINITY, 0.5, -2.0] {
            assert!(Backoff::default().factor(factor).validate().is_err());
        }
        let inverted = Backoff::exponential(Duration::from_secs(5)).max(Duration::from_secs(1));
        assert!(inverted.validate().is_err());
    }

    #[test]
    fn jitter_names_round_trip() {
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal] {
            assert_eq!(jitter.as_str().parse::<Jitter>().unwrap(), jitter);
        }
        assert!("sometimes".parse::<Jitter>().is_err());
    }
}
