//! The demo scaled out on Redis (`sse-server --redis redis://HOST:PORT`): any number
//! of instances behind a proxy serve one feed, and a client may reconnect to any of
//! them without a gap or a repeat.
//!
//! What lives where:
//! - the feed's events go through a Redis Stream ([`STREAM`], capped at
//!   [`REPLAY_EVENTS`](super::feed::REPLAY_EVENTS)); an entry's id is `SEQ-0`, so the sequence number, the SSE
//!   `id` and the stream position are one number on every instance. Each instance
//!   mirrors the stream into its own replay log ([`stream`]) and fans it out to its
//!   own clients; a returning client's replay is read from the stream itself;
//! - one instance generates, the holder of a lease ([`lease`]); its writes check the
//!   lease and give the next number, so a stale holder can write nothing; the
//!   latest snapshot sits next to the stream, and a new holder continues from it;
//! - two-factor approvals, a tab's drop or outage and restart requests cross
//!   instances over Pub/Sub ([`relay`]); the open-connection count is summed over instances ([`census`]).
//!
//! Redis unreachable at start is an error ([`Cluster::connect`]); lost while running,
//! every task logs it once, keeps serving what is local, and retries with backoff.

pub mod census;
pub mod lease;
pub mod relay;
pub mod stream;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Client;
use tokio::sync::{mpsc, watch};

use super::feed::Feed;
use crate::http::now_ms;

/// The stream of the feed's events.
pub const STREAM: &str = "sse-demo:feed";
/// The latest snapshot (JSON, with its `head`).
pub const SNAPSHOT: &str = "sse-demo:snapshot";
/// The generator's lease: the holder's token, with an expiry.
pub const LEASE: &str = "sse-demo:lease";
/// When the feed first started (ms since the epoch), for the status panel's uptime.
pub const STARTED: &str = "sse-demo:started";
/// Open connections per instance.
pub const CONNECTIONS: &str = "sse-demo:connections";
/// Requests to every instance (two-factor outcomes, drops, restarts).
pub const REQUESTS: &str = "sse-demo:requests";
/// What each instance did about a request, back to the one that asked.
pub const REPLIES: &str = "sse-demo:replies";

/// Longest wait for one Redis answer (the blocking stream read adds its block time).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest pause between two attempts to reach a Redis that went away.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How an instance joins the cluster.
#[derive(Debug, Clone)]
pub struct Options {
    /// `redis://HOST:PORT`.
    pub url: String,
    /// This instance's name, as the page shows it.
    pub instance: String,
    /// How long the generator's lease lasts without renewal: how soon another
    /// instance takes over when the generator dies without a word.
    pub lease_ttl: Duration,
    /// Whether `POST /demo/restart` may stop this instance.
    pub allow_restart: bool,
}

impl Options {
    /// Options with the default lease (5 s) and no restart.
    pub fn new(url: impl Into<String>, instance: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            instance: instance.into(),
            lease_ttl: Duration::from_secs(5),
            allow_restart: false,
        }
    }
}

/// Redis could not be reached or understood at start.
#[derive(Debug)]
pub struct ConnectError(pub String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Whether Redis answers, so that an outage is logged once when it starts and
/// once when it ends, not by every failed call.
#[derive(Debug)]
pub struct Health {
    instance: String,
    down: AtomicBool,
}

impl Health {
    /// A call failed.
    pub fn failed(&self, what: &str, error: &dyn fmt::Display) {
        if !self.down.swap(true, Ordering::AcqRel) {
            eprintln!(
                "sse-server [{}]: redis lost ({what}: {error}); serving what is local, retrying",
                self.instance
            );
        }
    }

    /// A call went through.
    pub fn ok(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            eprintln!("sse-server [{}]: redis is back", self.instance);
        }
    }
}

/// Doubling pauses between retries, from 100 ms to [`MAX_BACKOFF`].
#[derive(Debug)]
pub struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_millis(100))
    }
}

impl Backoff {
    /// The next pause.
    pub fn pause(&mut self) -> Duration {
        let pause = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        pause
    }

