//! The dashboard's Redis side: per-day sales counters and product rankings,
//! bumped once per order when it completes and rebuilt from the database when
//! they are missing (a Redis loss) or an operator asks.
//!
//! Keys share the hash tag `{sales}` so a ranking over many days is one
//! ZUNIONSTORE in one slot:
//! - `stats:{sales}:built` — present once the keys were built from the database:
//!   the snapshot time (ms) the rebuild read the database up to;
//! - `stats:{sales}:day:<date>` — hash `paid_orders`, `revenue_cents`;
//! - `stats:{sales}:units:<date>`, `stats:{sales}:revenue:<date>` — sorted
//!   sets, product id → units, revenue in cents;
//! - `stats:{sales}:done:<order id>` — the order was counted on top of the
//!   snapshot it holds (kept a while past the longest redelivery).
//!
//! Dates are the shop's calendar days. Exactly once, also against a racing
//! rebuild: the rebuild reads orders paid up to a snapshot time a few seconds
//! back (every such order has committed), writes its keys in one transaction
//! with that time as `built`, then counts each order paid after it the way a
//! completion does. A completion counts an order only when it was paid after
//! the snapshot and its marker does not hold that snapshot yet, so an order
//! counted before the rebuild (its increments replaced) is counted again once,
//! and a redelivery never. While nothing is built an order completing counts
//! nothing: the rebuild that follows reads it from the database.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use paychat_common::rkey;
use redis::Script;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::queries;
use super::types::{MAX_DAYS, RankBy, ShopClock};
use crate::state::AppState;

/// Day keys outlive the longest range read (366 days).
const DAY_TTL_SECS: u64 = 400 * 24 * 3600;
/// How long an order's "counted" marker is kept: past any redelivery.
const DONE_TTL_SECS: u64 = 45 * 24 * 3600;

fn cents(d: Decimal) -> i64 {
    (d * Decimal::ONE_HUNDRED)
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

fn from_cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

pub struct StatsKeys<'a>(&'a paychat_common::redis::Keys);

impl StatsKeys<'_> {
    fn built(&self) -> String {
        rkey!(self.0, "stats:{{sales}}:built")
    }
    fn day(&self, d: NaiveDate) -> String {
        rkey!(self.0, "stats:{{sales}}:day:{d}")
    }
    fn units(&self, d: NaiveDate) -> String {
        rkey!(self.0, "stats:{{sales}}:units:{d}")
    }
    fn revenue(&self, d: NaiveDate) -> String {
        rkey!(self.0, "stats:{{sales}}:revenue:{d}")
    }
    fn done(&self, order_id: i64) -> String {
        rkey!(self.0, "stats:{{sales}}:done:{order_id}")
    }
    fn scratch(&self, nonce: u64) -> String {
        rkey!(self.0, "stats:{{sales}}:tmp:{nonce}")
    }
}

fn clock(state: &AppState) -> ShopClock {
    ShopClock::new(state.config.orders.shop_utc_offset_minutes)
}

/// Counts the order once, after its fulfilment committed. Never fails the
/// caller: a miss is logged and repaired by the next rebuild.
pub async fn order_completed(state: &AppState, order_id: i64) {
    if let Err(e) = record(state, order_id).await {
        tracing::error!(
            order_id,
            error = format!("{e:#}"),
            "could not count the order on the sales dashboard; a rebuild repairs it"
        );
    }
}

/// Marker, day hash and rankings in one script: counted exactly once per snapshot.
const RECORD: &str = r"
local snapshot = redis.call('GET', KEYS[1])
if not snapshot then return -1 end
if tonumber(ARGV[4]) <= tonumber(snapshot) then return 0 end
if redis.call('GET', KEYS[2]) == snapshot then return 0 end
redis.call('SET', KEYS[2], snapshot, 'EX', ARGV[1])
redis.call('HINCRBY', KEYS[3], 'paid_orders', 1)
redis.call('HINCRBY', KEYS[3], 'revenue_cents', ARGV[2])
for i = 5, #ARGV, 3 do
  redis.call('ZINCRBY', KEYS[4], ARGV[i + 1], ARGV[i])
  redis.call('ZINCRBY', KEYS[5], ARGV[i + 2], ARGV[i])
