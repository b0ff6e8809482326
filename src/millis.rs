//! Milliseconds, the unit of every JS time, to and from `Duration` (pure).
//!
//! Written out rather than through `Duration::try_from_secs_f64` and `as_millis`: those
//! bring 128-bit arithmetic and exact float rounding that no timer here needs, and the
//! npm package pays for every byte.

use std::time::Duration;

/// The longest duration these conversions produce, in milliseconds (about 584 years).
const MAX_MS: f64 = u64::MAX as f64 / 1e6;

/// `ms` milliseconds, to the nanosecond; `None` for a negative, NaN or huge number.
pub(crate) fn duration(ms: f64) -> Option<Duration> {
    // NaN is in no range.
    if !(0.0..MAX_MS).contains(&ms) {
        return None;
    }
    Some(Duration::from_nanos((ms * 1e6) as u64))
}

/// Whole milliseconds of `duration`, saturating.
pub(crate) fn whole(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(duration.subsec_millis()))
}

/// Milliseconds of `duration` as a JS number.
pub(crate) fn of(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_exact_where_it_matters_and_total_elsewhere() {
        assert_eq!(duration(0.0), Some(Duration::ZERO));
        assert_eq!(duration(0.5), Some(Duration::from_micros(500)));
        assert_eq!(duration(1500.0), Some(Duration::from_millis(1500)));
        assert_eq!(duration(-1.0), None);
        assert_eq!(duration(f64::NAN), None);
        assert_eq!(duration(f64::INFINITY), None);
        assert_eq!(duration(1e300), None);
        assert!(duration(MAX_MS * 0.99).is_some());
        assert_eq!(whole(Duration::from_micros(1999)), 1);
        assert_eq!(whole(Duration::MAX), u64::MAX);
        assert_eq!(of(Duration::from_millis(250)), 250.0);
    }
}
