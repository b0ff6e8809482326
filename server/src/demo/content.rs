//! What the demo's feed says: the state of its generators (market, newsroom, inbox,
//! machine) and what a fresh client's `snapshot` shows. It knows nothing of sequence
//! numbers or where events go: the in-process feed and the Redis-backed cluster both
//! ask it for the next event of a kind and for a snapshot at a head.
//!
//! A cluster's new generator picks up where the last one stopped by [`Content::restore`]
//! from the last snapshot, so prices and history do not jump at a takeover.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::generate::{Inbox, Machine, Market, Newsroom, Quote, Rng};

/// Headlines and notifications that a new client gets in its snapshot.
pub const RECENT: usize = 6;

/// The kinds of event the generators make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A price move.
    Tick,
    /// A server-status reading.
    Status,
    /// A headline.
    News,
    /// A notification.
    Notification,
}

/// One event made by the generators, before it gets its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    /// The event type.
    pub event: &'static str,
    /// Its data (an object; `seq` and `time` are added when it is numbered).
    pub data: Value,
}

/// The generators' state.
#[derive(Debug)]
pub struct Content {
    rng: Rng,
    market: Market,
    newsroom: Newsroom,
    inbox: Inbox,
    machine: Machine,
    /// The latest headlines and notifications (newest first, each with its `time`),
    /// kept as JSON: they are only ever shown, and a cluster restores them as they were.
    news: VecDeque<Value>,
    notifications: VecDeque<Value>,
    status: Option<Value>,
}

/// `item` (an object) with `time` added.
fn timed(item: impl Serialize, time: u64) -> Value {
    let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("time".to_owned(), time.into());
    }
    value
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot<'a> {
    head: u64,
    quotes: Vec<&'a Quote>,
    news: &'a VecDeque<Value>,
    notifications: &'a VecDeque<Value>,
    status: Option<&'a Value>,
    cpu_history: Vec<&'a f64>,
}

/// What [`Content::restore`] reads back from a snapshot.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Saved {
    #[serde(default)]
    quotes: Vec<SavedQuote>,
    #[serde(default)]
    news: VecDeque<Value>,
    #[serde(default)]
    notifications: VecDeque<Value>,
    status: Option<Value>,
    #[serde(default)]
    cpu_history: Vec<f64>,
}

#[derive(Deserialize)]
struct SavedQuote {
    symbol: String,
    price: f64,
    history: Vec<f64>,
}

impl Content {
    /// The generators seeded with `seed`, with some headlines and notifications from
    /// "before" (`now` is the wall clock in ms), which are part of the snapshot, not
    /// of the sequence.
    pub fn new(seed: u64, now: u64) -> Content {
        let mut rng = Rng::new(seed);
        let market = Market::new(&mut rng);
        let machine = Machine::new(&mut rng);
        let mut content = Content {
            rng,
            market,
            newsroom: Newsroom::default(),
            inbox: Inbox::default(),
            machine,
            news: VecDeque::new(),
            notifications: VecDeque::new(),
            status: None,
        };
        for minutes_ago in [23u64, 14, 9, 4, 1] {
            let news = content.newsroom.next(&mut content.rng);
            let time = now.saturating_sub(minutes_ago * 60_000 + 20_000);
            content.news.push_front(timed(news, time));
        }
        for minutes_ago in [41u64, 26, 12, 6, 2] {
            let note = content.inbox.next(&mut content.rng);
            let time = now.saturating_sub(minutes_ago * 60_000);
            content.notifications.push_front(timed(note, time));
        }
        content
    }

    /// The next event of `kind`. `connections` and `uptime_s` go into a status
    /// reading; `now` (ms) stamps what the snapshot keeps.
    pub fn make(&mut self, kind: Kind, connections: u64, uptime_s: u64, now: u64) -> Made {
        let rng = &mut self.rng;
        match kind {
            Kind::Tick => Made {
                event: "tick",
                data: serde_json::to_value(self.market.tick(rng)).unwrap_or(Value::Null),
            },
            Kind::Status => {
                let status = self.machine.read(rng, connections, uptime_s);
                let data = serde_json::to_value(status).unwrap_or(Value::Null);
                self.status = Some(data.clone());
                Made {
                    event: "status",
                    data,
                }
            }
            Kind::News => {
                let data = serde_json::to_value(self.newsroom.next(rng)).unwrap_or(Value::Null);
                keep_recent(&mut self.news, timed(&data, now));
                Made {
                    event: "news",
                    data,
                }
            }
            Kind::Notification => {
                let data = serde_json::to_value(self.inbox.next(rng)).unwrap_or(Value::Null);
                keep_recent(&mut self.notifications, timed(&data, now));
                Made {
                    event: "notification",
                    data,
                }
            }
        }
    }

    /// The `snapshot` event's data: everything a fresh client shows, standing for
    /// every event up to `head`.
    pub fn snapshot(&self, head: u64) -> String {
        let snapshot = Snapshot {
            head,
            quotes: self.market.quotes.iter().collect(),
            news: &self.news,
            notifications: &self.notifications,
            status: self.status.as_ref(),
            cpu_history: self.machine.cpu_history.iter().collect(),
        };
        serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Continues from a snapshot another generator wrote: prices and their history,
    /// the recent headlines and notifications (numbering goes on after them), the
    /// status and the CPU history. What the snapshot lacks or gets wrong is kept as
    /// it was; returns false when `snapshot` is not a snapshot at all.
    pub fn restore(&mut self, snapshot: &str) -> bool {
        let Ok(saved) = serde_json::from_str::<Saved>(snapshot) else {
            return false;
        };
        for quote in &saved.quotes {
            self.market
                .restore(&quote.symbol, quote.price, &quote.history);
        }
        let last_id = |items: &VecDeque<Value>| {
            items
                .iter()
                .filter_map(|item| item.get("id").and_then(Value::as_u64))
                .max()
        };
        if let Some(id) = last_id(&saved.news) {
            self.newsroom.continue_after(id);
            self.news = saved.news;
        }
        if let Some(id) = last_id(&saved.notifications) {
            self.inbox.continue_after(id);
            self.notifications = saved.notifications;
        }
        if let Some(status) = saved.status {
            self.machine.restore(&status, &saved.cpu_history);
            self.status = Some(status);
        }
        true
    }
}

fn keep_recent(list: &mut VecDeque<Value>, item: Value) {
    list.push_front(item);
    list.truncate(RECENT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_generator_continues_where_the_other_stopped() {
        let mut first = Content::new(1, 1_000_000);
        for _ in 0..50 {
            first.make(Kind::Tick, 0, 0, 1);
        }
        first.make(Kind::Status, 3, 9, 1);
        first.make(Kind::News, 0, 0, 1);
        first.make(Kind::Notification, 0, 0, 1);
        let saved = first.snapshot(53);

        let mut second = Content::new(1, 1_000_000);
        assert!(second.restore(&saved));
        let restored: Value = serde_json::from_str(&second.snapshot(53)).unwrap();
        let original: Value = serde_json::from_str(&saved).unwrap();
        assert_eq!(restored, original);
        // Numbering goes on after the restored items.
        let news = second.make(Kind::News, 0, 0, 1);
        assert_eq!(
            news.data["id"],
            original["news"][0]["id"].as_u64().unwrap() + 1
        );
        assert!(!second.restore("not json"));
    }
}
