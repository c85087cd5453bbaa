//! Order SQL: all of the orders feature's queries, in one place as the layout
//! wants. Longer than 300 lines because placing orders writes five tables in
//! batches (group commit), each with its multi-row insert.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlConnection, MySqlExecutor, QueryBuilder};

use super::timeout_message::TimeoutMessage;
use super::types::{ItemRow, OrderRow, OrderType};
use crate::states::{OrderStatus, PayStatus, ProductStatus};

const COLUMNS: &str = "id, user_id, total_amount, pay_amount, status, type, remark, pay_time, expire_time, create_time";

/// The order an idempotency key already made, and the user's unpaid order, in
/// one round trip.
pub async fn key_and_unpaid(
    db: impl MySqlExecutor<'_>,
    user_id: i64,
    key: &str,
) -> sqlx::Result<(Option<i64>, Option<i64>)> {
    sqlx::query_as(
        "SELECT (SELECT order_id FROM chat_order_idempotency WHERE user_id = ? AND idem_key = ?), \
                (SELECT id FROM chat_order WHERE unpaid_user_id = ?)",
    )
    .bind(user_id)
    .bind(key)
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// What placing an order reads first, in one round trip: one row per
/// orderable (live, enabled) product among the ordered ones — a single row
/// without a product when there is none — each also carrying the order the
/// idempotency key already made and the user's unpaid order.
#[derive(Debug, sqlx::FromRow)]
pub struct Precheck {
    pub done: Option<i64>,
    pub unpaid: Option<i64>,
    pub product_id: Option<i64>,
    pub name: Option<String>,
    pub price: Option<Decimal>,
    pub is_seckill: Option<bool>,
}

/// The SQL text depends on the number of products only, so each shape is
/// prepared once per connection and reused.
pub async fn precheck(
    db: impl MySqlExecutor<'_>,
    user_id: i64,
    key: &str,
    product_ids: &[i64],
) -> sqlx::Result<Vec<Precheck>> {
    let mut qb = QueryBuilder::<MySql>::new(
        "SELECT (SELECT order_id FROM chat_order_idempotency WHERE user_id = ",
    );
    qb.push_bind(user_id)
        .push(" AND idem_key = ")
        .push_bind(key)
        .push(") AS done, (SELECT id FROM chat_order WHERE unpaid_user_id = ")
        .push_bind(user_id)
        .push(
            ") AS unpaid, p.id AS product_id, p.name, p.price, p.is_seckill \
             FROM (SELECT 1 AS one) AS d LEFT JOIN chat_product p \
             ON p.is_deleted = 0 AND p.status = ",
        )
        .push_bind(ProductStatus::Enabled)
        .push(" AND p.id IN (");
    let mut sep = qb.separated(", ");
    for id in product_ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    qb.build_query_as().fetch_all(db).await
}

pub async fn find(db: impl MySqlExecutor<'_>, id: i64) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chat_order WHERE id = ? AND is_deleted = 0"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn items(db: impl MySqlExecutor<'_>, order_ids: &[i64]) -> sqlx::Result<Vec<ItemRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::new(
        "SELECT order_id, product_id, exchange_num, product_name, product_price \
         FROM chat_order_item WHERE is_deleted = 0 AND order_id IN (",
    );
    let mut sep = qb.separated(", ");
    for id in order_ids {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY id");
    qb.build_query_as().fetch_all(db).await
}

/// A page of orders, newest first; `user_id` None lists everyone's (admin).
pub async fn page(
    db: impl MySqlExecutor<'_>,
    user_id: Option<i64>,
    status: Option<OrderStatus>,
    before: Option<i64>,
    limit: u32,
) -> sqlx::Result<Vec<OrderRow>> {
    let mut qb = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM chat_order WHERE is_deleted = 0"
    ));
    if let Some(user_id) = user_id {
        qb.push(" AND user_id = ").push_bind(user_id);
    }
    if let Some(status) = status {
        qb.push(" AND status = ").push_bind(status);
    }
    if let Some(before) = before {
        qb.push(" AND id < ").push_bind(before);
    }
    qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

