//! The Redis implementation: `SET NX PX` to take, compare-and-delete to release,
//! `INCR` + `PEXPIRE` for counters. One multiplexed connection is shared by all workers;
//! every call is bounded by a timeout so a dead Redis never hangs a request. Any failure
//! drops the connection and the next call after a short pause dials a fresh one, so a
//! restarted Redis is picked up by itself and a dead one costs callers nothing but an
//! immediate error in between.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};

use super::{Hits, LockError};

const CALL_TIMEOUT: Duration = Duration::from_millis(500);

// The scripts' shared steps, so the combined calls below cannot drift from the single ones.
/// Counts a hit on KEYS[1] in a window of ARGV[1] ms: `n` hits, `ttl` ms left.
macro_rules! count_hit {
    () => {
        "local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
"
    };
}

/// Deletes the lock KEYS[1] if ARGV[1] still holds it: `released` is 1 or 0.
macro_rules! release_lock {
    () => {
        "local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then released = redis.call('DEL', KEYS[1]) end
"
    };
}

/// Takes one hit back from the counter `$key` where it exists (never creates or drops one).
macro_rules! refund_hit {
    ($key:literal) => {
        concat!(
            "local c = tonumber(redis.call('GET', ",
            $key,
            ") or '0')\nif c > 0 then redis.call('DECR', ",
            $key,
            ") end\n"
        )
    };
}

const RELEASE: &str = concat!(release_lock!(), "return released");

const HIT: &str = concat!(count_hit!(), "return {n, ttl}");

const REFUND: &str = concat!(refund_hit!("KEYS[1]"), "return 0");

/// `HIT` on KEYS[1], then, unless that made more than ARGV[4] hits, the lock KEYS[2] taken
/// for ARGV[3] ms by ARGV[2] unless held.
const HIT_AND_TAKE: &str = concat!(
    count_hit!(),
    "if n <= tonumber(ARGV[4]) and redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {n, ttl, 1}
end
return {n, ttl, 0}"
);

/// `RELEASE` of KEYS[1], then `REFUND` of KEYS[2].
const RELEASE_AND_REFUND: &str = concat!(release_lock!(), refund_hit!("KEYS[2]"), "return released");

/// After a failure, calls fail at once for this long before the next dial.
const REDIAL_PAUSE: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Link {
    conn: Option<MultiplexedConnection>,
    /// No dialling before this instant (after a failure).
    quiet_until: Option<Instant>,
}

#[derive(Clone)]
pub struct RedisLocks {
    client: redis::Client,
    link: Arc<Mutex<Link>>,
    prefix: String,
    release: Script,
    hit: Script,
    refund: Script,
    hit_and_take: Script,
    release_and_refund: Script,
}

fn unavailable(e: impl std::fmt::Display) -> LockError {
    LockError::Unavailable(e.to_string())
}

