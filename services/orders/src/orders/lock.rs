//! A short per-user lock in Redis (SET NX PX, released by a Lua
//! compare-and-delete), so two tabs of one buyer cannot race to two orders.
//! The database's one-unpaid-order index is the backstop if a lock expires.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;
use redis::Script;

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});

pub struct UserLock {
    /// True when another request held the lock first: what was read before
    /// it was taken may be stale and is read again.
    pub waited: bool,
    key: String,
    token: String,
    redis: Redis,
}

impl UserLock {
    /// Waits up to `wait` for the lock; None if another request kept it.
    pub async fn acquire(
        redis: &Redis,
        keys: &Keys,
        user_id: i64,
        ttl: Duration,
        wait: Duration,
    ) -> redis::RedisResult<Option<Self>> {
        let key = rkey!(keys, "order_lock:{user_id}");
        let token = format!("{:016x}", rand::random::<u64>());
        let mut conn = redis.clone();
        let started = Instant::now();
        let mut attempts = 0u32;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(5000);
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut conn)
                .await?;
            if taken.is_some() {
                return Ok(Some(Self {
                    waited: attempts > 0,
                    key,
                    token,
                    redis: conn,
                }));
            }
            if started.elapsed() >= wait {
                return Ok(None);
            }
            attempts += 1;
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }

    /// Releases the lock in the background: the answer need not wait for it,
    /// and a request of the same user that comes meanwhile waits a moment.
    pub fn release_soon(self) {
        tokio::spawn(self.release());
    }

    /// Deletes the lock only if it is still ours (it may have expired and been
    /// taken by another request).
    pub async fn release(mut self) {
        let result: redis::RedisResult<i64> = RELEASE
            .key(&self.key)
            .arg(&self.token)
            .invoke_async(&mut self.redis)
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, key = self.key, "could not release an order lock; it expires by itself");
        }
    }
}
