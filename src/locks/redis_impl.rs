//! The Redis implementation: `SET NX PX` to take, compare-and-delete to release,
//! `INCR` + `PEXPIRE` for counters. One multiplexed, self-reconnecting connection is
//! shared by all workers; every call is bounded by a timeout so a dead Redis never hangs
//! a request.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

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

#[derive(Clone)]
pub struct RedisLocks {
    conn: ConnectionManager,
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
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, LockError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(CALL_TIMEOUT)
            .set_number_of_retries(2);
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| unavailable("redis connect timed out"))?
        .map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            release: Script::new(RELEASE),
            hit: Script::new(HIT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn try_acquire(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, LockError> {
        let mut conn = self.conn.clone();
        let reply: Option<String> = bounded(
            redis::cmd("SET")
                .arg(self.key(key))
                .arg(token)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis().max(1) as u64)
                .query_async(&mut conn),
        )
        .await?;
        Ok(reply.is_some())
    }

    pub async fn release(&self, key: &str, token: &str) -> Result<bool, LockError> {
        let mut conn = self.conn.clone();
        let deleted: i64 =
            bounded(self.release.key(self.key(key)).arg(token).invoke_async(&mut conn)).await?;
        Ok(deleted == 1)
    }

    pub async fn hit(&self, key: &str, window: Duration) -> Result<Hits, LockError> {
        let mut conn = self.conn.clone();
        let (count, ttl_ms): (u64, i64) = bounded(
            self.hit
                .key(self.key(key))
                .arg(window.as_millis().max(1) as u64)
                .invoke_async(&mut conn),
        )
        .await?;
        Ok(Hits {
            count,
            resets_in: Duration::from_millis(ttl_ms.max(0) as u64),
        })
    }

    pub async fn peek(&self, key: &str) -> Result<Hits, LockError> {
        let mut conn = self.conn.clone();
        let (count, ttl_ms): (Option<u64>, i64) = bounded(
            redis::pipe()
                .cmd("GET")
                .arg(self.key(key))
                .cmd("PTTL")
                .arg(self.key(key))
                .query_async(&mut conn),
        )
        .await?;
        Ok(Hits {
            count: count.unwrap_or(0),
            resets_in: Duration::from_millis(ttl_ms.max(0) as u64),
        })
    }

    pub async fn clear(&self, key: &str) -> Result<(), LockError> {
        let mut conn = self.conn.clone();
        bounded(redis::cmd("DEL").arg(self.key(key)).query_async::<i64>(&mut conn)).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), LockError> {
        let mut conn = self.conn.clone();
        bounded(redis::cmd("PING").query_async::<String>(&mut conn)).await?;
        Ok(())
    }
}
