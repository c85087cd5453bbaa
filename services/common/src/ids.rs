//! Snowflake-style 64-bit ids: milliseconds since 2026-01-01 (41 bits), a worker
//! number (10 bits) and a per-millisecond sequence (12 bits). The worker number
//! is leased in Redis, so copies of a service never share one and ids cannot
//! collide; they are roughly ordered by time, which keeps InnoDB inserts cheap.
//!
//! A lease is trusted only until it would lapse in Redis (counted from when its
//! last renewal was sent, less a margin). A renewal that finds the number
//! taken by another process drops it at once and leases a fresh number; a
//! renewal that fails (Redis unreachable) keeps issuing only until that
//! deadline. With no lease held, [`IdGenerator::try_next`] refuses (503) and
//! [`IdGenerator::next`] waits for the keeper to lease a number again: `next`
//! keeps its `i64` signature because every service calls it in dozens of
//! places, and a wait only happens while Redis has been unreachable for most
//! of a lease.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::redis::Redis;
use anyhow::{Context, bail};

use crate::ApiError;
use crate::redis::Keys;
use crate::rkey;

const EPOCH_MS: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const WORKER_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;
const MAX_WORKERS: u16 = 1 << WORKER_BITS;
const LEASE: Duration = Duration::from_secs(60);
/// Stop issuing this long before Redis would let the lease lapse, for clock
/// rate differences and the renewal's own round trip.
const MARGIN: Duration = Duration::from_secs(5);
/// After a failed renewal or lease, try again this soon.
const RETRY: Duration = Duration::from_secs(1);

/// Renews the lease if it is still ours (or lapsed and free again), else 0.
const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] or redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then \
    redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1 end return 0";

/// No worker number is leased right now; answered as 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no id worker number is leased")]
pub struct IdsUnavailable;

impl From<IdsUnavailable> for ApiError {
    fn from(_: IdsUnavailable) -> Self {
        ApiError::Unavailable {
            code: "ids_unavailable",
            message: "the service cannot issue ids right now; try again shortly".into(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Held {
    worker: u16,
    /// `None` for a fixed worker number ([`IdGenerator::with_worker`]).
    valid_until: Option<Instant>,
}

impl Held {
    fn valid(&self, now: Instant) -> bool {
        self.valid_until.is_none_or(|until| now < until)
    }
}

#[derive(Debug, Default)]
struct State {
    held: Option<Held>,
    last_ms: u64,
    seq: u16,
}

struct Leasing {
    redis: Redis,
    keys: Keys,
    token: String,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled whenever a lease is taken, for [`IdGenerator::next`] waiting on one.
    leased: Condvar,
    leasing: Option<Leasing>,
}

pub struct IdGenerator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdGenerator")
            .field("worker", &self.worker())
            .finish_non_exhaustive()
    }
}

impl IdGenerator {
    pub fn with_worker(worker: u16) -> Self {
        Self::new(
            Some(Held {
                worker: worker % MAX_WORKERS,
                valid_until: None,
            }),
            None,
        )
    }

    fn new(held: Option<Held>, leasing: Option<Leasing>) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    held,
                    ..State::default()
                }),
                leased: Condvar::new(),
                leasing,
            }),
        }
    }

    /// Leases a free worker number in Redis and keeps the lease alive in the
    /// background for as long as the generator lives.
    pub async fn lease(redis: Redis, keys: &Keys) -> anyhow::Result<Self> {
        let leasing = Leasing {
            redis,
            keys: keys.clone(),
            token: uuid::Uuid::new_v4().to_string(),
        };
        let held = acquire(&leasing).await?;
        let ids = Self::new(Some(held), Some(leasing));
        tokio::spawn(keep_lease(Arc::downgrade(&ids.inner)));
        Ok(ids)
    }

    /// The worker number ids are issued under now, if one is held.
    pub fn worker(&self) -> Option<u16> {
        let state = self.inner.lock();
        state
            .held
            .filter(|h| h.valid(Instant::now()))
            .map(|h| h.worker)
    }

    /// The next id, or [`IdsUnavailable`] while no worker number is leased.
    pub fn try_next(&self) -> Result<i64, IdsUnavailable> {
        let mut state = self.inner.lock();
        issue(&mut state).ok_or(IdsUnavailable)
    }

    /// The next id; while no worker number is leased, waits until the keeper
    /// leases one (on a multi-threaded runtime the waiting thread hands its
    /// other tasks over first). Callers that can answer 503 use [`Self::try_next`].
    pub fn next(&self) -> i64 {
        if let Ok(id) = self.try_next() {
            return id;
        }
        let wait = || {
            let mut state = self.inner.lock();
            loop {
                if let Some(id) = issue(&mut state) {
                    return id;
                }
                state = self
                    .inner
                    .leased
                    .wait_timeout(state, RETRY)
                    .map(|(s, _)| s)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }

    /// Renews the lease once (the keeper does this every third of a lease).
    /// A number found taken by another process is dropped at once, and a fresh
    /// one leased; a failed renewal keeps the number only until its deadline.
    pub async fn renew(&self) -> anyhow::Result<()> {
        renew(&self.inner).await
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_held(&self, held: Option<Held>) {
        self.lock().held = held;
        if held.is_some() {
            self.leased.notify_all();
        }
    }
}

/// An id under the held worker number, if it is still valid.
fn issue(state: &mut State) -> Option<i64> {
    let held = state.held.filter(|h| h.valid(Instant::now()));
    let Some(held) = held else {
        state.held = None;
        return None;
    };
    let (last, seq) = (state.last_ms, state.seq);
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
    state.last_ms = now;
    state.seq = seq;
    let id = ((now - EPOCH_MS) << (WORKER_BITS + SEQ_BITS))
        | (u64::from(held.worker) << SEQ_BITS)
        | u64::from(seq);
    Some(i64::try_from(id).unwrap_or(i64::MAX))
}

fn deadline(sent: Instant) -> Option<Instant> {
    Some(sent + LEASE - MARGIN)
}

/// Leases a free worker number, starting at a random one.
async fn acquire(leasing: &Leasing) -> anyhow::Result<Held> {
    let mut redis = leasing.redis.clone();
    let start: u16 = rand::random::<u16>() % MAX_WORKERS;
    for i in 0..MAX_WORKERS {
        let worker = (start + i) % MAX_WORKERS;
        let sent = Instant::now();
        let taken: Option<String> = redis::cmd("SET")
            .arg(rkey!(leasing.keys, "idworker:{worker}"))
            .arg(&leasing.token)
            .arg("NX")
            .arg("EX")
            .arg(LEASE.as_secs())
            .query_async(&mut redis)
            .await
            .context("leasing an id worker number")?;
        if taken.is_some() {
            return Ok(Held {
                worker,
                valid_until: deadline(sent),
            });
        }
    }
    bail!("all {MAX_WORKERS} id worker numbers are leased")
}

async fn renew(inner: &Inner) -> anyhow::Result<()> {
    let Some(leasing) = &inner.leasing else {
        return Ok(());
    };
    let held = inner.lock().held;
    if let Some(held) = held {
        let key = rkey!(leasing.keys, "idworker:{}", held.worker);
        let sent = Instant::now();
        let mut redis = leasing.redis.clone();
        let kept: Result<i32, _> = redis::Script::new(RENEW)
            .key(&key)
            .arg(&leasing.token)
            .arg(LEASE.as_secs())
            .invoke_async(&mut redis)
            .await;
        match kept {
            Ok(1) => {
                let mut state = inner.lock();
                // Only if no fresh number replaced it meanwhile.
                if let Some(h) = state.held.as_mut().filter(|h| h.worker == held.worker) {
                    h.valid_until = deadline(sent);
                }
                return Ok(());
            }
            Ok(_) => {
                tracing::error!(
                    key,
                    "id worker lease taken by another process; leasing a fresh number"
                );
                inner.set_held(None);
            }
            Err(e) => {
                // Still ours until its deadline, which `issue` enforces.
                return Err(anyhow::Error::new(e).context("renewing the id worker lease"));
            }
        }
    }
    let fresh = acquire(leasing).await?;
    tracing::info!(worker = fresh.worker, "id worker number leased");
    inner.set_held(Some(fresh));
    Ok(())
}

/// Renews every third of a lease, sooner after a failure; ends with the generator.
async fn keep_lease(inner: Weak<Inner>) {
    let mut pause = LEASE / 3;
    loop {
        tokio::time::sleep(pause).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        pause = match renew(&inner).await {
            Ok(()) => LEASE / 3,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "could not keep an id worker number");
                RETRY
            }
        };
    }
}

