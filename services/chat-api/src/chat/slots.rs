//! Admission of a completion: the per-user request rate and the per-user cap on
//! open streams, both counted in Redis so every copy agrees, and both decided in
//! one Lua script so a completion pays one Redis round trip for them.
//!
//! The two keys share the user id as hash tag (`chat_rate:{42}`,
//! `chat_streams:{42}`), so the script also runs on Redis Cluster. The stream
//! counter expires an hour after its last use, so a copy that dies mid-stream
//! cannot lock a user out for good.

use std::sync::LazyLock;
use std::time::Duration;

use paychat_common::redis::Keys;
use paychat_common::rkey;
use redis::aio::ConnectionManager;

/// KEYS: rate window, open streams. ARGV: window ms, max requests, max streams.
/// Returns `{0, ttl_ms}` when the rate is exceeded (the hit still counts, as a
/// fixed window does), `{1, 0}` when the user has too many streams open, and
/// `{2, 0}` when a slot was taken.
static ADMIT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
if n > tonumber(ARGV[2]) then return {0, ttl} end
local s = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 3600)
if s > tonumber(ARGV[3]) then
  redis.call('DECR', KEYS[2])
  return {1, 0}
end
return {2, 0}
",
    )
});

static GIVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
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
}

/// An open-stream slot; give it back with [`StreamSlot::release`].
pub struct StreamSlot {
    redis: ConnectionManager,
    key: String,
}

/// Counts one request and, if the rate allows, takes a stream slot.
pub async fn admit(
    redis: &ConnectionManager,
    keys: &Keys,
    user_id: i64,
    limits: Limits,
) -> redis::RedisResult<Admission> {
    let rate = rkey!(keys, "chat_rate:{{{user_id}}}");
    let streams = rkey!(keys, "chat_streams:{{{user_id}}}");
    let window_ms = u64::try_from(limits.window.as_millis()).unwrap_or(u64::MAX);
    let mut conn = redis.clone();
    let (verdict, ttl_ms): (i64, i64) = ADMIT
        .key(&rate)
        .key(&streams)
        .arg(window_ms)
        .arg(limits.per_window)
        .arg(limits.max_streams)
        .invoke_async(&mut conn)
        .await?;
    Ok(match verdict {
        2 => Admission::Admitted(StreamSlot {
            redis: redis.clone(),
            key: streams,
        }),
        1 => Admission::TooManyStreams,
        _ => Admission::RateLimited {
            retry_after_secs: u64::try_from(ttl_ms.max(1))
                .unwrap_or(1)
                .div_ceil(1000)
                .max(1),
        },
    })
}

impl StreamSlot {
    pub async fn release(self) {
        let mut conn = self.redis.clone();
        let given: redis::RedisResult<i64> = GIVE.key(&self.key).invoke_async(&mut conn).await;
        if let Err(error) = given {
            tracing::warn!(error = %error, "releasing a stream slot failed");
        }
    }
}
