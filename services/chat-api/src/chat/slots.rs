//! Admission of a completion: the per-user request rate and the per-user cap on
//! open streams, both counted in Redis so every copy agrees, and both decided in
//! one Lua script so a completion pays one Redis round trip for them.
//!
//! Each open stream holds a slot of its own: a member of a sorted set scored by
//! the moment it lapses (the longest a stream can last, plus a margin). The
//! script drops lapsed slots before it counts, so a copy that dies mid-stream
//! holds its slots no longer than a stream could have lasted, and a new
//! request never extends an old slot. The keys share the user's hash tag
//! (`chat_rate:{u:42}`, `chat_slots:{u:42}`), so the script also runs on Redis
//! Cluster, and any other per-user key a later check needs in the same script
//! can join them under that tag.

use std::sync::LazyLock;
use std::time::Duration;

use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;

/// KEYS: rate window, open slots. ARGV: window ms, max requests, max streams,
/// slot lifetime ms, slot id. Returns `{0, ttl_ms}` when the rate is exceeded
/// (the hit still counts, as a fixed window does), `{1, 0}` when the user has
/// too many streams open, and `{2, 0}` when a slot was taken.
///
/// Redis's own clock scores the slots, so copies with skewed clocks agree.
static ADMIT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
if n > tonumber(ARGV[2]) then return {0, ttl} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {1, 0} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {2, 0}
",
    )
});

/// What the admission script decided.
pub enum Admission {
    Admitted(StreamSlot),
    RateLimited { retry_after_secs: u64 },
    TooManyStreams,
}

/// The limits a completion is admitted under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_window: u32,
    pub window: Duration,
    pub max_streams: u32,
    /// How long a slot lasts if nobody gives it back.
    pub slot_lifetime: Duration,
}

/// An open-stream slot. Give it back with [`StreamSlot::release`]; dropping it
/// gives it back too, on the runtime, so no path can keep it.
#[must_use = "dropping a stream slot gives it back"]
pub struct StreamSlot {
    redis: Redis,
    key: String,
    id: i64,
    held: bool,
}

/// Counts one request and, if the rate allows, takes the stream slot `slot_id`.
///
/// The script runs in a task of its own: a caller dropped while it runs (the
/// browser left) would otherwise leave a slot taken that nothing holds. The
/// task's result, the slot, is dropped with the task's handle instead, which
/// gives it back.
pub async fn admit(
    redis: &Redis,
    keys: &Keys,
    user_id: i64,
    slot_id: i64,
    limits: Limits,
) -> redis::RedisResult<Admission> {
    let (rate, slots) = user_keys(keys, user_id);
    let window_ms = millis(limits.window);
    let lifetime_ms = millis(limits.slot_lifetime).max(1);
    let redis = redis.clone();
    let task = tokio::spawn(async move {
        let mut conn = redis.clone();
        let (verdict, ttl_ms): (i64, i64) = ADMIT
            .key(&rate)
            .key(&slots)
            .arg(window_ms)
            .arg(limits.per_window)
            .arg(limits.max_streams)
            .arg(lifetime_ms)
            .arg(slot_id)
            .invoke_async(&mut conn)
            .await?;
        Ok(match verdict {
            2 => Admission::Admitted(StreamSlot {
                redis,
                key: slots,
                id: slot_id,
                held: true,
            }),
            1 => Admission::TooManyStreams,
            _ => Admission::RateLimited {
                retry_after_secs: u64::try_from(ttl_ms.max(1))
                    .unwrap_or(1)
                    .div_ceil(1000)
                    .max(1),
            },
        })
    });
    match task.await {
        Ok(admission) => admission,
        Err(error) => Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "the admission task stopped",
            error.to_string(),
        ))),
    }
}

/// The user's rate window and open slots, under one hash tag (`{u:<id>}`).
fn user_keys(keys: &Keys, user_id: i64) -> (String, String) {
    (
        rkey!(keys, "chat_rate:{{u:{user_id}}}"),
        rkey!(keys, "chat_slots:{{u:{user_id}}}"),
    )
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl StreamSlot {
    /// Gives the slot back now; the next request can use it once this
    /// returns. In a task of its own, so a caller dropped meanwhile cannot
    /// cut it short.
    pub async fn release(mut self) {
        self.held = false;
        let task = give(self.redis.clone(), std::mem::take(&mut self.key), self.id);
        let _ = tokio::spawn(task).await;
    }
}

async fn give(mut redis: Redis, key: String, id: i64) {
    let given: redis::RedisResult<i64> = redis::cmd("ZREM")
        .arg(&key)
        .arg(id)
        .query_async(&mut redis)
        .await;
    if let Err(error) = given {
        // The slot lapses on its own at its score.
        tracing::warn!(error = %error, "releasing a stream slot failed");
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        self.held = false;
        let (redis, key, id) = (self.redis.clone(), std::mem::take(&mut self.key), self.id);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(give(redis, key, id));
            }
            Err(_) => tracing::warn!("no runtime to release a stream slot; it lapses on its own"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis Cluster hashes only what is between the first `{` and `}`.
    fn hash_tag(key: &str) -> &str {
        let open = key.find('{').expect("a hash tag");
        let close = key[open..].find('}').expect("a closed hash tag") + open;
        &key[open + 1..close]
    }

    #[test]
    fn a_users_keys_share_one_hash_tag_of_their_own() {
        let keys = Keys::new("p:");
        let (rate, slots) = user_keys(&keys, 42);
        assert_eq!(rate, "p:chat_rate:{u:42}");
        assert_eq!(slots, "p:chat_slots:{u:42}");
        assert_eq!(hash_tag(&rate), hash_tag(&slots));
        assert_ne!(hash_tag(&user_keys(&keys, 43).0), hash_tag(&rate));
    }
}