fn now_ms() -> u64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    u64::try_from(ms).unwrap_or(u64::MAX).max(EPOCH_MS)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod lease_tests {
    use super::*;

    const REDIS: &str = "redis://127.0.0.1:36379/";

    fn worker_of(id: i64) -> u16 {
        u16::try_from((id >> SEQ_BITS) & i64::from(MAX_WORKERS - 1)).unwrap()
    }

    #[tokio::test]
    async fn a_lease_taken_by_another_process_is_never_used_again() {
        let redis = crate::redis::connect(&secrecy::SecretString::from(REDIS)).unwrap();
        let keys = Keys::new(crate::testing::unique("t") + ":");
        let ids = IdGenerator::lease(redis.clone(), &keys).await.unwrap();
        let old = worker_of(ids.next());
        // Another process holds the number now (our lease lapsed while we stalled).
        let key = rkey!(keys, "idworker:{old}");
        let mut conn = redis.clone();
        let () = redis::cmd("SET")
            .arg(&key)
            .arg("another-process")
            .query_async(&mut conn)
            .await
            .unwrap();
        ids.renew().await.unwrap();
        let fresh = ids.worker().unwrap();
        assert_ne!(fresh, old);
        for _ in 0..1000 {
            assert_eq!(worker_of(ids.try_next().unwrap()), fresh);
            assert_eq!(worker_of(ids.next()), fresh);
        }
        // The other process keeps its number.
        let holder: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(holder, "another-process");
    }

    #[tokio::test]
    async fn a_lease_not_renewed_in_time_stops_issuing() {
        let ids = IdGenerator::with_worker(3);
        ids.inner.lock().held = Some(Held {
            worker: 3,
            valid_until: Some(Instant::now()),
        });
        assert_eq!(ids.try_next(), Err(IdsUnavailable));
        assert_eq!(ids.worker(), None);
    }
}
