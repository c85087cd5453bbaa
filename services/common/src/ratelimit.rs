//! Rate limits kept in Redis, so every copy of a service counts together.
//! A fixed window per key: the first hit starts the window.

use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::ApiError;
use crate::redis::Keys;
use crate::rkey;

#[derive(Clone)]
pub struct RateLimiter {
    redis: ConnectionManager,
    keys: Keys,
}

/// A limit: `max` events per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn per(max: u32, window: Duration) -> Self {
        Self { max, window }
    }
}

const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

impl RateLimiter {
    pub fn new(redis: ConnectionManager, keys: Keys) -> Self {
        Self { redis, keys }
    }

    /// Counts one event for `key`; refuses with 429 and `Retry-After` once the
    /// window holds more than `limit.max`.
    pub async fn hit(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        let (count, ttl_ms) = self.incr(key, limit).await?;
        if count > i64::from(limit.max) {
            return Err(rate_limited(ttl_ms));
        }
        Ok(())
    }

    /// Refuses when `key` has already reached its limit, without counting.
    /// Pair with [`RateLimiter::record`] to limit only failed attempts.
    pub async fn check(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        let full = rkey!(self.keys, "rl:{key}");
        let (count, ttl_ms): (Option<i64>, i64) = redis::pipe()
            .get(&full)
            .pttl(&full)
            .query_async(&mut conn)
            .await?;
        if count.unwrap_or(0) >= i64::from(limit.max) {
            return Err(rate_limited(ttl_ms));
        }
        Ok(())
    }

    pub async fn record(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        self.incr(key, limit).await.map(|_| ())
    }

    async fn incr(&self, key: &str, limit: Limit) -> Result<(i64, i64), ApiError> {
        let mut conn = self.redis.clone();
        let window_ms = u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX);
        let (count, ttl_ms): (i64, i64) = redis::Script::new(HIT)
            .key(rkey!(self.keys, "rl:{key}"))
            .arg(window_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok((count, ttl_ms))
    }
}

fn rate_limited(ttl_ms: i64) -> ApiError {
    let secs = u64::try_from(ttl_ms.max(1)).unwrap_or(1).div_ceil(1000);
    ApiError::RateLimited {
        retry_after_secs: secs.max(1),
    }
}
