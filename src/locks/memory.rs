//! The in-process implementation, for a single instance without Redis.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Hits;

/// Above this many entries, expired ones are swept on the next write.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Default)]
pub struct MemoryLocks {
    locks: Mutex<HashMap<String, (String, Instant)>>,
    counters: Mutex<HashMap<String, (u64, Instant)>>,
}

fn sweep<V>(map: &mut HashMap<String, (V, Instant)>, now: Instant) {
    if map.len() > SWEEP_THRESHOLD {
        map.retain(|_, (_, until)| *until > now);
    }
}

impl MemoryLocks {
    pub fn try_acquire(&self, key: &str, token: &str, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        sweep(&mut locks, now);
        match locks.get(key) {
            Some((_, until)) if *until > now => false,
            _ => {
                locks.insert(key.to_owned(), (token.to_owned(), now + ttl));
                true
            }
        }
    }

    pub fn release(&self, key: &str, token: &str) -> bool {
        let now = Instant::now();
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        match locks.get(key) {
            Some((holder, until)) if holder == token && *until > now => {
                locks.remove(key);
                true
            }
            _ => false,
        }
    }

    pub fn hit(&self, key: &str, window: Duration) -> Hits {
        let now = Instant::now();
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        sweep(&mut counters, now);
        let entry = counters.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        Hits {
            count: entry.0,
            resets_in: entry.1.saturating_duration_since(now),
        }
    }

    pub fn peek(&self, key: &str) -> Hits {
        let now = Instant::now();
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        match counters.get(key) {
            Some((count, until)) if *until > now => Hits {
                count: *count,
                resets_in: until.saturating_duration_since(now),
            },
            _ => Hits {
                count: 0,
                resets_in: Duration::ZERO,
            },
        }
    }

    /// Takes one hit back (never below zero); the window stays as it is.
    pub fn refund(&self, key: &str) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = counters.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    pub fn clear(&self, key: &str) {
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}