pub struct NewOrderRow {
    pub id: i64,
    pub user_id: i64,
    pub total: Decimal,
    pub kind: OrderType,
    pub remark: Option<String>,
    pub expire_time: NaiveDateTime,
    pub create_time: NaiveDateTime,
}

pub struct NewItem {
    pub id: i64,
    pub product_id: i64,
    pub quantity: i32,
    pub name: String,
    pub price: Decimal,
}

/// Everything placing one order writes, ids included, so it can be written
/// with others in one transaction or again alone.
pub struct OrderRecord {
    pub row: NewOrderRow,
    pub items: Vec<NewItem>,
    pub history_id: i64,
    pub idempotency_id: i64,
    pub key: String,
    pub outbox_id: i64,
    pub message: TimeoutMessage,
    /// The units held in Redis for it, given back if it is not written.
    pub reserved: Vec<(i64, i32)>,
}

pub async fn insert_orders(
    conn: &mut MySqlConnection,
    records: &[&OrderRecord],
) -> sqlx::Result<()> {
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, type, remark, \
         expire_time, create_time, update_time) ",
    );
    qb.push_values(records, |mut b, r| {
        let o = &r.row;
        b.push_bind(o.id)
            .push_bind(o.user_id)
            .push_bind(o.total)
            .push_bind(o.total)
            .push_bind(OrderStatus::AwaitingPayment)
            .push_bind(o.kind)
            .push_bind(o.remark.as_deref())
            .push_bind(o.expire_time)
            .push_bind(o.create_time)
            .push_bind(o.create_time);
    });
    qb.build().execute(conn).await.map(|_| ())
}

pub async fn insert_items(
    conn: &mut MySqlConnection,
    records: &[&OrderRecord],
) -> sqlx::Result<()> {
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO chat_order_item (id, order_id, product_id, exchange_num, product_name, product_price) ",
    );
    let items = records
        .iter()
        .flat_map(|r| r.items.iter().map(move |i| (r.row.id, i)));
    qb.push_values(items, |mut b, (order_id, item)| {
        b.push_bind(item.id)
            .push_bind(order_id)
            .push_bind(item.product_id)
            .push_bind(item.quantity)
            .push_bind(&item.name)
            .push_bind(item.price);
    });
    qb.build().execute(conn).await.map(|_| ())
}

pub async fn insert_histories(
    conn: &mut MySqlConnection,
    records: &[&OrderRecord],
) -> sqlx::Result<()> {
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO chat_order_history (id, user_id, order_id, order_status, pay_status, \
         total_amount, pay_amount, remark) ",
    );
    qb.push_values(records, |mut b, r| {
        b.push_bind(r.history_id)
            .push_bind(r.row.user_id)
            .push_bind(r.row.id)
            .push_bind(OrderStatus::AwaitingPayment)
            .push_bind(PayStatus::Paying)
            .push_bind(r.row.total)
            .push_bind(r.row.total)
            .push_bind("order placed");
    });
    qb.build().execute(conn).await.map(|_| ())
}

pub async fn insert_idempotency_keys(
    conn: &mut MySqlConnection,
    records: &[&OrderRecord],
) -> sqlx::Result<()> {
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO chat_order_idempotency (id, user_id, idem_key, order_id) ",
    );
    qb.push_values(records, |mut b, r| {
        b.push_bind(r.idempotency_id)
            .push_bind(r.row.user_id)
            .push_bind(r.key.as_str())
            .push_bind(r.row.id);
    });
    qb.build().execute(conn).await.map(|_| ())
}

/// The timeout message of each order, in the outbox (see `timeouts::outbox`).
pub async fn insert_outbox(
    conn: &mut MySqlConnection,
    records: &[&OrderRecord],
) -> sqlx::Result<()> {
    let payloads = records
        .iter()
        .map(|r| serde_json::to_string(&r.message))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO chat_order_outbox (id, order_id, kind, payload, deliver_at) ",
    );
    qb.push_values(records.iter().zip(payloads), |mut b, (r, payload)| {
        b.push_bind(r.outbox_id)
            .push_bind(r.message.order_id)
            .push_bind(r.message.kind.as_str())
            .push_bind(payload)
            .push_bind(r.message.expire_at.naive_utc());
    });
    qb.build().execute(conn).await.map(|_| ())
}

