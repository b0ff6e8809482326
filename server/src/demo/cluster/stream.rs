//! The feed's Redis Stream: each instance's mirror of it, the start of a connection
//! read from it, and the generator's write (which checks the lease).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{RedisResult, Script};
use tokio::sync::watch;

use super::{entry_seq, pause, stopped, Backoff, Cluster, RESPONSE_TIMEOUT, SNAPSHOT, STREAM};
use crate::demo::feed::{frame, known_id, Feed, Opening, REPLAY_EVENTS};

/// How long one blocking read waits for new entries.
const BLOCK: Duration = Duration::from_secs(2);
/// Most entries one read returns.
const BATCH: usize = 1024;

/// One entry of the stream: its sequence number, event type and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The sequence number (the entry id is `seq-0`).
    pub seq: u64,
    /// The event type.
    pub event: String,
    /// The event's data (JSON with `seq` and `time`).
    pub data: String,
}

impl Entry {
    /// The entry, if it is one of ours (entries written by anything else are skipped).
    fn from_redis(id: &StreamId) -> Option<Entry> {
        Some(Entry {
            seq: entry_seq(&id.id)?,
            event: id.get::<String>("event")?,
            data: id.get::<String>("data")?,
        })
    }

    fn frame(&self) -> Bytes {
        frame(&self.event, Some(self.seq), &self.data)
    }
}

/// The generator's write: only while `token` holds the lease, and only as the next
/// number (the stream refuses an id that is not above its last), so a generator that
/// lost its lease without knowing can write nothing. The snapshot is written with
/// its event, so it always stands for the head.
///
/// KEYS: lease, stream, snapshot. ARGV: token, seq, cap, event, data, snapshot.
const PUBLISH: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('NOTLEADER the lease is not ours')
end
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], ARGV[2] .. '-0', 'event', ARGV[4], 'data', ARGV[5])
redis.call('SET', KEYS[3], ARGV[6])
return 1
";

impl Cluster {
    /// Writes event `seq` and the snapshot that stands for it (see [`PUBLISH`]).
    pub(super) async fn publish(
        &self,
        seq: u64,
        event: &str,
        data: &str,
        snapshot: &str,
    ) -> RedisResult<()> {
        Script::new(PUBLISH)
            .key(super::LEASE)
            .key(STREAM)
            .key(SNAPSHOT)
            .arg(&self.token)
            .arg(seq)
            .arg(REPLAY_EVENTS)
            .arg(event)
            .arg(data)
            .arg(snapshot)
            .invoke_async::<i64>(&mut self.conn())
            .await
            .map(drop)
    }

    /// The sequence number of the stream's last entry (0 when empty).
    pub async fn stream_head(&self) -> RedisResult<u64> {
        let top: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(STREAM)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn())
            .await?;
        Ok(top
            .ids
            .first()
            .and_then(|id| entry_seq(&id.id))
            .unwrap_or(0))
    }

    /// Where a connection that came with `last_id` starts: a known id resumes with
    /// exactly the entries after it, read from the stream (this instance's mirror may
    /// be behind the instance the client came from); anyone else gets the latest
    /// snapshot. Without Redis, the local mirror answers.
    pub async fn open(&self, feed: &Feed, last_id: Option<&str>) -> Opening {
        match self.try_open(feed, last_id).await {
            Ok(opening) => {
                self.health.ok();
                opening
            }
            Err(e) => {
                self.health.failed("opening a stream", &e);
                feed.open(last_id)
            }
        }
    }

    async fn try_open(&self, feed: &Feed, last_id: Option<&str>) -> RedisResult<Opening> {
        if let Some(from) = known_id(last_id, u64::MAX - 1) {
            // The head and what follows `from`, read together so they agree.
            let (top, after): (StreamRangeReply, StreamRangeReply) = redis::pipe()
                .atomic()
                .cmd("XREVRANGE")
                .arg(STREAM)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .cmd("XRANGE")
                .arg(STREAM)
                .arg(format!("{}-0", from + 1))
                .arg("+")
                .query_async(&mut self.conn())
                .await?;
            let head = top
                .ids
                .first()
                .and_then(|id| entry_seq(&id.id))
                .unwrap_or(0);
            if from <= head {
                let entries: Vec<Entry> = after.ids.iter().filter_map(Entry::from_redis).collect();
                let missed = entries
                    .first()
                    .map_or(0, |first| first.seq.saturating_sub(from + 1));
                let frames: Vec<Bytes> = entries.iter().map(Entry::frame).collect();
                return Ok(Opening::resume(from, head, missed, &frames));
            }
        }
        let snapshot: Option<String> = redis::cmd("GET")
            .arg(SNAPSHOT)
            .query_async(&mut self.conn())
            .await?;
        let head = snapshot.as_deref().and_then(|s| {
            serde_json::from_str::<serde_json::Value>(s)
                .ok()?
                .get("head")?
                .as_u64()
        });
        Ok(match (snapshot, head) {
            (Some(snapshot), Some(head)) => Opening::snapshot(head, &snapshot),
            // Nothing generated yet: the content every instance starts with.
            _ => feed.open(None),
        })
    }
}

/// Copies the stream into `feed`'s log as entries arrive, from where the log stands,
/// until `shutdown`; reconnects with backoff when Redis goes away.
pub async fn mirror(cluster: Arc<Cluster>, feed: Arc<Feed>, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Backoff::default();
    // Its own connection: a blocking read would hold up every other command.
    let mut conn = loop {
        match cluster
            .client
            .get_connection_manager_with_config(super::manager_config(RESPONSE_TIMEOUT + BLOCK))
            .await
        {
            Ok(conn) => break conn,
            Err(e) => {
                cluster.health.failed("mirroring the stream", &e);
                if !pause(backoff.pause(), &mut shutdown).await {
                    return;
                }
            }
        }
    };
    backoff.reset();
    loop {
        let after = feed.head();
        let mut read = redis::cmd("XREAD");
        read.arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(STREAM)
            .arg(format!("{after}-0"));
        let reply = tokio::select! {
            reply = read.query_async::<Option<StreamReadReply>>(&mut conn) => reply,
            () = stopped(&mut shutdown) => return,
        };
        match reply {
            Ok(reply) => {
                cluster.health.ok();
                backoff.reset();
                for key in reply.map(|r| r.keys).unwrap_or_default() {
                    for entry in key.ids.iter().filter_map(Entry::from_redis) {
                        feed.append(entry.seq, &entry.event, &entry.data);
                    }
                }
            }
            Err(e) => {
                cluster.health.failed("mirroring the stream", &e);
                if !pause(backoff.pause(), &mut shutdown).await {
                    return;
                }
            }
        }
    }
}
