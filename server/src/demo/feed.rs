//! The demo's live feed: one global, gap-free sequence of events (`tick`, `news`,
//! `notification`, `status`) with a bounded replay log, so a client that comes back
//! with the last id it saw gets exactly the events it missed.
//!
//! Every event is rendered to its wire frame once, when it is made; every
//! connection sends the same bytes. A connection waits on a `watch` of the head
//! sequence number and then copies whatever is newer than its own cursor out of
//! the log, so a slow connection never holds up the generator or the others.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use crate::http::{event_text, now_ms};

use super::generate::{Inbox, Machine, Market, News, Newsroom, Notification, Quote, Rng};

/// Events kept for replay (at the default pace, about a quarter of an hour).
pub const REPLAY_EVENTS: usize = 4096;
/// Headlines and notifications that a new client gets in its snapshot.
pub const RECENT: usize = 6;

/// How fast the generators run.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Between two `tick` events (one symbol moves per tick).
    pub tick: Duration,
    /// Between two `status` events.
    pub status: Duration,
    /// Range of the pause between two `news` events.
    pub news: (Duration, Duration),
    /// Range of the pause between two `notification` events.
    pub notification: (Duration, Duration),
    /// Seed of the random walks and choices.
    pub seed: u64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            tick: Duration::from_millis(300),
            status: Duration::from_secs(1),
            news: (Duration::from_millis(3500), Duration::from_millis(7000)),
            notification: (Duration::from_millis(4000), Duration::from_millis(9000)),
            seed: 0x55E_DE30,
        }
    }
}

/// The wire form of one event.
pub fn frame(event: &str, id: Option<u64>, data: &str) -> Bytes {
    Bytes::from(event_text(Some(event), id, data, "\n"))
}

/// `value` (an object) with `seq` and `time` added.
fn stamped(value: impl Serialize, seq: u64, time: u64) -> String {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("seq".to_owned(), seq.into());
        map.insert("time".to_owned(), time.into());
    }
    value.to_string()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Timed<T> {
    #[serde(flatten)]
    item: T,
    time: u64,
}

#[derive(Debug)]
struct Log {
    /// The last sequence number given out (0: none yet).
    head: u64,
    /// Frames of events `head - frames.len() + 1 ..= head`.
    frames: VecDeque<Bytes>,
    rng: Rng,
    market: Market,
    newsroom: Newsroom,
    inbox: Inbox,
    machine: Machine,
    news: VecDeque<Timed<News>>,
    notifications: VecDeque<Timed<Notification>>,
    status: Option<Value>,
}

impl Log {
    fn first(&self) -> u64 {
        self.head + 1 - self.frames.len() as u64
    }

    fn push(&mut self, event: &str, data: impl Serialize) -> u64 {
        self.head += 1;
        let seq = self.head;
        let data = stamped(data, seq, now_ms());
        self.frames.push_back(frame(event, Some(seq), &data));
        while self.frames.len() > REPLAY_EVENTS {
            self.frames.pop_front();
        }
        seq
    }
}

/// Where a new connection starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A fresh client (or an id this feed never gave out): a `snapshot` event
    /// whose id is the head, then live events.
    Snapshot {
        /// The sequence number the snapshot stands for.
        head: u64,
    },
    /// A returning client: a `resume` event, then the events after `from`.
    Resume {
        /// The id the client came back with.
        from: u64,
        /// Events older than the replay log that are lost (0 normally).
        missed: u64,
        /// Events sent from the log.
        replayed: u64,
    },
}

/// The first bytes of a connection and the cursor it continues from.
#[derive(Debug)]
pub struct Opening {
    /// What kind of start this is.
    pub start: Start,
    /// The `snapshot` or `resume` event and the replayed events, as one chunk.
    pub bytes: Bytes,
    /// Sequence number of the last event in `bytes`.
    pub cursor: u64,
}

/// The feed: the log, its generator and the head watch.
#[derive(Debug)]
pub struct Feed {
    log: Mutex<Log>,
    head: watch::Sender<u64>,
    started: AtomicBool,
    pace: Pace,
    /// Open demo streams, for the `connections` figure of the status panel.
    pub(super) connections: Arc<AtomicU64>,
}

