//! The demo's live feed: one global, gap-free sequence of events (`tick`, `news`,
//! `notification`, `status`) with a bounded replay log, so a client that comes back
//! with the last id it saw gets exactly the events it missed.
//!
//! Every event is rendered to its wire frame once, when it enters the log; every
//! connection sends the same bytes. A connection waits on a `watch` of the head
//! sequence number and then copies whatever is newer than its own cursor out of
//! the log, so a slow connection never holds up the generator or the others.
//!
//! Where the events come from is the demo's backend: in one process the feed's own
//! generator numbers them ([`Feed::start`]); in a cluster the Redis stream does, and
//! the log is this instance's mirror of it ([`Feed::append`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::http::{event_text, now_ms};

use super::content::{Content, Kind};
use super::schedule;

/// Events kept for replay (at the default pace, about a quarter of an hour).
pub const REPLAY_EVENTS: usize = 4096;
pub use super::content::RECENT;

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

/// `value` (an object) with `seq` and `time` added: the data of a numbered event.
pub fn stamped(mut value: Value, seq: u64, time: u64) -> String {
    if let Value::Object(map) = &mut value {
        map.insert("seq".to_owned(), seq.into());
        map.insert("time".to_owned(), time.into());
    }
    value.to_string()
}

/// The replay log: the frames of the latest events, contiguous, ending at `head`.
#[derive(Debug, Default)]
struct Log {
    /// The last sequence number in the log (0: none yet).
    head: u64,
    /// Frames of events `head - frames.len() + 1 ..= head`.
    frames: VecDeque<Bytes>,
}

impl Log {
    fn first(&self) -> u64 {
        self.head + 1 - self.frames.len() as u64
    }

    /// Adds the frame of event `seq`. An event at or below the head is already there
    /// (false); one past a hole starts the log again from it, so it stays contiguous.
    fn append(&mut self, seq: u64, frame: Bytes) -> bool {
        if seq <= self.head {
            return false;
        }
        if seq != self.head + 1 {
            self.frames.clear();
        }
        self.head = seq;
        self.frames.push_back(frame);
        while self.frames.len() > REPLAY_EVENTS {
            self.frames.pop_front();
        }
        true
    }

