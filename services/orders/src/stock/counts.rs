//! Available stock per product in Redis: what can be ordered now, i.e. the
//! database's stock minus the units held by unpaid orders.
//!
//! Every stock key of a deployment carries the hash tag `{stock}`, so one Lua
//! script may touch several products (an order may hold several) and still run
//! on Redis Cluster. Reservation is all or nothing; a give-back happens at most
//! once per order, guarded by a per-order marker set inside the same script.

use std::collections::HashMap;

use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;
use redis::{AsyncCommands, Script};
use std::sync::{Arc, LazyLock};

/// KEYS: stock keys; ARGV: quantities. Returns 0, or the 1-based index of the
/// first item that cannot be served (negative when its key is not loaded).
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then return -i end
  if tonumber(v) < tonumber(ARGV[i]) then return i end
end
for i = 1, #KEYS do redis.call('DECRBY', KEYS[i], ARGV[i]) end
return 0
",
    )
});

/// What a buyer's order does before anything else, so that only requests
/// holding their units reach the database. KEYS[1]: the marker of the buyer's
/// idempotency key; KEYS[2..]: stock keys; ARGV[1]: marker lifetime in
/// seconds; ARGV[2..]: quantities. Returns 0 when every unit was taken (and the
/// key marked), the 1-based index of the first item that cannot be served, or
/// -1 to go on without taking anything: the key made an order before (its
/// replay must find that order even when the stock is gone), or a count is not
/// loaded (the usual path loads it).
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then return -1 end
  if tonumber(v) < tonumber(ARGV[i]) then return i - 1 end
end
for i = 2, #KEYS do redis.call('DECRBY', KEYS[i], ARGV[i]) end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 0
",
    )
});

/// Gives back what [`TAKE`] took for a request that never reached the order
/// writer (so nothing else can give it back: no marker needed). KEYS[1]: the
/// key's marker; KEYS[2..]: stock keys; ARGV[1]: '1' when the key made no
/// order and its marker goes too; ARGV[2..]: quantities.
static PUT_BACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[i]) end
end
return 0
",
    )
});

/// [`RESERVE`] for a buyer's order: on success it also marks the buyer's
/// idempotency key in the same step, so a replay that finds the stock gone
/// finds the marker and is answered with the order. KEYS[1]: the marker;
/// KEYS[2..]: stock keys; ARGV[1]: marker lifetime in seconds; ARGV[2..]:
/// quantities. Returns as [`RESERVE`] does, indices counting stock items.
static RESERVE_ORDER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then return -(i - 1) end
  if tonumber(v) < tonumber(ARGV[i]) then return i - 1 end
end
for i = 2, #KEYS do redis.call('DECRBY', KEYS[i], ARGV[i]) end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 0
",
    )
});

/// KEYS[1]: the order's give-back marker; KEYS[2..]: stock keys.
/// ARGV[1]: marker lifetime in seconds; ARGV[2..]: quantities.
/// Returns 1 when the stock was given back now, 0 when it had been already.
static GIVE_BACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[i]) end
end
return 1
",
    )
});

/// KEYS[1]: stock key; ARGV[1]: units. Adds only to a loaded count: a missing
/// key is filled from the database on first use instead.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return 0",
    )
});

/// KEYS[1]: stock key; ARGV[1]: the value read before, ARGV[2]: the repaired
/// value. Sets only when nothing moved the value meanwhile.
static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if (v or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
",
    )
});

/// Counts a reservation that could not be given back to Redis (the units stay
/// taken there until the scheduled reconciliation repairs the count).
pub fn giveback_failed(path: &'static str) {
    metrics::counter!("stock_giveback_failures_total", "path" => path).increment(1);
}

/// Markers outlive any order window by far; a give-back replayed later than
/// this would find the order closed in the database anyway.
const MARKER_TTL_SECS: u64 = 30 * 24 * 3600;

/// How long an idempotency key that made an order is remembered in Redis. A
/// replay of it on a product that has sold out meanwhile is answered with the
/// order this long; later (or after Redis lost its data) it is answered
/// `out_of_stock`, the order itself unchanged.
const ORDER_KEY_TTL_SECS: u64 = 30 * 24 * 3600;

/// What [`Stock::take`] did before any database read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Every unit is held for this request.
    Taken,
    /// Nothing taken; the request goes the usual way (the key was used
    /// before, or a count is not loaded).
    Open,
    OutOfStock {
        product_id: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    Reserved,
    OutOfStock { product_id: i64 },
    NotLoaded { product_id: i64 },
}

