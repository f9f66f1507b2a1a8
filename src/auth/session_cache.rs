//! A short, bounded memory of session checks, so that a request does not ask PostgreSQL
//! whether its session is live when the same session was checked a moment ago.
//!
//! How logout and revocation keep their meaning (the bound: another instance may serve a
//! revoked session until the announcement arrives, milliseconds, or for at most `PROOF`
//! if its listener's connection hangs silently just after a proof):
//! - An entry is used for at most `TTL`, and only while this instance's listener
//!   (`session_listener`) has proven within `PROOF` that announcements reach it: it
//!   listens on `zhijian_sessions` and on a channel of its own, to which it sends itself a
//!   notification every half second. A hung connection, or a pooler that drops
//!   notifications, fails that proof and the memory goes unused.
//! - Triggers announce, at commit, every revoked or deleted session and every change to an
//!   account's role, disabled state or forced password change (migration
//!   `session_notify`); the listener of every instance forgets that user.
//! - The instance making such a change calls `forget_user` beside the update, before the
//!   commit: from then until the announcement arrives (or `TTL` passes, if the transaction
//!   rolled back) the user's checks are neither used nor stored, so no check that read the
//!   state from before the commit can be remembered. (An announcement of another change
//!   of the same user, committed first, lifts that early; the change's own follows.)
//! - A check that read the database before any forgetting is not stored (`epoch`).
//! - When the listener loses its connection, everything is forgotten. SQLite has no
//!   listener: its instances never use the memory.
//!
//! Only live sessions are stored; with `CAPACITY` users remembered the memory is cleared.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::domain::ids::{SessionId, UserId};
use crate::domain::profile::Role;

/// How long a check is reused at most.
pub const TTL: Duration = Duration::from_secs(5);
/// How recent the listener's proof that announcements reach it must be.
pub const PROOF: Duration = Duration::from_secs(2);
/// Users remembered at most (a few sessions each, about 100 bytes a session).
pub const CAPACITY: usize = 100_000;
/// The channel the triggers announce on; the payload is the user id.
pub const CHANNEL: &str = "zhijian_sessions";

#[derive(Debug, Clone)]
struct Entry {
    session: SessionId,
    role: Role,
    change_required: bool,
    at: Instant,
}

#[derive(Debug, Default)]
struct Memory {
    by_user: HashMap<UserId, Vec<Entry>>,
    /// Users this instance is changing: not used nor stored until announced (or `TTL`).
    pending: HashMap<UserId, Instant>,
}

/// The memory of one instance (see the module's notes).
#[derive(Debug, Default)]
pub struct SessionCache {
    memory: Mutex<Memory>,
    /// Bumped by every forgetting: a check read before it is not stored.
    epoch: AtomicU64,
    /// The listener is connected and listening.
    live: AtomicBool,
    /// When the listener last received its own notification (`proved`).
    proved_at: Mutex<Option<Instant>>,
}

/// Every cache of this process, for `forget_user` (the domain code that revokes does not
/// hold the app's state). Tests run several apps in one process; forgetting in all of
/// them is harmless.
static CACHES: RwLock<Vec<Weak<SessionCache>>> = RwLock::new(Vec::new());

impl SessionCache {
    /// A cache registered for `forget_user`; unused until `set_live(true)` and `proved()`.
    pub fn new() -> Arc<Self> {
        let cache = Arc::new(Self::default());
        if let Ok(mut all) = CACHES.write() {
            all.retain(|w| w.strong_count() > 0);
            all.push(Arc::downgrade(&cache));
        }
        cache
    }

    /// A live session's role and forced-password-change flag, if checked within `TTL`.
    pub fn get(&self, session: &SessionId, user: &UserId) -> Option<(Role, bool)> {
        if !self.in_use() {
            return None;
        }
        let memory = self.memory.lock().ok()?;
        if memory.pending.get(user).is_some_and(|at| at.elapsed() < TTL) {
            return None;
        }
        let e = memory.by_user.get(user)?.iter().find(|e| &e.session == session)?;
        (e.at.elapsed() < TTL).then_some((e.role, e.change_required))
    }

