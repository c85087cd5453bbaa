//! Rate limits kept in Redis, so every copy of a service counts together.
//! A fixed window per key: the first counted event starts the window.
//!
//! Every limit is counted before the work it guards, never checked first and
//! recorded afterwards (concurrent requests would all pass the check). A
//! request's keys (an address and an IP, say) are counted each by a
//! single-key script, sent together (the multiplexed connection writes them
//! back to back, one round trip). They are not one pipeline: on Redis Cluster
//! a pipeline must stay in one slot, and an address's key and an IP's key
//! cannot share one (another address counts against the same IP).

use std::sync::LazyLock;
use std::time::Duration;

use futures::future::try_join_all;
use redis::Script;

use crate::redis::Redis;

use crate::ApiError;
use crate::redis::Keys;
use crate::rkey;

#[derive(Clone)]
pub struct RateLimiter {
    redis: Redis,
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

/// Counts unconditionally; answers the count and the window's remaining time.
static HIT: LazyLock<Script> = LazyLock::new(|| Script::new(HIT_LUA));
const HIT_LUA: &str = r"
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl, 1}
";

/// Counts unless the key is already at its limit (ARGV[2]); the third value
/// says whether it counted.
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(TAKE_LUA));
const TAKE_LUA: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local counted = 0
if n < tonumber(ARGV[2]) then
  n = redis.call('INCR', KEYS[1])
  counted = 1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl, counted}
";

/// Takes one back, unless the window has ended (the key is gone) meanwhile.
static GIVE_BACK: LazyLock<Script> = LazyLock::new(|| Script::new(GIVE_BACK_LUA));
const GIVE_BACK_LUA: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

/// An attempt counted against limits on failures: give it back with
/// [`Attempt::succeeded`] once it turns out not to have failed. Dropped
/// without that, it stays counted.
#[must_use = "an attempt that does not fail must be given back"]
pub struct Attempt {
    limiter: RateLimiter,
    keys: Vec<String>,
}

impl Attempt {
    /// Gives the attempt back to every limit it was counted against: it
    /// succeeded, or never reached the work. A Redis failure here only leaves
    /// the attempt counted, so it is logged, not returned.
    pub async fn succeeded(self) {
        if let Err(error) = self.limiter.release(&self.keys).await {
            tracing::warn!(error = %error, "giving back a rate-limited attempt failed");
        }
    }
}

impl RateLimiter {
    pub fn new(redis: Redis, keys: Keys) -> Self {
        Self { redis, keys }
    }

    /// Counts one event against each `(key, limit)`, in one round trip;
    /// refuses with 429 and `Retry-After` once any window holds more than its
    /// `max`. Refused events count too, so hammering never shortens a wait.
    pub async fn hit(&self, limits: &[(&str, Limit)]) -> Result<(), ApiError> {
        let counts = self.count(&HIT, limits).await?;
        match refusal(limits, &counts) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// Counts one attempt against each `(key, limit)` before the work it
    /// guards, in one round trip, for limits on failures: with `max`
    /// attempts already counted in a key's window it is refused (429 with
    /// `Retry-After`) and counts nowhere. Once the attempt turns out not to
    /// have failed, give it back with [`Attempt::succeeded`].
    pub async fn attempt(&self, limits: &[(&str, Limit)]) -> Result<Attempt, ApiError> {
        let counts = self.count(&TAKE, limits).await?;
        let attempt = Attempt {
            limiter: self.clone(),
            keys: limits
                .iter()
                .zip(&counts)
                .filter(|(_, c)| c.counted)
                .map(|((key, _), _)| (*key).to_owned())
                .collect(),
        };
        match refusal(limits, &counts) {
            Some(refused) => {
                // A refused attempt never reaches the work, so it is no failure:
                // the keys that had room take it back.
                attempt.succeeded().await;
                Err(refused)
            }
            None => Ok(attempt),
        }
    }

    async fn count(
        &self,
        script: &Script,
        limits: &[(&str, Limit)],
    ) -> Result<Vec<Count>, ApiError> {
        let rows = try_join_all(limits.iter().map(|(key, limit)| {
            let window_ms = u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX);
            let mut conn = self.redis.clone();
            let mut invocation = script.key(rkey!(self.keys, "rl:{key}"));
            invocation.arg(window_ms.max(1)).arg(limit.max);
            async move { invocation.invoke_async::<(i64, i64, i64)>(&mut conn).await }
        }))
        .await?;
        Ok(rows
            .into_iter()
            .map(|(count, ttl_ms, counted)| Count {
                count,
                ttl_ms,
                counted: counted == 1,
            })
            .collect())
    }

    async fn release(&self, keys: &[String]) -> Result<(), ApiError> {
        try_join_all(keys.iter().map(|key| {
            let mut conn = self.redis.clone();
            let invocation = GIVE_BACK.key(rkey!(self.keys, "rl:{key}"));
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        }))
        .await?;
        Ok(())
    }
}

struct Count {
    count: i64,
    ttl_ms: i64,
    counted: bool,
}

/// The 429 for the first limit a count went past (or, for [`TAKE`], found
/// full), waiting for the longest such window.
fn refusal(limits: &[(&str, Limit)], counts: &[Count]) -> Option<ApiError> {
    limits
        .iter()
        .zip(counts)
        .filter(|((_, limit), c)| c.count > i64::from(limit.max) || !c.counted)
        .map(|(_, c)| c.ttl_ms)
        .max()
        .map(rate_limited)
}

fn rate_limited(ttl_ms: i64) -> ApiError {
    let secs = u64::try_from(ttl_ms.max(1)).unwrap_or(1).div_ceil(1000);
    ApiError::RateLimited {
        retry_after_secs: secs.max(1),
    }
}