/// Which of these orders are in the database.
pub async fn existing_orders(
    db: impl MySqlExecutor<'_>,
    ids: &[i64],
) -> sqlx::Result<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut qb = QueryBuilder::<MySql>::new("SELECT id FROM chat_order WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let found: Vec<i64> = qb.build_query_scalar().fetch_all(db).await?;
    Ok(found.into_iter().collect())
}

#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn insert_history(
    conn: &mut MySqlConnection,
    id: i64,
    user_id: i64,
    order_id: i64,
    order_status: OrderStatus,
    pay_status: PayStatus,
    amount: Decimal,
    remark: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_order_history (id, user_id, order_id, order_status, pay_status, \
         total_amount, pay_amount, remark) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(user_id)
    .bind(order_id)
    .bind(order_status)
    .bind(pay_status)
    .bind(amount)
    .bind(amount)
    .bind(remark)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Closes an unpaid order; false when it was not unpaid any more.
pub async fn mark_closed(conn: &mut MySqlConnection, order_id: i64) -> sqlx::Result<bool> {
    let [awaiting_payment, awaiting_confirmation] = OrderStatus::UNPAID;
    let done = sqlx::query("UPDATE chat_order SET status = ? WHERE id = ? AND status IN (?, ?)")
        .bind(OrderStatus::Closed)
        .bind(order_id)
        .bind(awaiting_payment)
        .bind(awaiting_confirmation)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Unpaid orders past their window (plus `grace_secs`), oldest first.
pub async fn overdue(
    db: impl MySqlExecutor<'_>,
    grace_secs: u64,
    limit: u32,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM chat_order WHERE status IN (?, ?) \
         AND expire_time < UTC_TIMESTAMP(3) - INTERVAL ? SECOND ORDER BY expire_time LIMIT ?",
    )
    .bind(OrderStatus::UNPAID[0])
    .bind(OrderStatus::UNPAID[1])
    .bind(grace_secs)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The valid QR codes of several unpaid orders (for the `order` JSON).
pub async fn current_qrs(
    db: impl MySqlExecutor<'_>,
    order_ids: &[i64],
    now: NaiveDateTime,
) -> sqlx::Result<HashMap<i64, String>> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut qb = QueryBuilder::new(
        "SELECT h.order_id, h.pay_qr_code FROM chat_order_history h \
         JOIN chat_order o ON o.id = h.order_id AND o.status IN (",
    );
    qb.push_bind(OrderStatus::UNPAID[0])
        .push(", ")
        .push_bind(OrderStatus::UNPAID[1])
        .push(
            ") WHERE h.pay_attempt IS NOT NULL AND h.pay_qr_code IS NOT NULL \
             AND h.qr_expire_time > ",
        )
        .push_bind(now)
        .push(" AND h.order_id IN (");
    let mut sep = qb.separated(", ");
    for id in order_ids {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY h.pay_attempt");
    let rows: Vec<(i64, String)> = qb.build_query_as().fetch_all(db).await?;
    // Later attempts come last and win.
    Ok(rows.into_iter().collect())
}

/// The buyer of each of these orders.
pub async fn owners(db: impl MySqlExecutor<'_>, ids: &[i64]) -> sqlx::Result<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut qb = QueryBuilder::new("SELECT id, user_id FROM chat_order WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let rows: Vec<(i64, i64)> = qb.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().collect())
}

/// The user an email address is bound to.
pub async fn user_by_email(db: impl MySqlExecutor<'_>, email: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT b.user_id FROM chat_user_binding_email e \
         JOIN chat_user_binding b ON b.user_binding_email_id = e.id \
         WHERE e.username = ? ORDER BY b.id LIMIT 1",
    )
    .bind(email.to_lowercase())
    .fetch_optional(db)
    .await
}