    /// The current epoch: take it before reading the session, hand it to `put`.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Stores a live session read since `epoch`; nothing if anything was forgotten since
    /// or the user is being changed.
    pub fn put(&self, epoch: u64, session: &SessionId, user: &UserId, role: Role, change_required: bool) {
        if !self.in_use() {
            return;
        }
        let Ok(mut memory) = self.memory.lock() else {
            return;
        };
        // Checked under the lock that forgetting takes too, so no forgetting slips between.
        if self.epoch.load(Ordering::Acquire) != epoch
            || memory.pending.get(user).is_some_and(|at| at.elapsed() < TTL)
        {
            return;
        }
        if memory.by_user.len() >= CAPACITY {
            memory.by_user.clear();
        }
        let entries = memory.by_user.entry(user.clone()).or_default();
        entries.retain(|e| &e.session != session && e.at.elapsed() < TTL);
        entries.push(Entry {
            session: session.clone(),
            role,
            change_required,
            at: Instant::now(),
        });
    }

    /// The user's sessions or account are changing in a transaction not committed yet:
    /// forget them, and neither use nor store them until the change is announced.
    pub fn changing(&self, user: &UserId) {
        if let Ok(mut memory) = self.memory.lock() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            memory.by_user.remove(user);
            memory.pending.retain(|_, at| at.elapsed() < TTL);
            memory.pending.insert(user.clone(), Instant::now());
        }
    }

    /// A change to the user was announced (committed): forget them again.
    pub fn forget(&self, user: &UserId) {
        if let Ok(mut memory) = self.memory.lock() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            memory.by_user.remove(user);
            memory.pending.remove(user);
        }
    }

    /// Forgets everything (an announcement that could not be read, a lost listener).
    pub fn forget_all(&self) {
        if let Ok(mut memory) = self.memory.lock() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            memory.by_user.clear();
            memory.pending.clear();
        }
    }

    /// The listener is (or is no longer) listening. Either way, what was remembered goes:
    /// announcements may have been missed.
    pub fn set_live(&self, live: bool) {
        self.forget_all();
        if let Ok(mut proved) = self.proved_at.lock() {
            *proved = None;
        }
        self.live.store(live, Ordering::Release);
    }

    /// The listener just received its own notification: announcements reach it.
    pub fn proved(&self) {
        if let Ok(mut proved) = self.proved_at.lock() {
            *proved = Some(Instant::now());
        }
    }

    /// Whether remembered checks may be used: listening, and proven within `PROOF`.
    pub fn in_use(&self) -> bool {
        self.live.load(Ordering::Acquire)
            && self
                .proved_at
                .lock()
                .ok()
                .and_then(|p| *p)
                .is_some_and(|at| at.elapsed() < PROOF)
    }
}

/// `SessionCache::changing` in every cache of this process. Call beside any change to the
/// user's sessions, role, disabled state or forced password change, in its transaction.
pub fn forget_user(user: &UserId) {
    if let Ok(all) = CACHES.read() {
        for cache in all.iter().filter_map(Weak::upgrade) {
            cache.changing(user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (SessionId, UserId) {
        (SessionId::generate(), UserId::generate())
    }

    #[test]
    fn nothing_is_remembered_unless_announcements_are_proven_to_arrive() {
        let cache = SessionCache::new();
        let (session, user) = ids();
        cache.put(cache.epoch(), &session, &user, Role::Worker, false);
        assert_eq!(cache.get(&session, &user), None);
        cache.set_live(true);
        cache.put(cache.epoch(), &session, &user, Role::Worker, false);
        assert_eq!(cache.get(&session, &user), None, "listening, but not proven yet");
        cache.proved();
        cache.put(cache.epoch(), &session, &user, Role::Worker, false);
        assert_eq!(cache.get(&session, &user), Some((Role::Worker, false)));
        cache.set_live(false);
        assert_eq!(
            cache.get(&session, &user),
            None,
            "losing the listener forgets everything"
        );
    }

    #[test]
    fn a_user_being_changed_is_not_remembered_until_the_change_is_announced() {
        let cache = SessionCache::new();
        cache.set_live(true);
        cache.proved();
        let (session, user) = ids();
        let before = cache.epoch();
        // The user's session is revoked while a check is reading the database.
        forget_user(&user);
        cache.put(before, &session, &user, Role::Worker, false);
        assert_eq!(cache.get(&session, &user), None);
        // Until the revocation is announced, a check reading the old state is not kept.
        cache.put(cache.epoch(), &session, &user, Role::Worker, false);
        assert_eq!(cache.get(&session, &user), None);
        cache.forget(&user);
        cache.put(cache.epoch(), &session, &user, Role::Worker, false);
        assert_eq!(cache.get(&session, &user), Some((Role::Worker, false)));
        forget_user(&user);
        assert_eq!(
            cache.get(&session, &user),
            None,
            "forget_user reaches every cache"
        );
    }
}