#[derive(Clone)]
pub struct Stock {
    redis: Redis,
    keys: Keys,
    /// Serialises reconciliations within this process.
    pub(super) reconcile_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Stock {
    pub fn new(redis: Redis, keys: Keys) -> Self {
        Self {
            redis,
            keys,
            reconcile_lock: Arc::default(),
        }
    }

    pub fn key(&self, product_id: i64) -> String {
        rkey!(self.keys, "stock:{{stock}}:{product_id}")
    }

    fn released_key(&self, order_id: i64) -> String {
        rkey!(self.keys, "stock:{{stock}}:released:{order_id}")
    }

    /// Reserves every item or none.
    pub async fn reserve(&self, items: &[(i64, i32)]) -> redis::RedisResult<Reservation> {
        let mut inv = RESERVE.prepare_invoke();
        for (product_id, quantity) in items {
            inv.key(self.key(*product_id)).arg(*quantity);
        }
        let mut conn = self.redis.clone();
        let at: i64 = inv.invoke_async(&mut conn).await?;
        Ok(reservation(items, at))
    }

    fn order_key_key(&self, user_id: i64, key: &str) -> String {
        rkey!(self.keys, "stock:{{stock}}:order_key:{user_id}:{key}")
    }

    /// Takes every unit of a buyer's order, or none, before anything else.
    pub async fn take(
        &self,
        user_id: i64,
        key: &str,
        items: &[(i64, i32)],
    ) -> redis::RedisResult<Take> {
        let mut inv = TAKE.prepare_invoke();
        inv.key(self.order_key_key(user_id, key))
            .arg(ORDER_KEY_TTL_SECS);
        for (product_id, quantity) in items {
            inv.key(self.key(*product_id)).arg(*quantity);
        }
        let mut conn = self.redis.clone();
        let at: i64 = inv.invoke_async(&mut conn).await?;
        Ok(match at {
            0 => Take::Taken,
            i if i > 0 => Take::OutOfStock {
                product_id: item_at(items, i).unwrap_or(0),
            },
            _ => Take::Open,
        })
    }

    /// Gives back what [`Self::take`] took for a request refused before its
    /// order went to the writer; `key_unused` also forgets the key's marker.
    pub async fn put_back(
        &self,
        user_id: i64,
        key: &str,
        items: &[(i64, i32)],
        key_unused: bool,
    ) -> redis::RedisResult<()> {
        let mut inv = PUT_BACK.prepare_invoke();
        inv.key(self.order_key_key(user_id, key))
            .arg(if key_unused { "1" } else { "0" });
        for (product_id, quantity) in items {
            inv.key(self.key(*product_id)).arg(*quantity);
        }
        let mut conn = self.redis.clone();
        let _: i64 = inv.invoke_async(&mut conn).await?;
        Ok(())
    }

    /// Reserves every item of a buyer's order or none, and on success marks
    /// its idempotency key (see [`Self::take`]).
    pub async fn reserve_order(
        &self,
        user_id: i64,
        key: &str,
        items: &[(i64, i32)],
    ) -> redis::RedisResult<Reservation> {
        let mut inv = RESERVE_ORDER.prepare_invoke();
        inv.key(self.order_key_key(user_id, key))
            .arg(ORDER_KEY_TTL_SECS);
        for (product_id, quantity) in items {
            inv.key(self.key(*product_id)).arg(*quantity);
        }
        let mut conn = self.redis.clone();
        let at: i64 = inv.invoke_async(&mut conn).await?;
        Ok(reservation(items, at))
    }

    /// Gives the order's units back, once per order however often it is called.
    pub async fn give_back(&self, order_id: i64, items: &[(i64, i32)]) -> redis::RedisResult<bool> {
        let mut inv = GIVE_BACK.prepare_invoke();
        inv.key(self.released_key(order_id)).arg(MARKER_TTL_SECS);
        for (product_id, quantity) in items {
            inv.key(self.key(*product_id)).arg(*quantity);
        }
        let mut conn = self.redis.clone();
        let given: i64 = inv.invoke_async(&mut conn).await?;
        Ok(given == 1)
    }

    /// Sets a product's count only if it has none yet (a product created by
    /// another copy, or a Redis that lost its data).
    pub async fn init(&self, product_id: i64, available: i64) -> redis::RedisResult<bool> {
        let mut conn = self.redis.clone();
        conn.set_nx(self.key(product_id), available).await
    }

    pub async fn set(&self, product_id: i64, available: i64) -> redis::RedisResult<()> {
        let mut conn = self.redis.clone();
        conn.set(self.key(product_id), available).await
    }

    pub async fn add(&self, product_id: i64, units: i64) -> redis::RedisResult<()> {
        let mut conn = self.redis.clone();
        let _: i64 = ADD
            .key(self.key(product_id))
            .arg(units)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    /// The counts of the given products (None when not loaded).
    pub async fn available(&self, product_ids: &[i64]) -> redis::RedisResult<HashMap<i64, i64>> {
        if product_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<String> = product_ids.iter().map(|p| self.key(*p)).collect();
        let mut conn = self.redis.clone();
        let values: Vec<Option<i64>> = redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?;
        Ok(product_ids
            .iter()
            .zip(values)
            .filter_map(|(p, v)| v.map(|v| (*p, v)))
            .collect())
    }

    pub(super) async fn compare_and_set(
        &self,
        product_id: i64,
        seen: Option<i64>,
        value: i64,
    ) -> redis::RedisResult<bool> {
        let mut conn = self.redis.clone();
        let done: i64 = COMPARE_AND_SET
            .key(self.key(product_id))
            .arg(seen.map(|v| v.to_string()).unwrap_or_default())
            .arg(value)
            .invoke_async(&mut conn)
            .await?;
        Ok(done == 1)
    }
}

/// The product a script's 1-based item index (negative: not loaded) names.
fn item_at(items: &[(i64, i32)], at: i64) -> Option<i64> {
    let i = usize::try_from(at.unsigned_abs().checked_sub(1)?).ok()?;
    items.get(i).map(|(p, _)| *p)
}

fn reservation(items: &[(i64, i32)], at: i64) -> Reservation {
    let product_id = item_at(items, at).unwrap_or(0);
    match at {
        0 => Reservation::Reserved,
        i if i > 0 => Reservation::OutOfStock { product_id },
        _ => Reservation::NotLoaded { product_id },
    }
}
