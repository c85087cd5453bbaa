//! Every SQL statement of the dashboard. Ranges are `>= from` on an indexed
//! time column (migration 0009); one statement answers all three summary
//! ranges with conditional sums over the widest one. Days are the shop's:
//! a UTC time plus the offset, then its date.
//!
//! Longer than 300 lines: one small function per figure, each with its own
//! statement and binds, so each can be read next to the index it uses.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use sqlx::{MySqlPool, QueryBuilder};

use crate::states::{OrderStatus, PayStatus};

/// `chat_message.message_type` of an answer (chat-api's `chat::types::ANSWER`).
const ANSWER: i32 = 2;
/// `chat_message.status` of an answer still streaming (chat-api's `MessageStatus::Streaming`).
const STREAMING: i32 = 1;

/// The UTC starts of today, the last 7 and the last 30 days.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub today: NaiveDateTime,
    pub week: NaiveDateTime,
    pub month: NaiveDateTime,
}

/// A figure over the three ranges.
pub type Three<T> = [T; 3];

fn three<T>(t: (T, T, T)) -> Three<T> {
    [t.0, t.1, t.2]
}

/// Completed orders by pay time: (count, revenue).
pub async fn paid(db: &MySqlPool, b: Bounds) -> sqlx::Result<(Three<i64>, Three<Decimal>)> {
    let row: (i64, i64, i64, Decimal, Decimal, Decimal) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(pay_time >= ?), 0) AS SIGNED), \
         CAST(COALESCE(SUM(pay_time >= ?), 0) AS SIGNED), COUNT(*), \
         COALESCE(SUM(IF(pay_time >= ?, pay_amount, 0)), 0), \
         COALESCE(SUM(IF(pay_time >= ?, pay_amount, 0)), 0), COALESCE(SUM(pay_amount), 0) \
         FROM chat_order WHERE status = ? AND pay_time >= ?",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(b.today)
    .bind(b.week)
    .bind(OrderStatus::Completed)
    .bind(b.month)
    .fetch_one(db)
    .await?;
    Ok(([row.0, row.1, row.2], [row.3, row.4, row.5]))
}

/// Orders placed (every order, whatever became of it).
pub async fn placed(db: &MySqlPool, b: Bounds) -> sqlx::Result<Three<i64>> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(create_time >= ?), 0) AS SIGNED), \
         CAST(COALESCE(SUM(create_time >= ?), 0) AS SIGNED), COUNT(*) \
         FROM chat_order WHERE create_time >= ?",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(b.month)
    .fetch_one(db)
    .await
    .map(three)
}

/// Orders closed unpaid, by when they closed (their last update).
pub async fn closed(db: &MySqlPool, b: Bounds) -> sqlx::Result<Three<i64>> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(update_time >= ?), 0) AS SIGNED), \
         CAST(COALESCE(SUM(update_time >= ?), 0) AS SIGNED), COUNT(*) \
         FROM chat_order WHERE status = ? AND update_time >= ?",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(OrderStatus::Closed)
    .bind(b.month)
    .fetch_one(db)
    .await
    .map(three)
}

/// Orders with a payment given back (one or more refund rows).
pub async fn refunded(db: &MySqlPool, b: Bounds) -> sqlx::Result<Three<i64>> {
    sqlx::query_as(
        "SELECT COUNT(DISTINCT IF(create_time >= ?, order_id, NULL)), \
         COUNT(DISTINCT IF(create_time >= ?, order_id, NULL)), COUNT(DISTINCT order_id) \
         FROM chat_order_history WHERE pay_status = ? AND create_time >= ?",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(PayStatus::Refunded)
    .bind(b.month)
    .fetch_one(db)
    .await
    .map(three)
}

pub async fn new_users(db: &MySqlPool, b: Bounds) -> sqlx::Result<Three<i64>> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(create_time >= ?), 0) AS SIGNED), \
         CAST(COALESCE(SUM(create_time >= ?), 0) AS SIGNED), COUNT(*) \
         FROM chat_user WHERE create_time >= ?",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(b.month)
    .fetch_one(db)
    .await
    .map(three)
}