impl Feed {
    /// A feed that has not started generating yet.
    pub fn new(pace: Pace, connections: Arc<AtomicU64>) -> Feed {
        let mut rng = Rng::new(pace.seed);
        let market = Market::new(&mut rng);
        let newsroom = Newsroom::default();
        let machine = Machine::new(&mut rng);
        let mut log = Log {
            head: 0,
            frames: VecDeque::with_capacity(REPLAY_EVENTS),
            rng,
            market,
            newsroom,
            inbox: Inbox::default(),
            machine,
            news: VecDeque::new(),
            notifications: VecDeque::new(),
            status: None,
        };
        // Something to read in the first seconds: headlines and notifications from
        // "before", which are part of the snapshot, not of the sequence.
        let time = now_ms();
        for minutes_ago in [23u64, 14, 9, 4, 1] {
            let news = log.newsroom.next(&mut log.rng);
            log.news.push_front(Timed {
                item: news,
                time: time.saturating_sub(minutes_ago * 60_000 + 20_000),
            });
        }
        for minutes_ago in [41u64, 26, 12, 6, 2] {
            let note = log.inbox.next(&mut log.rng);
            log.notifications.push_front(Timed {
                item: note,
                time: time.saturating_sub(minutes_ago * 60_000),
            });
        }
        Feed {
            log: Mutex::new(log),
            head: watch::Sender::new(0),
            started: AtomicBool::new(false),
            pace,
            connections,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the generator task once; it runs until `shutdown` turns true.
    pub fn start(self: &Arc<Self>, shutdown: watch::Receiver<bool>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let feed = self.clone();
        tokio::spawn(async move { feed.generate(shutdown).await });
    }

    /// A receiver that wakes whenever new events are in the log.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// The last sequence number given out.
    pub fn head(&self) -> u64 {
        self.lock().head
    }

    async fn generate(&self, mut shutdown: watch::Receiver<bool>) {
        let started = Instant::now();
        let mut ticks = interval(self.pace.tick);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut statuses = interval(self.pace.status);
        statuses.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let pause = |rng: &mut Rng, (lo, hi): (Duration, Duration)| {
            let ms = rng.below(lo.as_millis() as u64, hi.as_millis() as u64 + 1);
            Instant::now() + Duration::from_millis(ms)
        };
        let (mut next_news, mut next_note) = {
            let mut log = self.lock();
            (
                pause(&mut log.rng, (Duration::ZERO, self.pace.news.0)),
                pause(&mut log.rng, self.pace.notification),
            )
        };
        loop {
            tokio::select! {
                _ = ticks.tick() => self.tick(),
                _ = statuses.tick() => self.status(started.elapsed().as_secs()),
                _ = sleep_until(next_news) => {
                    next_news = self.news(self.pace.news, pause);
                }
                _ = sleep_until(next_note) => {
                    next_note = self.notification(self.pace.notification, pause);
                }
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    fn publish(&self, head: u64) {
        self.head.send_replace(head);
    }

    fn tick(&self) {
        let head = {
            let log = &mut *self.lock();
            let tick = log.market.tick(&mut log.rng);
            log.push("tick", tick)
        };
        self.publish(head);
    }

    fn status(&self, uptime_s: u64) {
        let connections = self.connections.load(Ordering::Relaxed);
        let head = {
            let log = &mut *self.lock();
            let status = log.machine.read(&mut log.rng, connections, uptime_s);
            let head = log.push("status", &status);
            log.status = serde_json::to_value(&status).ok();
            head
        };
        self.publish(head);
    }

    fn news(
        &self,
        pace: (Duration, Duration),
        pause: impl Fn(&mut Rng, (Duration, Duration)) -> Instant,
    ) -> Instant {
        self.post(
            "news",
            pace,
            pause,
            |log| log.newsroom.next(&mut log.rng),
            |log| &mut log.news,
        )
    }

    fn notification(
        &self,
        pace: (Duration, Duration),
        pause: impl Fn(&mut Rng, (Duration, Duration)) -> Instant,
    ) -> Instant {
        self.post(
            "notification",
            pace,
            pause,
            |log| log.inbox.next(&mut log.rng),
            |log| &mut log.notifications,
        )
    }

    /// Publishes one item of a feed that keeps its `RECENT` latest items for the
    /// snapshot; returns when the next one is due.
    fn post<T: Serialize>(
        &self,
        event: &str,
        pace: (Duration, Duration),
        pause: impl Fn(&mut Rng, (Duration, Duration)) -> Instant,
        make: impl FnOnce(&mut Log) -> T,
        recent: impl FnOnce(&mut Log) -> &mut VecDeque<Timed<T>>,
    ) -> Instant {
        let (head, next) = {
            let log = &mut *self.lock();
            let item = make(log);
            let head = log.push(event, &item);
            let kept = recent(log);
            kept.push_front(Timed {
                item,
                time: now_ms(),
            });
            kept.truncate(RECENT);
            (head, pause(&mut log.rng, pace))
        };
        self.publish(head);
        next
    }

    /// Where a connection that came with `last_id` starts, and its first bytes.
    pub fn open(&self, last_id: Option<&str>) -> Opening {
        let log = self.lock();
        let known = last_id
            .and_then(|raw| raw.trim().parse::<u64>().ok())
            .filter(|&id| id <= log.head);
        match known {
            Some(from) => {
                let first = log.first();
                let missed = first.saturating_sub(from + 1);
                let skip = (from + 1).saturating_sub(first) as usize;
                let replayed = log.frames.len().saturating_sub(skip) as u64;
                let resume = serde_json::json!({
                    "from": from,
                    "head": log.head,
                    "replayed": replayed,
                    "missed": missed,
                });
                let mut bytes = frame("resume", None, &resume.to_string()).to_vec();
                for f in log.frames.iter().skip(skip) {
                    bytes.extend_from_slice(f);
                }
                Opening {
                    start: Start::Resume {
                        from,
                        missed,
                        replayed,
                    },
                    bytes: Bytes::from(bytes),
                    cursor: log.head,
                }
            }
            None => {
                let snapshot = Snapshot {
                    head: log.head,
                    quotes: log.market.quotes.iter().collect(),
                    news: log.news.iter().collect(),
                    notifications: log.notifications.iter().collect(),
                    status: log.status.as_ref(),
                    cpu_history: log.machine.cpu_history.iter().collect(),
                };
                let data = serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".to_owned());
                Opening {
                    start: Start::Snapshot { head: log.head },
                    bytes: frame("snapshot", Some(log.head), &data),
                    cursor: log.head,
                }
            }
        }
    }

    /// The frames after `cursor`, as one chunk, and the new cursor. A cursor that
    /// fell out of the log continues at the oldest event kept.
    pub fn since(&self, cursor: u64) -> (Bytes, u64) {
        let log = self.lock();
        if cursor >= log.head {
            return (Bytes::new(), cursor);
        }
        let skip = (cursor + 1).saturating_sub(log.first()) as usize;
        let mut bytes = Vec::new();
        for f in log.frames.iter().skip(skip) {
            bytes.extend_from_slice(f);
        }
        (Bytes::from(bytes), log.head)
    }

    /// Runs the generators by hand (tests): `n` ticks, then one of each other kind.
    #[cfg(test)]
    fn step(&self, n: usize) {
        for _ in 0..n {
            self.tick();
        }
        self.status(0);
        let never = |_: &mut Rng, _| Instant::now();
        self.news((Duration::ZERO, Duration::ZERO), never);
        self.notification((Duration::ZERO, Duration::ZERO), never);
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot<'a> {
    head: u64,
    quotes: Vec<&'a Quote>,
    news: Vec<&'a Timed<News>>,
    notifications: Vec<&'a Timed<Notification>>,
    status: Option<&'a Value>,
    cpu_history: Vec<&'a f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Feed {
        Feed::new(Pace::default(), Arc::default())
    }

    /// (event, id, data) of every frame in `bytes`.
    fn frames(bytes: &[u8]) -> Vec<(String, Option<u64>, Value)> {
        let text = std::str::from_utf8(bytes).unwrap();
        text.split("\n\n")
            .filter(|block| !block.is_empty())
            .map(|block| {
                let (mut event, mut id, mut data) = (String::new(), None, Value::Null);
                for line in block.lines() {
                    let (field, value) = line.split_once(": ").unwrap();
                    match field {
                        "event" => event = value.to_owned(),
                        "id" => id = Some(value.parse().unwrap()),
                        "data" => data = serde_json::from_str(value).unwrap(),
                        other => panic!("unexpected field {other}"),
                    }
                }
                (event, id, data)
            })
            .collect()
    }

    #[test]
    fn fresh_clients_get_a_snapshot_with_history() {
        let feed = feed();
        feed.step(4);
        let opening = feed.open(None);
        assert_eq!(opening.start, Start::Snapshot { head: 7 });
        assert_eq!(opening.cursor, 7);
        let got = frames(&opening.bytes);
        assert_eq!(got.len(), 1);
        let (event, id, data) = &got[0];
        assert_eq!((event.as_str(), *id), ("snapshot", Some(7)));
        assert_eq!(data["head"], 7);
        assert_eq!(data["quotes"].as_array().unwrap().len(), 5);
        assert_eq!(data["quotes"][0]["history"].as_array().unwrap().len(), 60);
        assert_eq!(data["news"].as_array().unwrap().len(), RECENT);
        assert_eq!(data["notifications"].as_array().unwrap().len(), RECENT);
        assert!(data["status"]["cpu"].is_number());
        // Unknown or unusable ids are treated as fresh clients.
        for id in ["8", "x", "", "-1"] {
            assert!(matches!(feed.open(Some(id)).start, Start::Snapshot { .. }));
        }
    }

    #[test]
    fn returning_clients_get_exactly_what_they_missed() {
        let feed = feed();
        feed.step(10);
        let opening = feed.open(Some("9"));
        assert_eq!(
            opening.start,
            Start::Resume {
                from: 9,
                missed: 0,
                replayed: 4
            }
        );
        let got = frames(&opening.bytes);
        assert_eq!(got[0].0, "resume");
        assert_eq!(got[0].1, None);
        assert_eq!(got[0].2["replayed"], 4);
        let ids: Vec<_> = got[1..].iter().map(|f| f.1.unwrap()).collect();
        assert_eq!(ids, [10, 11, 12, 13]);
        let types: Vec<_> = got[1..].iter().map(|f| f.0.as_str()).collect();
        assert_eq!(types, ["tick", "status", "news", "notification"]);
        for (_, id, data) in &got[1..] {
            assert_eq!(data["seq"], id.unwrap());
            assert!(data["time"].is_number());
        }
        let up_to_date = frames(&feed.open(Some("13")).bytes);
        assert_eq!(up_to_date.len(), 1);
        assert_eq!(up_to_date[0].2["replayed"], 0);

        let (bytes, cursor) = feed.since(11);
        assert_eq!(cursor, 13);
        let ids: Vec<_> = frames(&bytes).iter().map(|f| f.1.unwrap()).collect();
        assert_eq!(ids, [12, 13]);
        assert_eq!(feed.since(13), (Bytes::new(), 13));
    }

    #[test]
    fn the_log_is_bounded_and_reports_what_fell_out() {
        let feed = feed();
        feed.step(REPLAY_EVENTS + 7);
        let head = feed.head();
        assert_eq!(head, REPLAY_EVENTS as u64 + 10);
        let opening = feed.open(Some("2"));
        assert_eq!(
            opening.start,
            Start::Resume {
                from: 2,
                missed: 8,
                replayed: REPLAY_EVENTS as u64
            }
        );
        let (bytes, _) = feed.since(0);
        let first = frames(&bytes)[0].1.unwrap();
        assert_eq!(first, 11);
    }
}
