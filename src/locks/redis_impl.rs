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

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}";

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
        Ok(Hits {
            count,
            resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
        })
    }

    pub async fn peek(&self, key: &str) -> Result<Hits, LockError> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(self.key(key)).cmd("PTTL").arg(self.key(key));
        let (count, ttl_ms): (Option<u64>, i64) = self
            .call(|mut conn| async move { pipe.query_async(&mut conn).await })
            .await?;
        Ok(Hits {
            count: count.unwrap_or(0),
            resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
        })
    }

    /// Takes one hit back where the counter still exists (never creates or drops one).
    pub async fn refund(&self, key: &str) -> Result<(), LockError> {
        let script = redis::Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 \
             then return redis.call('DECR', KEYS[1]) else return 0 end",
        );
        let invocation = script.key(self.key(key));
        self.call(|mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await })
            .await?;
        Ok(())
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

/// A duration in whole milliseconds for Redis (at least 1; saturating far beyond any TTL).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis().max(1)).unwrap_or(u64::MAX)
}
