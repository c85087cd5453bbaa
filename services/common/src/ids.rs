//! Snowflake-style 64-bit ids: milliseconds since 2026-01-01 (41 bits), a worker
//! number (10 bits) and a per-millisecond sequence (12 bits). The worker number
//! is leased in Redis, so copies of a service never share one and ids cannot
//! collide; they are roughly ordered by time, which keeps InnoDB inserts cheap.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use redis::aio::ConnectionManager;

use crate::redis::Keys;
use crate::rkey;

const EPOCH_MS: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const WORKER_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;
const MAX_WORKERS: u16 = 1 << WORKER_BITS;
const LEASE: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct IdGenerator {
    worker: u16,
    state: Mutex<(u64, u16)>,
}

impl IdGenerator {
    pub fn with_worker(worker: u16) -> Self {
        Self {
            worker: worker % MAX_WORKERS,
            state: Mutex::new((0, 0)),
        }
    }

    /// Leases a free worker number in Redis and keeps the lease alive in the
    /// background for as long as the process runs.
    pub async fn lease(mut redis: ConnectionManager, keys: &Keys) -> anyhow::Result<Self> {
        let token = uuid::Uuid::new_v4().to_string();
        let start: u16 = rand::random::<u16>() % MAX_WORKERS;
        for i in 0..MAX_WORKERS {
            let worker = (start + i) % MAX_WORKERS;
            let key = rkey!(keys, "idworker:{worker}");
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("EX")
                .arg(LEASE.as_secs())
                .query_async(&mut redis)
                .await
                .context("leasing an id worker number")?;
            if taken.is_some() {
                tokio::spawn(keep_lease(redis, key, token));
                return Ok(Self::with_worker(worker));
            }
        }
        bail!("all {MAX_WORKERS} id worker numbers are leased")
    }

    pub fn worker(&self) -> u16 {
        self.worker
    }

    pub fn next(&self) -> i64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (last, seq) = *state;
        let mut now = now_ms().max(last);
        let seq = if now == last {
            if seq + 1 >= (1 << SEQ_BITS) {
                // Sequence used up in this millisecond: borrow the next one.
                now = last + 1;
                0
            } else {
                seq + 1
            }
        } else {
            0
        };
        *state = (now, seq);
        let id = ((now - EPOCH_MS) << (WORKER_BITS + SEQ_BITS))
            | (u64::from(self.worker) << SEQ_BITS)
            | u64::from(seq);
        i64::try_from(id).unwrap_or(i64::MAX)
    }
}

fn now_ms() -> u64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    u64::try_from(ms).unwrap_or(u64::MAX).max(EPOCH_MS)
}

async fn keep_lease(mut redis: ConnectionManager, key: String, token: String) {
    let script = redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] or redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then \
           redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1 end return 0",
    );
    loop {
        tokio::time::sleep(LEASE / 3).await;
        let kept: Result<i32, _> = script
            .key(&key)
            .arg(&token)
            .arg(LEASE.as_secs())
            .invoke_async(&mut redis)
            .await;
        match kept {
            Ok(1) => {}
            Ok(_) => tracing::error!(key, "id worker lease taken by another process"),
            Err(e) => tracing::warn!(key, error = %e, "could not renew the id worker lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_increasing() {
        let ids = IdGenerator::with_worker(7);
        let mut seen = HashSet::new();
        let mut last = 0;
        for _ in 0..100_000 {
            let id = ids.next();
            assert!(id > last, "{id} after {last}");
            assert!(seen.insert(id));
            last = id;
        }
    }

    #[test]
    fn workers_never_collide() {
        let a = IdGenerator::with_worker(1);
        let b = IdGenerator::with_worker(2);
        let set_a: HashSet<i64> = (0..10_000).map(|_| a.next()).collect();
        assert!((0..10_000).all(|_| !set_a.contains(&b.next())));
    }
}