end
for i = 3, 5 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return 1
";

async fn record(state: &AppState, order_id: i64) -> anyhow::Result<()> {
    let Some((paid_at, amount)) = queries::completed_order(&state.db, order_id).await? else {
        return Ok(());
    };
    let products = queries::order_products(&state.db, order_id).await?;
    let day = clock(state).date_of(paid_at);
    let k = StatsKeys(&state.keys);
    let script = Script::new(RECORD);
    let mut inv = script.prepare_invoke();
    inv.key(k.built())
        .key(k.done(order_id))
        .key(k.day(day))
        .key(k.units(day))
        .key(k.revenue(day))
        .arg(DONE_TTL_SECS)
        .arg(cents(amount))
        .arg(DAY_TTL_SECS)
        .arg(paid_at.and_utc().timestamp_millis());
    for (product_id, units, revenue) in &products {
        inv.arg(*product_id).arg(*units).arg(cents(*revenue));
    }
    let mut conn = state.redis.clone();
    let outcome: i64 = inv.invoke_async(&mut conn).await?;
    tracing::debug!(order_id, outcome, "sales dashboard counters");
    Ok(())
}

/// Builds the keys from the database unless they are there.
pub async fn ensure_built(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.redis.clone();
    let built: bool = redis::cmd("EXISTS")
        .arg(StatsKeys(&state.keys).built())
        .query_async(&mut conn)
        .await?;
    if !built {
        let report = rebuild(state).await?;
        tracing::info!(
            days = report.0,
            orders = report.1,
            "sales dashboard keys were missing; rebuilt from the database"
        );
    }
    Ok(())
}

/// How far back a rebuild's snapshot ends: longer than a fulfilment
/// transaction takes from setting the pay time to its commit.
const SNAPSHOT_LAG_SECS: i64 = 10;

/// Rewrites every day key of the last `MAX_DAYS` days from the database in
/// one transaction, then counts the orders paid since its snapshot:
/// (days with sales, paid orders).
pub async fn rebuild(state: &AppState) -> anyhow::Result<(usize, i64)> {
    let clock = clock(state);
    let days = clock.last_days(MAX_DAYS);
    let from = clock.start_of(days[0]);
    let offset = clock.offset_minutes();
    let snapshot = queries::snapshot_time(&state.db, SNAPSHOT_LAG_SECS).await?;
    let paid = queries::paid_days(&state.db, offset, from, snapshot).await?;
    let products = queries::product_days(&state.db, offset, from, snapshot).await?;
    let k = StatsKeys(&state.keys);
    let mut pipe = redis::pipe();
    pipe.atomic();
    for d in &days {
        pipe.del(k.day(*d)).ignore();
        pipe.del(k.units(*d)).ignore();
        pipe.del(k.revenue(*d)).ignore();
    }
    let mut orders = 0;
    for (d, n, revenue) in &paid {
        orders += n;
        pipe.hset_multiple(
            k.day(*d),
            &[("paid_orders", *n), ("revenue_cents", cents(*revenue))],
        )
        .ignore();
        pipe.expire(k.day(*d), DAY_TTL_SECS as i64).ignore();
    }
    for (d, product_id, units, revenue) in &products {
        pipe.zadd(k.units(*d), *product_id, *units).ignore();
        pipe.zadd(k.revenue(*d), *product_id, cents(*revenue))
            .ignore();
        pipe.expire(k.units(*d), DAY_TTL_SECS as i64).ignore();
        pipe.expire(k.revenue(*d), DAY_TTL_SECS as i64).ignore();
    }
    pipe.set(k.built(), snapshot.and_utc().timestamp_millis())
        .ignore();
    let mut conn = state.redis.clone();
    let () = pipe.query_async(&mut conn).await?;
    let recent = queries::completed_after(&state.db, snapshot).await?;
    for order_id in &recent {
        record(state, *order_id).await?;
    }
    let recent = i64::try_from(recent.len()).unwrap_or(i64::MAX);
    Ok((paid.len(), orders + recent))
}