/// Answers, and the chat times they kept: every answer took one when it
/// started and one that ended empty (not streaming) gave it back.
pub async fn answers(db: &MySqlPool, b: Bounds) -> sqlx::Result<(Three<i64>, Three<i64>)> {
    let r: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(create_time >= ?), 0) AS SIGNED), \
         CAST(COALESCE(SUM(create_time >= ?), 0) AS SIGNED), COUNT(*), \
         CAST(COALESCE(SUM(create_time >= ? AND kept), 0) AS SIGNED), \
         CAST(COALESCE(SUM(create_time >= ? AND kept), 0) AS SIGNED), \
         CAST(COALESCE(SUM(kept), 0) AS SIGNED) \
         FROM (SELECT create_time, NOT (status <> ? AND content = '') AS kept \
               FROM chat_message WHERE message_type = ? AND create_time >= ?) m",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(b.today)
    .bind(b.week)
    .bind(STREAMING)
    .bind(ANSWER)
    .bind(b.month)
    .fetch_one(db)
    .await?;
    Ok(([r.0, r.1, r.2], [r.3, r.4, r.5]))
}

/// Chat times sold: the face value of the codes paid orders bought.
pub async fn times_sold(db: &MySqlPool, b: Bounds) -> sqlx::Result<Three<i64>> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(IF(o.pay_time >= ?, e.reward_use_times, 0)), 0) AS SIGNED), \
         CAST(COALESCE(SUM(IF(o.pay_time >= ?, e.reward_use_times, 0)), 0) AS SIGNED), \
         CAST(COALESCE(SUM(e.reward_use_times), 0) AS SIGNED) \
         FROM chat_order o JOIN chat_exchange e ON e.order_id = o.id \
         WHERE o.status = ? AND o.pay_time >= ?",
    )
    .bind(b.today)
    .bind(b.week)
    .bind(OrderStatus::Completed)
    .bind(b.month)
    .fetch_one(db)
    .await
    .map(three)
}

/// Per shop day since `from`: orders placed, orders closed, new users,
/// answers and their tokens.
#[derive(Debug, Default, Clone, Copy)]
pub struct DayCounts {
    pub placed: i64,
    pub closed: i64,
    pub users: i64,
    pub answers: i64,
    pub tokens: i64,
}

pub async fn day_counts(
    db: &MySqlPool,
    offset_minutes: i64,
    from: NaiveDateTime,
) -> sqlx::Result<HashMap<NaiveDate, DayCounts>> {
    // Four scans over different tables and indexes, side by side.
    let (placed, closed, users, answers) = tokio::try_join!(
        sqlx::query_as::<_, (NaiveDate, i64)>(
            "SELECT DATE(create_time + INTERVAL ? MINUTE) AS d, COUNT(*) \
             FROM chat_order WHERE create_time >= ? GROUP BY d",
        )
        .bind(offset_minutes)
        .bind(from)
        .fetch_all(db),
        sqlx::query_as::<_, (NaiveDate, i64)>(
            "SELECT DATE(update_time + INTERVAL ? MINUTE) AS d, COUNT(*) \
             FROM chat_order WHERE status = ? AND update_time >= ? GROUP BY d",
        )
        .bind(offset_minutes)
        .bind(OrderStatus::Closed)
        .bind(from)
        .fetch_all(db),
        sqlx::query_as::<_, (NaiveDate, i64)>(
            "SELECT DATE(create_time + INTERVAL ? MINUTE) AS d, COUNT(*) \
             FROM chat_user WHERE create_time >= ? GROUP BY d",
        )
        .bind(offset_minutes)
        .bind(from)
        .fetch_all(db),
        sqlx::query_as::<_, (NaiveDate, i64, i64)>(
            "SELECT DATE(create_time + INTERVAL ? MINUTE) AS d, COUNT(*), \
             CAST(COALESCE(SUM(total_tokens), 0) AS SIGNED) \
             FROM chat_message WHERE message_type = ? AND create_time >= ? GROUP BY d",
        )
        .bind(offset_minutes)
        .bind(ANSWER)
        .bind(from)
        .fetch_all(db),
    )?;
    let mut days: HashMap<NaiveDate, DayCounts> = HashMap::new();
    for (d, n) in placed {
        days.entry(d).or_default().placed = n;
    }
    for (d, n) in closed {
        days.entry(d).or_default().closed = n;
    }
    for (d, n) in users {
        days.entry(d).or_default().users = n;
    }
    for (d, n, tokens) in answers {
        let day = days.entry(d).or_default();
        day.answers = n;
        day.tokens = tokens;
    }
    Ok(days)
}

