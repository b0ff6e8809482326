//! The two-factor login wait: a browser waits on a stream for its user; the
//! approval (from "the phone") is routed to that user's waits only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// Most waits open at once, over all users.
pub const MAX_WAITS: usize = 1000;
/// Longest user name accepted.
pub const MAX_USER_CHARS: usize = 64;

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The phone approved the login.
    Approved,
    /// The phone denied it.
    Denied,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    tx: oneshot::Sender<Outcome>,
}

/// Who waits for what, keyed by user.
#[derive(Debug, Default)]
pub struct Registry {
    waits: Mutex<HashMap<String, Vec<Waiter>>>,
    next_id: AtomicU64,
}

/// One registered wait: the outcome arrives on `outcome`; dropping the wait
/// unregisters it.
#[derive(Debug)]
pub struct Wait {
    /// Resolves when the login is approved or denied.
    pub outcome: oneshot::Receiver<Outcome>,
    registry: Arc<Registry>,
    user: String,
    id: u64,
}

impl Drop for Wait {
    fn drop(&mut self) {
        let mut waits = self.registry.lock();
        if let Some(list) = waits.get_mut(&self.user) {
            list.retain(|w| w.id != self.id);
            if list.is_empty() {
                waits.remove(&self.user);
            }
        }
    }
}

/// A user name that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadUser(pub String);

/// Accepts 1 to [`MAX_USER_CHARS`] letters, digits and `.`, `_`, `-`, `@`.
pub fn check_user(user: &str) -> Result<(), BadUser> {
    let chars = user.chars().count();
    if chars == 0 || chars > MAX_USER_CHARS {
        return Err(BadUser(format!(
            "user: must be 1 to {MAX_USER_CHARS} characters long"
        )));
    }
    if !user
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(BadUser(
            "user: only letters, digits and . _ - @ are allowed".to_owned(),
        ));
    }
    Ok(())
}

/// The two-digit number the login page and the phone both show, so a person can
/// tell that the request on the phone is theirs (stable across reconnects of
/// the same login).
pub fn match_code(user: &str, login: &str) -> u8 {
    // FNV-1a
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in user.bytes().chain([0]).chain(login.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    10 + (hash % 90) as u8
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Waiter>>> {
        self.waits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a wait for `user`; `None` when [`MAX_WAITS`] are open.
    pub fn wait(self: &Arc<Self>, user: &str) -> Option<Wait> {
        let mut waits = self.lock();
        if waits.values().map(Vec::len).sum::<usize>() >= MAX_WAITS {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, outcome) = oneshot::channel();
        waits
            .entry(user.to_owned())
            .or_default()
            .push(Waiter { id, tx });
        Some(Wait {
            outcome,
            registry: self.clone(),
            user: user.to_owned(),
            id,
        })
    }

    /// Ends every wait of `user` (and of nobody else) with `outcome`; returns
    /// how many there were.
    pub fn resolve(&self, user: &str, outcome: Outcome) -> usize {
        let waiters = self.lock().remove(user).unwrap_or_default();
        let mut told = 0;
        for waiter in waiters {
            if waiter.tx.send(outcome).is_ok() {
                told += 1;
            }
        }
        told
    }

    /// Users with at least one open wait.
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_reaches_only_the_users_own_waits() {
        let registry = Arc::new(Registry::default());
        let mut alice = registry.wait("alice").unwrap();
        let mut alice_tab = registry.wait("alice").unwrap();
        let mut bob = registry.wait("bob").unwrap();
        assert_eq!(registry.waiting(), 2);
        assert_eq!(registry.resolve("bob", Outcome::Approved), 1);
        assert_eq!(bob.outcome.try_recv(), Ok(Outcome::Approved));
        assert!(alice.outcome.try_recv().is_err());
        assert!(alice_tab.outcome.try_recv().is_err());
        assert_eq!(registry.resolve("bob", Outcome::Approved), 0);
        assert_eq!(registry.resolve("carol", Outcome::Approved), 0);
        assert_eq!(registry.resolve("alice", Outcome::Denied), 2);
        assert_eq!(alice.outcome.try_recv(), Ok(Outcome::Denied));
        assert_eq!(alice_tab.outcome.try_recv(), Ok(Outcome::Denied));
    }

    #[test]
    fn dropped_waits_unregister() {
        let registry = Arc::new(Registry::default());
        let first = registry.wait("dave").unwrap();
        let second = registry.wait("dave").unwrap();
        drop(first);
        assert_eq!(registry.waiting(), 1);
        drop(second);
        assert_eq!(registry.waiting(), 0);
        assert_eq!(registry.resolve("dave", Outcome::Approved), 0);
    }

    #[test]
    fn the_number_of_waits_is_bounded() {
        let registry = Arc::new(Registry::default());
        let waits: Vec<_> = (0..MAX_WAITS)
            .map(|i| registry.wait(&format!("u{i}")).unwrap())
            .collect();
        assert!(registry.wait("one-more").is_none());
        drop(waits);
        assert!(registry.wait("one-more").is_some());
    }

    #[test]
    fn user_names_and_codes() {
        for ok in ["alice", "bob.smith", "a_b-c@example.org", "zoë"] {
            assert_eq!(check_user(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a b", "a/b", "<x>", &"x".repeat(65)] {
            assert!(check_user(bad).is_err(), "{bad}");
        }
        let code = match_code("alice", "l1");
        assert!((10..100).contains(&code));
        assert_eq!(code, match_code("alice", "l1"));
    }
}