/// Paid orders and revenue of each day (zero for a day without sales).
pub async fn paid_by_day(
    state: &AppState,
    days: &[NaiveDate],
) -> anyhow::Result<HashMap<NaiveDate, (i64, Decimal)>> {
    ensure_built(state).await?;
    let k = StatsKeys(&state.keys);
    let mut pipe = redis::pipe();
    for d in days {
        pipe.cmd("HMGET")
            .arg(k.day(*d))
            .arg("paid_orders")
            .arg("revenue_cents");
    }
    let mut conn = state.redis.clone();
    let rows: Vec<(Option<i64>, Option<i64>)> = pipe.query_async(&mut conn).await?;
    Ok(days
        .iter()
        .zip(rows)
        .map(|(d, (n, c))| (*d, (n.unwrap_or(0), from_cents(c.unwrap_or(0)))))
        .collect())
}

/// Members (product ids) and their scores, as ZRANGE WITHSCORES gives them.
type Scores = Vec<(i64, f64)>;

/// The best `limit` products of the last `days` days: (product id, units, revenue).
pub async fn ranking(
    state: &AppState,
    by: RankBy,
    days: u32,
    limit: u32,
) -> anyhow::Result<Vec<(i64, i64, Decimal)>> {
    ensure_built(state).await?;
    let dates = clock(state).last_days(days);
    let k = StatsKeys(&state.keys);
    let (rank_keys, other_keys): (Vec<String>, Vec<String>) = match by {
        RankBy::Units => (
            dates.iter().map(|d| k.units(*d)).collect(),
            dates.iter().map(|d| k.revenue(*d)).collect(),
        ),
        RankBy::Revenue => (
            dates.iter().map(|d| k.revenue(*d)).collect(),
            dates.iter().map(|d| k.units(*d)).collect(),
        ),
    };
    let nonce: u64 = rand::random();
    let (rank_tmp, other_tmp) = (k.scratch(nonce), k.scratch(nonce ^ 1));
    let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("ZUNIONSTORE")
        .arg(&rank_tmp)
        .arg(rank_keys.len())
        .arg(&rank_keys)
        .ignore()
        .cmd("ZUNIONSTORE")
        .arg(&other_tmp)
        .arg(other_keys.len())
        .arg(&other_keys)
        .ignore()
        .zrevrange_withscores(&rank_tmp, 0, stop)
        .zrange_withscores(&other_tmp, 0, -1)
        .del(&[&rank_tmp, &other_tmp])
        .ignore();
    let mut conn = state.redis.clone();
    let (top, other): (Scores, Scores) = pipe.query_async(&mut conn).await?;
    let other: BTreeMap<i64, f64> = other.into_iter().collect();
    // Scores are whole units and cents, far below 2^53: exact as f64.
    #[expect(clippy::cast_possible_truncation, reason = "whole numbers below 2^53")]
    let whole = |s: f64| s.round() as i64;
    let mut items: Vec<(i64, i64, Decimal)> = top
        .into_iter()
        .map(|(product_id, score)| {
            let rest = whole(other.get(&product_id).copied().unwrap_or(0.0));
            match by {
                RankBy::Units => (product_id, whole(score), from_cents(rest)),
                RankBy::Revenue => (product_id, rest, from_cents(whole(score))),
            }
        })
        .collect();
    // Ties: the higher product id first, as ZREVRANGE gives; kept stable.
    items.sort_by(|a, b| match by {
        RankBy::Units => b.1.cmp(&a.1).then(b.0.cmp(&a.0)),
        RankBy::Revenue => b.2.cmp(&a.2).then(b.0.cmp(&a.0)),
    });
    Ok(items)
}
