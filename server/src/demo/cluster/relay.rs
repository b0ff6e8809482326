//! What crosses instances over Pub/Sub: two-factor outcomes (and the count of waits
//! each instance ended, back to the one that asked), and restart requests.
//!
//! An approval on any instance is published to every instance, the asking one
//! included; each ends its own waits of that user and replies with how many. `PUBLISH`
//! says how many instances listen, so the asking instance knows how many replies to
//! wait for, and answers 404 only when the user waits nowhere.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSub;
use redis::{Client, Msg, RedisResult};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout_at, Instant};

use super::{pause, stopped, Backoff, Cluster, CONTROL, TWO_FA, TWO_FA_REPLY};
use crate::demo::twofa::{Outcome, Registry};

/// Longest wait for the other instances' replies to an approval.
const REPLIES: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize, Deserialize)]
struct Resolve {
    id: String,
    from: String,
    user: String,
    approved: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Reply {
    id: String,
    to: String,
    told: u64,
}

/// A Pub/Sub connection subscribed to the cluster's channels.
pub async fn subscribe(client: &Client) -> RedisResult<PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(&[TWO_FA, TWO_FA_REPLY, CONTROL]).await?;
    Ok(pubsub)
}

impl Cluster {
    async fn publish_message(&self, channel: &str, message: &str) -> RedisResult<u64> {
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(message)
            .query_async(&mut self.conn())
            .await
    }

    /// Ends every wait of `user` on every instance; returns how many there were.
    /// Without Redis, only this instance's waits (`local`) are ended.
    pub async fn resolve(&self, local: &Registry, user: &str, outcome: Outcome) -> usize {
        let id = format!(
            "{}#{}",
            self.token,
            self.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let request = Resolve {
            id: id.clone(),
            from: self.instance().to_owned(),
            user: user.to_owned(),
            approved: outcome == Outcome::Approved,
        };
        let message = serde_json::to_string(&request).unwrap_or_default();
        let (tx, mut replies) = mpsc::channel(64);
        self.lock_pending().insert(id.clone(), tx);
        let listeners = self.publish_message(TWO_FA, &message).await;
        let told = match listeners {
            // Not even this instance listens (its subscription is being renewed).
            Ok(0) => local.resolve(user, outcome),
            Ok(listeners) => {
                self.health.ok();
                let deadline = Instant::now() + REPLIES;
                let mut told = 0;
                for _ in 0..listeners {
                    match timeout_at(deadline, replies.recv()).await {
                        Ok(Some(n)) => told += n,
                        _ => break,
                    }
                }
                told as usize
            }
            Err(e) => {
                self.health.failed("relaying a two-factor outcome", &e);
                local.resolve(user, outcome)
            }
        };
        self.lock_pending().remove(&id);
        told
    }

    /// Asks instance `name` to restart; returns how many instances heard it.
    pub async fn request_restart(&self, name: &str) -> RedisResult<u64> {
        self.publish_message(CONTROL, name).await
    }

    fn lock_pending(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, mpsc::Sender<u64>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn on_message(&self, registry: &Registry, msg: &Msg) {
        let Ok(payload) = msg.get_payload::<String>() else {
            return;
        };
        match msg.get_channel_name() {
            TWO_FA => {
                let Ok(request) = serde_json::from_str::<Resolve>(&payload) else {
                    return;
                };
                let outcome = if request.approved {
                    Outcome::Approved
                } else {
                    Outcome::Denied
                };
                let told = registry.resolve(&request.user, outcome) as u64;
                let reply = Reply {
                    id: request.id,
                    to: request.from,
                    told,
                };
                let reply = serde_json::to_string(&reply).unwrap_or_default();
                if let Err(e) = self.publish_message(TWO_FA_REPLY, &reply).await {
                    self.health.failed("replying to a two-factor outcome", &e);
                }
            }
            TWO_FA_REPLY => {
                let Ok(reply) = serde_json::from_str::<Reply>(&payload) else {
                    return;
                };
                if reply.to == self.instance() {
                    let waiting = self.lock_pending().get(&reply.id).cloned();
                    if let Some(tx) = waiting {
                        let _ = tx.try_send(reply.told);
                    }
                }
            }
            CONTROL if payload == self.instance() && self.allow_restart() => {
                eprintln!("sse-server [{}]: asked to restart", self.instance());
                self.restart.send_replace(true);
            }
            _ => {}
        }
    }
}

/// Handles the cluster's messages until `shutdown`; subscribes again, with backoff,
/// when the connection is lost.
pub async fn listen(
    cluster: Arc<Cluster>,
    registry: Arc<Registry>,
    mut shutdown: watch::Receiver<bool>,
) {
    let first = cluster
        .subscription
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let mut backoff = Backoff::default();
    let mut subscription = first;
    loop {
        let pubsub = match subscription.take() {
            Some(pubsub) => pubsub,
            None => match subscribe(&cluster.client).await {
                Ok(pubsub) => {
                    cluster.health.ok();
                    backoff.reset();
                    pubsub
                }
                Err(e) => {
                    cluster.health.failed("subscribing", &e);
                    if !pause(backoff.pause(), &mut shutdown).await {
                        return;
                    }
                    continue;
                }
            },
        };
        let mut messages = pubsub.into_on_message();
        loop {
            let message = tokio::select! {
                message = messages.next() => message,
                () = stopped(&mut shutdown) => return,
            };
            match message {
                Some(message) => cluster.on_message(&registry, &message).await,
                None => break,
            }
        }
        cluster
            .health
            .failed("listening", &"the subscription ended");
        if !pause(backoff.pause(), &mut shutdown).await {
            return;
        }
    }
}
