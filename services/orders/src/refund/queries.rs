//! The refund's SQL: the order and its codes locked, the trade that paid it,
//! and the writes once Alipay gave the money back.

use rust_decimal::Decimal;
use sqlx::{MySqlConnection, QueryBuilder};

use crate::states::{CodeStatus, OrderStatus, PayStatus};

#[derive(Debug, sqlx::FromRow)]
pub struct LockedOrder {
    pub user_id: i64,
    pub status: i8,
}

/// The order, locked for the transaction: a second refund of it waits here
/// and then finds it refunded.
pub async fn lock_order(
    conn: &mut MySqlConnection,
    order_id: i64,
) -> sqlx::Result<Option<LockedOrder>> {
    sqlx::query_as(
        "SELECT user_id, status FROM chat_order WHERE id = ? AND is_deleted = 0 FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct OrderCode {
    pub id: i64,
    pub is_used: bool,
    pub status: i8,
}

/// The order's codes, locked: a redemption racing the refund waits for it.
pub async fn lock_codes(conn: &mut MySqlConnection, order_id: i64) -> sqlx::Result<Vec<OrderCode>> {
    sqlx::query_as(
        "SELECT id, is_used, status FROM chat_exchange WHERE order_id = ? AND is_deleted = 0 \
         ORDER BY id FOR UPDATE",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct PaidTrade {
    pub out_trade_no: String,
    pub trade_no: Option<String>,
    pub pay_amount: Decimal,
    pub pay_account: Option<String>,
}

/// The trade that paid the order.
pub async fn paid_trade(
    conn: &mut MySqlConnection,
    order_id: i64,
) -> sqlx::Result<Option<PaidTrade>> {
    sqlx::query_as(
        "SELECT out_trade_no, trade_no, pay_amount, pay_account FROM chat_order_history \
         WHERE order_id = ? AND pay_status = ? AND out_trade_no IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(order_id)
    .bind(PayStatus::Paid)
    .fetch_optional(conn)
    .await
}

/// Revokes codes (disabled; never redeemable again).
pub async fn revoke_codes(conn: &mut MySqlConnection, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::new("UPDATE chat_exchange SET status = ");
    qb.push_bind(CodeStatus::Disabled)
        .push(" WHERE is_used = 0 AND id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    qb.build().execute(conn).await.map(|_| ())
}

/// Completed → refunded; false when it was not completed.
pub async fn mark_refunded(conn: &mut MySqlConnection, order_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE chat_order SET status = ? WHERE id = ? AND status = ?")
        .bind(OrderStatus::Refunded)
        .bind(order_id)
        .bind(OrderStatus::Completed)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