async fn bounded<T>(fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T, LockError> {
    tokio::time::timeout(CALL_TIMEOUT, fut)
        .await
        .map_err(|_| unavailable("redis call timed out"))?
        .map_err(unavailable)
}

impl RedisLocks {
    /// Connects once, so a wrong `REDIS_URL` fails start-up rather than the first request.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, LockError> {
        let locks = Self {
            client: redis::Client::open(url).map_err(unavailable)?,
            link: Arc::default(),
            prefix: prefix.to_owned(),
            release: Script::new(RELEASE),
            hit: Script::new(HIT),
            refund: Script::new(REFUND),
            hit_and_take: Script::new(HIT_AND_TAKE),
            release_and_refund: Script::new(RELEASE_AND_REFUND),
        };
        locks.conn().await?;
        Ok(locks)
    }

    /// The shared connection, dialled afresh when there is none (bounded, and not more
    /// often than every `REDIAL_PAUSE` while Redis is away).
    async fn conn(&self) -> Result<MultiplexedConnection, LockError> {
        {
            let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(conn) = &link.conn {
                return Ok(conn.clone());
            }
            if link.quiet_until.is_some_and(|until| Instant::now() < until) {
                return Err(unavailable("redis is unreachable"));
            }
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(CALL_TIMEOUT)
            .set_response_timeout(CALL_TIMEOUT);
        match bounded(self.client.get_multiplexed_async_connection_with_config(&config)).await {
            Ok(conn) => {
                let mut link = self.link.lock().unwrap_or_else(|p| p.into_inner());
                link.conn = Some(conn.clone());
                link.quiet_until = None;
                Ok(conn)
            }
            Err(e) => {
                self.drop_link();
                Err(e)
            }
        }
    }

    /// Forgets the connection after a failure; the next call (after a pause) redials.
    fn drop_link(&self) {
        let mut link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        link.conn = None;
        link.quiet_until = Some(Instant::now() + REDIAL_PAUSE);
    }

    /// Runs one bounded call on the shared connection; a failure drops the connection.
    async fn call<T, F, Fut>(&self, f: F) -> Result<T, LockError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.conn().await?;
        let result = bounded(f(conn)).await;
        if result.is_err() {
            self.drop_link();
        }
        result
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn try_acquire(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, LockError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        let reply: Option<String> = self
            .call(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await?;
        Ok(reply.is_some())
    }

    pub async fn release(&self, key: &str, token: &str) -> Result<bool, LockError> {
        let mut invocation = self.release.key(self.key(key));
        invocation.arg(token);
        let deleted: i64 = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        Ok(deleted == 1)
    }

    pub async fn hit(&self, key: &str, window: Duration) -> Result<Hits, LockError> {
        let mut invocation = self.hit.key(self.key(key));
        invocation.arg(millis(window));
        let (count, ttl_ms): (u64, i64) = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        Ok(hits(count, ttl_ms))
    }

    pub async fn peek(&self, key: &str) -> Result<Hits, LockError> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(self.key(key)).cmd("PTTL").arg(self.key(key));
        let (count, ttl_ms): (Option<u64>, i64) = self
            .call(|mut conn| async move { pipe.query_async(&mut conn).await })
            .await?;
        Ok(hits(count.unwrap_or(0), ttl_ms))
    }

    /// Takes one hit back where the counter still exists (never creates or drops one).
    pub async fn refund(&self, key: &str) -> Result<(), LockError> {
        let invocation = self.refund.key(self.key(key));
        self.call(|mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await })
            .await?;
        Ok(())
    }

    /// `hit` on `counter` and, within `max` hits, `try_acquire` of `lock`, in one round
    /// trip: the hits, and whether the lock was taken.
    pub async fn hit_and_acquire(
        &self,
        (counter, window, max): (&str, Duration, u64),
        lock: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<(Hits, bool), LockError> {
        let mut invocation = self.hit_and_take.key(self.key(counter));
        invocation.key(self.key(lock));
        invocation
            .arg(millis(window))
            .arg(token)
            .arg(millis(ttl))
            .arg(max);
        let (count, ttl_ms, taken): (u64, i64, i64) = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        Ok((hits(count, ttl_ms), taken == 1))
    }

    /// `release` of `lock` and `refund` of `counter` in one round trip; whether the lock
    /// was still ours.
    pub async fn release_and_refund(
        &self,
        lock: &str,
        token: &str,
        counter: &str,
    ) -> Result<bool, LockError> {
        let mut invocation = self.release_and_refund.key(self.key(lock));
        invocation.key(self.key(counter));
        invocation.arg(token);
        let released: i64 = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        Ok(released == 1)
    }

    pub async fn clear(&self, key: &str) -> Result<(), LockError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(key));
        self.call(|mut conn| async move { cmd.query_async::<i64>(&mut conn).await })
            .await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), LockError> {
        let cmd = redis::cmd("PING");
        self.call(|mut conn| async move { cmd.query_async::<String>(&mut conn).await })
            .await?;
        Ok(())
    }
}

/// A counter's state from its count and `PTTL` (negative: no expiry, read as zero).
fn hits(count: u64, ttl_ms: i64) -> Hits {
    Hits {
        count,
        resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
    }
}

/// A duration in whole milliseconds for Redis (at least 1; saturating far beyond any TTL).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis().max(1)).unwrap_or(u64::MAX)
}