    /// The frames after `from`, with what a `resume` event reports about them.
    fn after(&self, from: u64) -> (Vec<Bytes>, u64) {
        let first = self.first();
        let missed = first.saturating_sub(from + 1);
        let skip = (from + 1).saturating_sub(first) as usize;
        (self.frames.iter().skip(skip).cloned().collect(), missed)
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

impl Opening {
    /// A fresh client's start: the `snapshot` event (`data`) standing for `head`.
    pub fn snapshot(head: u64, data: &str) -> Opening {
        Opening {
            start: Start::Snapshot { head },
            bytes: frame("snapshot", Some(head), data),
            cursor: head,
        }
    }

    /// A returning client's start: the `resume` event, then `frames` (the events
    /// `from + missed + 1 ..= head`, in order).
    pub fn resume(from: u64, head: u64, missed: u64, frames: &[Bytes]) -> Opening {
        let replayed = frames.len() as u64;
        let resume = serde_json::json!({
            "from": from,
            "head": head,
            "replayed": replayed,
            "missed": missed,
        });
        let mut bytes = frame("resume", None, &resume.to_string()).to_vec();
        for f in frames {
            bytes.extend_from_slice(f);
        }
        Opening {
            start: Start::Resume {
                from,
                missed,
                replayed,
            },
            bytes: Bytes::from(bytes),
            cursor: head.max(from),
        }
    }
}

/// The id a client came back with, if it is a sequence number at or below `head`
/// (anything else is a fresh client).
pub fn known_id(last_id: Option<&str>, head: u64) -> Option<u64> {
    last_id
        .and_then(|raw| raw.trim().parse::<u64>().ok())
        .filter(|&id| id <= head)
}

/// The feed: the log, the generators' content and the head watch.
#[derive(Debug)]
pub struct Feed {
    /// Lock order: `content`, then `log`.
    content: Mutex<Content>,
    log: Mutex<Log>,
    head: watch::Sender<u64>,
    started: AtomicBool,
    pace: Pace,
    /// Open demo streams, for the `connections` figure of the status panel.
    pub(super) connections: Arc<AtomicU64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Feed {
    /// A feed that has not started generating yet.
    pub fn new(pace: Pace, connections: Arc<AtomicU64>) -> Feed {
        Feed {
            content: Mutex::new(Content::new(pace.seed, now_ms())),
            log: Mutex::new(Log {
                head: 0,
                frames: VecDeque::with_capacity(REPLAY_EVENTS),
            }),
            head: watch::Sender::new(0),
            started: AtomicBool::new(false),
            pace,
            connections,
        }
    }

    /// How fast the generators run.
    pub fn pace(&self) -> &Pace {
        &self.pace
    }

    /// The generators' content (a cluster's generator makes its events with it).
    pub(super) fn content(&self) -> MutexGuard<'_, Content> {
        lock(&self.content)
    }

    /// Starts the in-process generator once; it runs until `shutdown` turns true.
    pub fn start(self: &Arc<Self>, shutdown: watch::Receiver<bool>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let feed = self.clone();
        tokio::spawn(async move {
            let mut shutdown = shutdown;
            let born = Instant::now();
            let emit = |kind| {
                feed.emit(kind, born.elapsed().as_secs());
                std::future::ready(Ok::<(), ()>(()))
            };
            let _ = schedule::run(&feed.pace, emit, &mut shutdown).await;
        });
    }

    /// A receiver that wakes whenever new events are in the log.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// The last sequence number in the log.
    pub fn head(&self) -> u64 {
        lock(&self.log).head
    }

    /// Makes, numbers and logs one event of `kind` (the in-process generator).
    fn emit(&self, kind: Kind, uptime_s: u64) {
        let connections = self.connections.load(Ordering::Relaxed);
        let head = {
            let mut content = self.content();
            let mut log = lock(&self.log);
            let time = now_ms();
            let made = content.make(kind, connections, uptime_s, time);
            let seq = log.head + 1;
            let data = stamped(made.data, seq, time);
            log.append(seq, frame(made.event, Some(seq), &data));
            seq
        };
        self.head.send_replace(head);
    }

    /// Adds event `seq` as numbered elsewhere (a cluster's stream) to the log and
    /// wakes the connections; false when it was there already.
    pub fn append(&self, seq: u64, event: &str, data: &str) -> bool {
        let added = lock(&self.log).append(seq, frame(event, Some(seq), data));
        if added {
            self.head.send_replace(seq);
        }
        added
    }

    /// Where a connection that came with `last_id` starts, and its first bytes.
    pub fn open(&self, last_id: Option<&str>) -> Opening {
        let content = self.content();
        let log = lock(&self.log);
        match known_id(last_id, log.head) {
            Some(from) => {
                let (frames, missed) = log.after(from);
                Opening::resume(from, log.head, missed, &frames)
            }
            None => Opening::snapshot(log.head, &content.snapshot(log.head)),
        }
    }

    /// The frames after `cursor`, as one chunk, and the new cursor. A cursor that
    /// fell out of the log continues at the oldest event kept.
    pub fn since(&self, cursor: u64) -> (Bytes, u64) {
        let log = lock(&self.log);
        if cursor >= log.head {
            return (Bytes::new(), cursor);
        }
        let (frames, _) = log.after(cursor);
        let mut bytes = Vec::new();
        for f in frames {
            bytes.extend_from_slice(&f);
        }
        (Bytes::from(bytes), log.head)
    }

    /// Runs the generators by hand (tests): `n` ticks, then one of each other kind.
    #[cfg(test)]
    fn step(&self, n: usize) {
        for _ in 0..n {
            self.emit(Kind::Tick, 0);
        }
        for kind in [Kind::Status, Kind::News, Kind::Notification] {
            self.emit(kind, 0);
        }
    }
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
    fn a_mirror_stays_contiguous() {
        let feed = feed();
        assert!(feed.append(1, "tick", "{}"));
        assert!(feed.append(2, "tick", "{}"));
        assert!(!feed.append(2, "tick", "{}"));
        // A hole (the stream moved on while this instance was away) starts over.
        assert!(feed.append(9, "tick", "{}"));
        assert_eq!(feed.head(), 9);
        let opening = feed.open(Some("2"));
        assert_eq!(
            opening.start,
            Start::Resume {
                from: 2,
                missed: 6,
                replayed: 1
            }
        );
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
