//! Who generates: the instance that holds the lease in Redis (`SET NX PX`), renewed
//! while it lives and given back when it stops. The others try again every fifth of
//! the lease's life, so a generator that stops cleanly is replaced within about a
//! second and one that dies within the lease's life and that second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::{RedisResult, Script};
use tokio::sync::watch;

use super::{pause, Backoff, Cluster, LEASE, SNAPSHOT, STARTED};
use crate::demo::content::Kind;
use crate::demo::feed::{stamped, Feed};
use crate::demo::schedule;
use crate::http::now_ms;

/// Extends the lease only if `token` holds it. KEYS: lease. ARGV: token, ttl ms.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// Gives the lease back only if `token` holds it. KEYS: lease. ARGV: token.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Why a generator stopped generating.
#[derive(Debug)]
enum Stop {
    /// Redis failed.
    Redis(redis::RedisError),
    /// Another instance holds the lease now.
    LeaseLost,
}

impl From<redis::RedisError> for Stop {
    fn from(e: redis::RedisError) -> Self {
        Stop::Redis(e)
    }
}

impl Cluster {
    fn ttl_ms(&self) -> u64 {
        self.options.lease_ttl.as_millis().max(1) as u64
    }

    /// Takes the lease if nobody holds it.
    async fn acquire(&self) -> RedisResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(LEASE)
            .arg(&self.token)
            .arg("NX")
            .arg("PX")
            .arg(self.ttl_ms())
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    async fn renew(&self) -> RedisResult<bool> {
        let renewed: i64 = Script::new(RENEW)
            .key(LEASE)
            .arg(&self.token)
            .arg(self.ttl_ms())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(renewed == 1)
    }

    async fn release(&self) -> RedisResult<()> {
        Script::new(RELEASE)
            .key(LEASE)
            .arg(&self.token)
            .invoke_async::<i64>(&mut self.conn())
            .await
            .map(drop)
    }

    /// The instance holding the lease, if any (its token starts with its name).
    pub async fn lease_holder(&self) -> RedisResult<Option<String>> {
        let token: Option<String> = redis::cmd("GET")
            .arg(LEASE)
            .query_async(&mut self.conn())
            .await?;
        Ok(token.and_then(|t| t.rsplitn(3, '/').nth(2).map(str::to_owned)))
    }

    /// Seconds since the cluster's feed first started.
    async fn uptime_origin(&self) -> RedisResult<u64> {
        let mut conn = self.conn();
        let _: Option<String> = redis::cmd("SET")
            .arg(STARTED)
            .arg(now_ms())
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        let started: Option<u64> = redis::cmd("GET")
            .arg(STARTED)
            .query_async(&mut conn)
            .await?;
        Ok(started.unwrap_or_else(now_ms))
    }

    /// Generates while this instance holds the lease: continues the stream's
    /// sequence and the last snapshot's content, renews the lease a few times per
    /// life, and stops when either fails or at shutdown.
    async fn lead(&self, feed: &Feed, shutdown: &mut watch::Receiver<bool>) -> Result<(), Stop> {
        // After a Redis restart the stream may be empty: never count backwards.
        let head = AtomicU64::new(self.stream_head().await?.max(feed.head()));
        let snapshot: Option<String> = redis::cmd("GET")
            .arg(SNAPSHOT)
            .query_async(&mut self.conn())
            .await?;
        if let Some(snapshot) = snapshot {
            feed.content().restore(&snapshot);
        }
        let origin = self.uptime_origin().await?;
        eprintln!(
            "sse-server [{}]: generating the feed from #{}",
            self.instance(),
            head.load(Ordering::Relaxed) + 1
        );
        let every = self.options.lease_ttl / 3;
        let renew = async {
            loop {
                tokio::time::sleep(every).await;
                if !self.renew().await? {
                    return Err::<(), Stop>(Stop::LeaseLost);
                }
            }
        };
        let head = &head;
        let emit = |kind| self.emit(feed, kind, head, origin);
        tokio::select! {
            result = renew => result,
            result = schedule::run(feed.pace(), emit, shutdown) => result,
        }
    }

    /// Makes the next event of `kind` and writes it with its snapshot.
    async fn emit(
        &self,
        feed: &Feed,
        kind: Kind,
        head: &AtomicU64,
        origin: u64,
    ) -> Result<(), Stop> {
        let connections = match kind {
            Kind::Status => self.connections().await?,
            _ => 0,
        };
        let seq = head.load(Ordering::Relaxed) + 1;
        let (event, data, snapshot) = {
            let mut content = feed.content();
            let time = now_ms();
            let uptime_s = time.saturating_sub(origin) / 1000;
            let made = content.make(kind, connections, uptime_s, time);
            let data = stamped(made.data, seq, time);
            (made.event, data, content.snapshot(seq))
        };
        match self.publish(seq, event, &data, &snapshot).await {
            Ok(()) => {
                head.store(seq, Ordering::Relaxed);
                Ok(())
            }
            // The script's own refusal: somebody else holds the lease.
            Err(e) if e.code() == Some("NOTLEADER") => Err(Stop::LeaseLost),
            Err(e) => Err(Stop::Redis(e)),
        }
    }
}

/// Contends for the lease until `shutdown`, generating whenever it is held.
pub async fn contend(cluster: Arc<Cluster>, feed: Arc<Feed>, mut shutdown: watch::Receiver<bool>) {
    let retry = (cluster.options.lease_ttl / 5).max(Duration::from_millis(50));
    let mut backoff = Backoff::default();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let wait = match cluster.acquire().await {
            Ok(true) => {
                cluster.health.ok();
                let result = cluster.lead(&feed, &mut shutdown).await;
                // Best effort: an instance that stops hands over at once.
                let _ = cluster.release().await;
                match result {
                    Ok(()) => return,
                    Err(Stop::LeaseLost) => {
                        eprintln!("sse-server [{}]: lost the lease", cluster.instance());
                        retry
                    }
                    Err(Stop::Redis(e)) => {
                        cluster.health.failed("generating", &e);
                        backoff.pause().max(retry)
                    }
                }
            }
            Ok(false) => {
                cluster.health.ok();
                backoff.reset();
                retry
            }
            Err(e) => {
                cluster.health.failed("taking the lease", &e);
                backoff.pause().max(retry)
            }
        };
        if !pause(wait, &mut shutdown).await {
            return;
        }
    }
}
