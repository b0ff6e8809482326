//! What crosses instances over Pub/Sub: requests that every instance carries out on
//! what it holds itself — a two-factor outcome (its waits of that user), a tab's drop
//! or outage (that tab's streams, wherever it reconnects), a restart (if it is the
//! one named) — and each instance's count of what it did, back to the one that asked.
//!
//! A request is published to every instance, the asking one included. `PUBLISH` says
//! how many instances listen, so the asking instance knows how many replies to wait
//! for: an approval answers 404 only when the user waits nowhere.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSub;
use redis::{Client, Msg, RedisResult};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout_at, Instant};

use super::{pause, stopped, Backoff, Cluster, REPLIES, REQUESTS};
use crate::demo::clients::Clients;
use crate::demo::twofa::{Outcome, Registry};

/// Longest wait for the other instances' replies to a request.
const REPLY_WAIT: Duration = Duration::from_secs(3);

/// What every instance is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "camelCase")]
pub enum Action {
    /// End the waits of `user` with this outcome.
    Resolve {
        /// The user.
        user: String,
        /// Approved (else denied).
        approved: bool,
    },
    /// End the streams of tab `client`, and turn it away for `outage_ms`.
    Drop {
        /// The tab's id.
        client: String,
        /// How long its reconnects are turned away (0: not at all).
        outage_ms: u64,
    },
    /// Stop, if this instance is `instance` (and allows it).
    Restart {
        /// The instance's name.
        instance: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    id: String,
    from: String,
    action: Action,
}

#[derive(Debug, Serialize, Deserialize)]
struct Reply {
    id: String,
    to: String,
    count: u64,
}

/// What an instance holds that the cluster's requests act on.
#[derive(Debug, Clone)]
pub struct Local {
    /// Its two-factor waits.
    pub twofa: Arc<Registry>,
    /// Its tabs' streams.
    pub clients: Arc<Clients>,
}

impl Local {
    /// Carries out `action` here; returns how many things it touched.
    pub fn carry_out(&self, action: &Action) -> u64 {
        match action {
            Action::Resolve { user, approved } => {
                let outcome = if *approved {
                    Outcome::Approved
                } else {
                    Outcome::Denied
                };
                self.twofa.resolve(user, outcome) as u64
            }
            Action::Drop { client, outage_ms } => {
                self.clients
                    .drop_client(client, Duration::from_millis(*outage_ms)) as u64
            }
            // Only the cluster can restart an instance.
            Action::Restart { .. } => 0,
        }
    }
}

/// A Pub/Sub connection subscribed to the cluster's channels.
pub async fn subscribe(client: &Client) -> RedisResult<PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(&[REQUESTS, REPLIES]).await?;
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

    /// Asks every instance (this one included) to carry out `action`; returns the sum
    /// of their counts. Without Redis, or with nobody listening, it is carried out on
    /// `local` alone.
    pub async fn ask(&self, local: &Local, action: Action) -> u64 {
        let id = format!(
            "{}#{}",
            self.token,
            self.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let request = Request {
            id: id.clone(),
            // Replies are addressed to this run of this instance, even if another
            // instance was given the same name.
            from: self.token.clone(),
            action,
        };
        let message = serde_json::to_string(&request).unwrap_or_default();
        let (tx, mut replies) = mpsc::channel(64);
        self.lock_pending().insert(id.clone(), tx);
        let count = match self.publish_message(REQUESTS, &message).await {
            // Not even this instance listens (its subscription is being renewed).
            Ok(0) => local.carry_out(&request.action),
            Ok(listeners) => {
                self.health.ok();
                let deadline = Instant::now() + REPLY_WAIT;
                let mut count = 0;
                for _ in 0..listeners {
                    match timeout_at(deadline, replies.recv()).await {
                        Ok(Some(n)) => count += n,
                        _ => break,
                    }
                }
                count
            }
            Err(e) => {
                self.health.failed("relaying a request", &e);
                local.carry_out(&request.action)
            }
        };
        self.lock_pending().remove(&id);
        count
    }

    fn lock_pending(&self) -> MutexGuard<'_, HashMap<String, mpsc::Sender<u64>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn on_message(&self, local: &Local, msg: &Msg) {
        let Ok(payload) = msg.get_payload::<String>() else {
            return;
        };
        match msg.get_channel_name() {
            REQUESTS => {
                let Ok(request) = serde_json::from_str::<Request>(&payload) else {
                    return;
                };
                let count = match &request.action {
                    Action::Restart { instance } => {
                        u64::from(instance == self.instance() && self.allow_restart())
                    }
                    action => local.carry_out(action),
                };
                let reply = Reply {
                    id: request.id,
                    to: request.from,
                    count,
                };
                let reply = serde_json::to_string(&reply).unwrap_or_default();
                if let Err(e) = self.publish_message(REPLIES, &reply).await {
                    self.health.failed("replying to a request", &e);
                }
                // Stop only once the asking instance has its answer.
                if matches!(request.action, Action::Restart { .. }) && count == 1 {
                    eprintln!("sse-server [{}]: asked to restart", self.instance());
                    self.restart.send_replace(true);
                }
            }
            REPLIES => {
                let Ok(reply) = serde_json::from_str::<Reply>(&payload) else {
                    return;
                };
                if reply.to == self.token {
                    let waiting = self.lock_pending().get(&reply.id).cloned();
                    if let Some(tx) = waiting {
                        let _ = tx.try_send(reply.count);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Handles the cluster's messages until `shutdown`; subscribes again, with backoff,
/// when the connection is lost.
pub async fn listen(cluster: Arc<Cluster>, local: Local, mut shutdown: watch::Receiver<bool>) {
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
                Some(message) => cluster.on_message(&local, &message).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_back_as_they_were_written() {
        let actions = [
            Action::Resolve {
                user: "alice".into(),
                approved: true,
            },
            Action::Drop {
                client: "tab-1".into(),
                outage_ms: 6000,
            },
            Action::Restart {
                instance: "a".into(),
            },
        ];
        for action in actions {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
        }
        assert!(serde_json::from_str::<Action>(r#"{"do":"nuke"}"#).is_err());
    }
}
