//! When the generators speak: a tick and a status reading at fixed intervals, news
//! and notifications after random pauses. What each event is and where it goes is
//! the caller's `emit` (the in-process feed, or a cluster's generator writing to
//! Redis).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use super::content::Kind;
use super::feed::Pace;
use super::generate::Rng;

/// A pause drawn uniformly from `lo..=hi`.
fn pause(rng: &mut Rng, (lo, hi): (Duration, Duration)) -> Instant {
    let ms = rng.below(lo.as_millis() as u64, hi.as_millis() as u64 + 1);
    Instant::now() + Duration::from_millis(ms)
}

/// Calls `emit` for each event as it falls due, until `shutdown` turns true (`Ok`)
/// or `emit` fails (that error).
pub async fn run<E, F, Fut>(
    pace: &Pace,
    mut emit: F,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), E>
where
    F: FnMut(Kind) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    // The pauses have their own generator, so the content stays the same sequence
    // whatever the timing.
    let mut rng = Rng::new(pace.seed ^ 0x5CED_u64);
    let mut ticks = interval(pace.tick);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut statuses = interval(pace.status);
    statuses.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut next_news = pause(&mut rng, (Duration::ZERO, pace.news.0));
    let mut next_note = pause(&mut rng, pace.notification);
    loop {
        let kind = tokio::select! {
            _ = ticks.tick() => Kind::Tick,
            _ = statuses.tick() => Kind::Status,
            _ = sleep_until(next_news) => {
                next_news = pause(&mut rng, pace.news);
                Kind::News
            }
            _ = sleep_until(next_note) => {
                next_note = pause(&mut rng, pace.notification);
                Kind::Notification
            }
            _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
        };
        emit(kind).await?;
    }
}
