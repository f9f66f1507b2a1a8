//! Short-lived locks and rate-limit counters: Redis when `REDIS_URL` is set, in-process
//! otherwise. Neither is a source of truth: a lock may expire or vanish with a Redis
//! restart, so every exactly-once guarantee is fenced again in the database. While Redis
//! is unreachable, counters fall back to this instance's own, so rate limits weaken to
//! per-instance instead of vanishing; lock calls report the outage to their caller.

mod memory;
mod redis_impl;

use std::time::Duration;

use uuid::Uuid;

pub use memory::MemoryLocks;
pub use redis_impl::RedisLocks;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("lock service unavailable: {0}")]
    Unavailable(String),
}

/// Proof of holding a lock; only its holder can release it.
#[derive(Debug, Clone)]
pub struct Lease {
    pub key: String,
    token: String,
}

/// A counter's state after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub count: u64,
    /// Time until the window resets.
    pub resets_in: Duration,
}

#[derive(Clone)]
pub enum Locks {
    Memory(std::sync::Arc<MemoryLocks>),
    /// Redis, with in-process counters for when it cannot be reached.
    Redis(std::sync::Arc<RedisLocks>, std::sync::Arc<MemoryLocks>),
}

impl Locks {
    pub fn in_process() -> Self {
        Self::Memory(Default::default())
    }

    pub async fn redis(url: &str, prefix: &str) -> Result<Self, LockError> {
        Ok(Self::Redis(
            std::sync::Arc::new(RedisLocks::connect(url, prefix).await?),
            Default::default(),
        ))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "in-process",
            Self::Redis(..) => "redis",
        }
    }

    /// Takes `key` for `ttl` unless someone holds it; `None` when taken.
    pub async fn try_acquire(&self, key: &str, ttl: Duration) -> Result<Option<Lease>, LockError> {
        let token = Uuid::new_v4().to_string();
        let taken = match self {
            Self::Memory(m) => m.try_acquire(key, &token, ttl),
            Self::Redis(r, _) => r.try_acquire(key, &token, ttl).await?,
        };
        Ok(taken.then(|| Lease {
            key: key.to_owned(),
            token,
        }))
    }

    /// Releases the lease if it is still ours; false when it expired or passed to another.
    pub async fn release(&self, lease: &Lease) -> Result<bool, LockError> {
        match self {
            Self::Memory(m) => Ok(m.release(&lease.key, &lease.token)),
            Self::Redis(r, _) => r.release(&lease.key, &lease.token).await,
        }
    }

    /// `hit` on `counter` (a fixed window of `window`) and, unless that made more than
    /// `max` hits, `try_acquire` of `lock`, in one round trip to Redis: a counter's guess
    /// reserved and the code it typed locked, before the code is looked at. Over `max`,
    /// the lock is not tried (`Ok(None)`). The hits fall back to this instance's own while
    /// Redis is unreachable, as `hit`'s do; the lock then reports the outage.
    pub async fn hit_and_acquire(
        &self,
        (counter, window, max): (&str, Duration, u64),
        lock: &str,
        ttl: Duration,
    ) -> (Hits, Result<Option<Lease>, LockError>) {
        let token = Uuid::new_v4().to_string();
        let (hits, taken) = match self {
            Self::Memory(m) => {
                let hits = m.hit(counter, window);
                (hits, Ok(hits.count <= max && m.try_acquire(lock, &token, ttl)))
            }
            Self::Redis(r, fallback) => {
                match r.hit_and_acquire((counter, window, max), lock, &token, ttl).await {
                    Ok((hits, taken)) => (hits, Ok(taken)),
                    Err(e) => {
                        tracing::warn!(error = %e, "counting in-process while Redis is unreachable");
                        (fallback.hit(counter, window), Err(e))
                    }
                }
            }
        };
        let lease = taken.map(|taken| {
            taken.then(|| Lease {
                key: lock.to_owned(),
                token,
            })
        });
        (hits, lease)
    }

    /// `release` of `lease` and `refund` of `counter`, each where given, in one round trip
    /// to Redis.
    pub async fn release_and_refund(
        &self,
        lease: Option<&Lease>,
        counter: Option<&str>,
    ) -> Result<(), LockError> {
        match (self, lease, counter) {
            (Self::Redis(r, fallback), Some(lease), Some(counter)) => {
                fallback.refund(counter);
                r.release_and_refund(&lease.key, &lease.token, counter)
                    .await
                    .map(drop)
            }
            (_, lease, counter) => {
                let refunded = match counter {
                    Some(counter) => self.refund(counter).await,
                    None => Ok(()),
                };
                let released = match lease {
                    Some(lease) => self.release(lease).await.map(drop),
                    None => Ok(()),
                };
                refunded.and(released)
            }
        }
    }

    /// Counts one hit on `key` in a fixed window of `window`, starting at the first hit.
    pub async fn hit(&self, key: &str, window: Duration) -> Result<Hits, LockError> {
        match self {
            Self::Memory(m) => Ok(m.hit(key, window)),
            Self::Redis(r, fallback) => Ok(r.hit(key, window).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "counting in-process while Redis is unreachable");
                fallback.hit(key, window)
            })),
        }
    }

    /// The counter's state without counting a hit (zero when absent).
    pub async fn peek(&self, key: &str) -> Result<Hits, LockError> {
        match self {
            Self::Memory(m) => Ok(m.peek(key)),
            Self::Redis(r, fallback) => Ok(r.peek(key).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading in-process counters while Redis is unreachable");
                fallback.peek(key)
            })),
        }
    }

    /// Takes back one hit counted by `hit` (a reservation that turned out harmless).
    pub async fn refund(&self, key: &str) -> Result<(), LockError> {
        match self {
            Self::Memory(m) => {
                m.refund(key);
                Ok(())
            }
            Self::Redis(r, fallback) => {
                fallback.refund(key);
                r.refund(key).await
            }
        }
    }

    pub async fn clear(&self, key: &str) -> Result<(), LockError> {
        match self {
            Self::Memory(m) => {
                m.clear(key);
                Ok(())
            }
            Self::Redis(r, fallback) => {
                fallback.clear(key);
                r.clear(key).await
            }
        }
    }

    pub async fn ping(&self) -> Result<(), LockError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(r, _) => r.ping().await,
        }
    }
}
