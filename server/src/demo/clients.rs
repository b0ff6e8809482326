//! Demo clients by id, so that `/demo/drop` can end one client's feed streams
//! (and keep turning it away for an "outage") without touching anyone else's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;
use tokio::time::{Duration, Instant};

/// Most client ids remembered at once.
pub const MAX_CLIENTS: usize = 10_000;
/// Longest client id accepted.
pub const MAX_CLIENT_CHARS: usize = 128;
/// Longest outage that can be asked for.
pub const MAX_OUTAGE: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Entry {
    drops: watch::Sender<u64>,
    streams: usize,
    outage_until: Option<Instant>,
}

impl Entry {
    fn new() -> Entry {
        Entry {
            drops: watch::Sender::new(0),
            streams: 0,
            outage_until: None,
        }
    }

    fn in_outage(&self, now: Instant) -> bool {
        self.outage_until.is_some_and(|until| until > now)
    }

    fn idle(&self, now: Instant) -> bool {
        self.streams == 0 && !self.in_outage(now)
    }
}

/// The registry.
#[derive(Debug, Default)]
pub struct Clients {
    map: Mutex<HashMap<String, Entry>>,
}

/// An open stream of a client: `dropped` changes when `/demo/drop` asks for the
/// client's streams to end. Dropping the guard unregisters the stream.
#[derive(Debug)]
pub struct Connected {
    /// Changes when the stream should end.
    pub dropped: watch::Receiver<u64>,
    clients: Arc<Clients>,
    id: String,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut map = self.clients.lock();
        if let Some(entry) = map.get_mut(&self.id) {
            entry.streams = entry.streams.saturating_sub(1);
            if entry.idle(Instant::now()) {
                map.remove(&self.id);
            }
        }
    }
}

/// Why a stream cannot be opened now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client is in a simulated outage until then.
    Outage(Instant),
    /// Too many clients are known.
    Full,
}

/// Accepts 1 to [`MAX_CLIENT_CHARS`] characters.
pub fn check_client(id: &str) -> Result<(), String> {
    let chars = id.chars().count();
    if chars == 0 || chars > MAX_CLIENT_CHARS {
        return Err(format!(
            "client: must be 1 to {MAX_CLIENT_CHARS} characters long"
        ));
    }
    Ok(())
}

impl Clients {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an open stream of client `id`.
    pub fn connect(self: &Arc<Self>, id: &str) -> Result<Connected, Refused> {
        let now = Instant::now();
        let mut map = self.lock();
        if !map.contains_key(id) && map.len() >= MAX_CLIENTS {
            map.retain(|_, entry| !entry.idle(now));
            if map.len() >= MAX_CLIENTS {
                return Err(Refused::Full);
            }
        }
        let entry = map.entry(id.to_owned()).or_insert_with(Entry::new);
        if let Some(until) = entry.outage_until.filter(|&until| until > now) {
            return Err(Refused::Outage(until));
        }
        entry.outage_until = None;
        entry.streams += 1;
        Ok(Connected {
            dropped: entry.drops.subscribe(),
            clients: self.clone(),
            id: id.to_owned(),
        })
    }

    /// Ends the open streams of client `id` and, for a non-zero `outage`, turns
    /// its new streams away for that long. Returns how many streams were open.
    pub fn drop_client(&self, id: &str, outage: Duration) -> usize {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, entry| !entry.idle(now));
        if !map.contains_key(id) && (outage.is_zero() || map.len() >= MAX_CLIENTS) {
            return 0;
        }
        let entry = map.entry(id.to_owned()).or_insert_with(Entry::new);
        entry.drops.send_modify(|n| *n += 1);
        if !outage.is_zero() {
            entry.outage_until = Some(now + outage.min(MAX_OUTAGE));
        }
        entry.streams
    }

    /// Client ids remembered right now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_reach_only_the_named_client() {
        let clients = Arc::new(Clients::default());
        let mut a = clients.connect("a").unwrap();
        let b = clients.connect("b").unwrap();
        assert_eq!(clients.drop_client("a", Duration::ZERO), 1);
        assert!(a.dropped.has_changed().unwrap());
        assert!(!b.dropped.has_changed().unwrap());
        a.dropped.mark_unchanged();
        assert_eq!(clients.drop_client("nobody", Duration::ZERO), 0);
        assert_eq!(clients.len(), 2);
        drop(a);
        assert_eq!(clients.len(), 1);
        drop(b);
        assert!(clients.is_empty());
    }

    #[test]
    fn an_outage_turns_new_streams_away_until_it_ends() {
        let clients = Arc::new(Clients::default());
        let stream = clients.connect("a").unwrap();
        assert_eq!(clients.drop_client("a", Duration::from_millis(200)), 1);
        drop(stream);
        assert!(matches!(clients.connect("a"), Err(Refused::Outage(_))));
        assert!(clients.connect("b").is_ok());
        std::thread::sleep(Duration::from_millis(250));
        let back = clients.connect("a").unwrap();
        drop(back);
        assert!(clients.is_empty());
        // An outage may be announced before the client's first stream.
        assert_eq!(clients.drop_client("c", Duration::from_secs(1)), 0);
        assert!(matches!(clients.connect("c"), Err(Refused::Outage(_))));
    }
}
