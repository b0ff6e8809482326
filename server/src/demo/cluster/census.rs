//! The cluster's open-connection count: each instance writes its own count, with
//! an expiry, into one hash every second; the generator adds up the fresh ones, so
//! an instance that died stops counting within `FRESH` (5 s).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::RedisResult;
use tokio::sync::watch;

use super::{pause, Cluster, CONNECTIONS};
use crate::http::now_ms;

/// How often an instance reports.
const EVERY: Duration = Duration::from_secs(1);
/// How long a report counts.
const FRESH: Duration = Duration::from_secs(5);

/// `count expires_ms`, as stored in the hash.
fn report_value(count: u64, expires: u64) -> String {
    format!("{count} {expires}")
}

/// The count in a report, if it has not expired at `now`.
fn fresh_count(value: &str, now: u64) -> Option<u64> {
    let (count, expires) = value.split_once(' ')?;
    let expires: u64 = expires.parse().ok()?;
    (expires > now).then(|| count.parse().ok()).flatten()
}

impl Cluster {
    async fn write_count(&self, count: u64) -> RedisResult<()> {
        let expires = now_ms() + FRESH.as_millis() as u64;
        redis::cmd("HSET")
            .arg(CONNECTIONS)
            .arg(self.instance())
            .arg(report_value(count, expires))
            .query_async::<i64>(&mut self.conn())
            .await
            .map(drop)
    }

    /// Open demo streams over every instance that reported lately; stale reports
    /// are removed.
    pub async fn connections(&self) -> RedisResult<u64> {
        let mut conn = self.conn();
        let reports: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(CONNECTIONS)
            .query_async(&mut conn)
            .await?;
        let now = now_ms();
        let mut total = 0;
        for (instance, value) in reports {
            match fresh_count(&value, now) {
                Some(count) => total += count,
                None => {
                    let _: RedisResult<i64> = redis::cmd("HDEL")
                        .arg(CONNECTIONS)
                        .arg(&instance)
                        .query_async(&mut conn)
                        .await;
                }
            }
        }
        Ok(total)
    }
}

/// Reports `count` every `EVERY` until `shutdown`, then withdraws the report.
pub async fn report(
    cluster: Arc<Cluster>,
    count: Arc<AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match cluster.write_count(count.load(Ordering::Relaxed)).await {
            Ok(()) => cluster.health.ok(),
            Err(e) => cluster.health.failed("reporting connections", &e),
        }
        if !pause(EVERY, &mut shutdown).await {
            break;
        }
    }
    let _: RedisResult<i64> = redis::cmd("HDEL")
        .arg(CONNECTIONS)
        .arg(cluster.instance())
        .query_async(&mut cluster.conn())
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_count_until_they_expire() {
        let value = report_value(7, 1_000);
        assert_eq!(fresh_count(&value, 999), Some(7));
        assert_eq!(fresh_count(&value, 1_000), None);
        assert_eq!(fresh_count("junk", 0), None);
        assert_eq!(fresh_count("x 5000", 0), None);
    }
}