/// Paid orders per shop day paid from `from` to `to`: (day, orders, revenue).
pub async fn paid_days(
    db: &MySqlPool,
    offset_minutes: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> sqlx::Result<Vec<(NaiveDate, i64, Decimal)>> {
    sqlx::query_as(
        "SELECT DATE(pay_time + INTERVAL ? MINUTE) AS d, COUNT(*), SUM(pay_amount) \
         FROM chat_order WHERE status = ? AND pay_time >= ? AND pay_time <= ? GROUP BY d",
    )
    .bind(offset_minutes)
    .bind(OrderStatus::Completed)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// Units and revenue per shop day and product paid from `from` to `to`.
pub async fn product_days(
    db: &MySqlPool,
    offset_minutes: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> sqlx::Result<Vec<(NaiveDate, i64, i64, Decimal)>> {
    sqlx::query_as(
        "SELECT DATE(o.pay_time + INTERVAL ? MINUTE) AS d, i.product_id, \
         CAST(SUM(i.exchange_num) AS SIGNED), SUM(i.exchange_num * i.product_price) \
         FROM chat_order o JOIN chat_order_item i ON i.order_id = o.id \
         WHERE o.status = ? AND o.pay_time >= ? AND o.pay_time <= ? GROUP BY d, i.product_id",
    )
    .bind(offset_minutes)
    .bind(OrderStatus::Completed)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// The database's clock (UTC) less `lag_secs`: where a rebuild's snapshot
/// ends, early enough that every order paid before it has committed.
pub async fn snapshot_time(db: &MySqlPool, lag_secs: i64) -> sqlx::Result<NaiveDateTime> {
    sqlx::query_scalar("SELECT UTC_TIMESTAMP(3) - INTERVAL ? SECOND")
        .bind(lag_secs)
        .fetch_one(db)
        .await
}

/// Orders completed with a pay time after `after`.
pub async fn completed_after(db: &MySqlPool, after: NaiveDateTime) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM chat_order WHERE status = ? AND pay_time > ?")
        .bind(OrderStatus::Completed)
        .bind(after)
        .fetch_all(db)
        .await
}

/// A completed order as the counters see it: when it was paid, what was paid.
pub async fn completed_order(
    db: &MySqlPool,
    order_id: i64,
) -> sqlx::Result<Option<(NaiveDateTime, Decimal)>> {
    sqlx::query_as(
        "SELECT pay_time, pay_amount FROM chat_order \
         WHERE id = ? AND status = ? AND pay_time IS NOT NULL",
    )
    .bind(order_id)
    .bind(OrderStatus::Completed)
    .fetch_optional(db)
    .await
}

/// The order's units and revenue per product.
pub async fn order_products(
    db: &MySqlPool,
    order_id: i64,
) -> sqlx::Result<Vec<(i64, i64, Decimal)>> {
    sqlx::query_as(
        "SELECT product_id, CAST(SUM(exchange_num) AS SIGNED), SUM(exchange_num * product_price) \
         FROM chat_order_item WHERE order_id = ? GROUP BY product_id",
    )
    .bind(order_id)
    .fetch_all(db)
    .await
}

/// Product names by id (a product gone from the table is left out).
pub async fn product_names(db: &MySqlPool, ids: &[i64]) -> sqlx::Result<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = QueryBuilder::new("SELECT id, name FROM chat_product WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let rows: Vec<(i64, String)> = q.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().collect())
}

/// Parked payment events not resolved yet.
pub async fn open_payment_failures(db: &MySqlPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM chat_payment_failure WHERE resolved = ?")
        .bind(false)
        .fetch_one(db)
        .await
}

/// Orders with a QR code whose payment window ended before `now`.
pub async fn stale_awaiting_confirmation(db: &MySqlPool, now: NaiveDateTime) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM chat_order WHERE status = ? AND expire_time < ?")
        .bind(OrderStatus::AwaitingConfirmation)
        .bind(now)
        .fetch_one(db)
        .await
}

/// Notifies the gateway refused (signature, app, amount …) since `from`.
pub async fn refused_notifies(db: &MySqlPool, from: NaiveDateTime) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pay_alipay_notify WHERE create_time >= ? AND verified = ?",
    )
    .bind(from)
    .bind(false)
    .fetch_one(db)
    .await
}