    /// Back to the shortest pause, after a success.
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// One instance's membership of the cluster.
pub struct Cluster {
    options: Options,
    client: Client,
    /// Short commands (multiplexed; reconnects by itself).
    conn: ConnectionManager,
    /// The lease holder's proof: unique to this run of this instance.
    token: String,
    health: Health,
    /// Requests of this instance waiting for replies, by id.
    pending: Mutex<HashMap<String, mpsc::Sender<u64>>>,
    next_request: AtomicU64,
    /// The subscription made at start, taken by the relay task.
    subscription: Mutex<Option<redis::aio::PubSub>>,
    restart: watch::Sender<bool>,
    started: AtomicBool,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("options", &self.options)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// A connection that reconnects by itself, but gives up on one reconnection soon:
/// while Redis is away, a call fails at once (and a client is served from what this
/// instance has) instead of waiting through a long series of attempts. The tasks
/// retry with their own backoff, and every call tries to reconnect again.
fn manager_config(response_timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(RESPONSE_TIMEOUT))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(1)
        .set_max_delay(MAX_BACKOFF)
}

impl Cluster {
    /// Connects to Redis and subscribes to the cluster's channels; fails with a
    /// message that names the URL when Redis cannot be reached.
    pub async fn connect(options: Options) -> Result<Cluster, ConnectError> {
        let fail = |e: redis::RedisError| {
            ConnectError(format!("cannot reach Redis at {}: {e}", options.url))
        };
        let client = Client::open(options.url.as_str())
            .map_err(|e| ConnectError(format!("--redis {}: {e}", options.url)))?;
        // One plain connection first: a manager would keep retrying an address
        // that is wrong from the start.
        let mut probe = client
            .get_multiplexed_async_connection_with_config(
                &redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(RESPONSE_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT)),
            )
            .await
            .map_err(fail)?;
        redis::cmd("PING")
            .query_async::<String>(&mut probe)
            .await
            .map_err(fail)?;
        let conn = client
            .get_connection_manager_with_config(manager_config(RESPONSE_TIMEOUT))
            .await
            .map_err(fail)?;
        let subscription = relay::subscribe(&client).await.map_err(fail)?;
        let token = format!("{}/{}/{}", options.instance, std::process::id(), now_ms());
        Ok(Cluster {
            health: Health {
                instance: options.instance.clone(),
                down: AtomicBool::new(false),
            },
            options,
            client,
            conn,
            token,
            pending: Mutex::default(),
            next_request: AtomicU64::new(0),
            subscription: Mutex::new(Some(subscription)),
            restart: watch::Sender::new(false),
            started: AtomicBool::new(false),
        })
    }

    /// This instance's name.
    pub fn instance(&self) -> &str {
        &self.options.instance
    }

    /// Whether `POST /demo/restart` may stop this instance.
    pub fn allow_restart(&self) -> bool {
        self.options.allow_restart
    }

    /// Starts the instance's tasks once: the stream mirror, the contest for the
    /// generator's lease, the Pub/Sub relay and the connection census. They end
    /// when `shutdown` turns true (the lease is given back then).
    pub fn start(
        self: &Arc<Self>,
        feed: &Arc<Feed>,
        local: relay::Local,
        shutdown: &watch::Receiver<bool>,
    ) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(stream::mirror(self.clone(), feed.clone(), shutdown.clone()));
        tokio::spawn(lease::contend(self.clone(), feed.clone(), shutdown.clone()));
        tokio::spawn(relay::listen(self.clone(), local, shutdown.clone()));
        tokio::spawn(census::report(
            self.clone(),
            feed.connections.clone(),
            shutdown.clone(),
        ));
    }

    /// Completes when another instance asked this one to restart.
    pub async fn restart_requested(&self) {
        let mut asked = self.restart.subscribe();
        let _ = asked.wait_for(|asked| *asked).await;
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

/// The sequence number of a stream entry id (`SEQ-0`).
pub fn entry_seq(id: &str) -> Option<u64> {
    id.split_once('-')
        .map_or(id, |(ms, _)| ms)
        .parse::<u64>()
        .ok()
}

/// Completes when `shutdown` turns true (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Sleeps for `pause`; false when `shutdown` turned true first.
pub async fn pause(pause: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    let slept = tokio::select! {
        _ = tokio::time::sleep(pause) => true,
        () = stopped(shutdown) => false,
    };
    slept && !*shutdown.borrow()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_are_sequence_numbers() {
        assert_eq!(entry_seq("42-0"), Some(42));
        assert_eq!(entry_seq("7"), Some(7));
        assert_eq!(entry_seq("x-0"), None);
        assert_eq!(entry_seq(""), None);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let mut backoff = Backoff::default();
        let pauses: Vec<_> = (0..7).map(|_| backoff.pause().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 2000, 2000]);
        backoff.reset();
        assert_eq!(backoff.pause().as_millis(), 100);
    }
}
