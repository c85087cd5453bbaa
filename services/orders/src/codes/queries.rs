//! Redemption code SQL: new codes, the codes a user owns, and the
//! redemption's reads and writes (the code row, the user's chat times, the
//! redemption record).

use paychat_common::ids::IdGenerator;
use sqlx::{MySql, MySqlConnection, MySqlExecutor, QueryBuilder};

use super::code::RedemptionCode;
use super::types::{CodeBatch, CodeRow, OwnedRow};

/// Up to `limit` codes `user_id` owns with ids below `before`, newest first.
pub async fn owned(
    db: impl MySqlExecutor<'_>,
    user_id: i64,
    before: i64,
    limit: u32,
) -> sqlx::Result<Vec<OwnedRow>> {
    sqlx::query_as(
        "SELECT id, code, name, reward_use_times, price, is_used, activation_time, expires_days \
         FROM chat_exchange WHERE owner_user_id = ? AND is_deleted = 0 AND id < ? \
         ORDER BY id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The code and the status of the order that sold it, locked: concurrent
/// redemptions of one code take turns, and the second sees it used.
pub async fn lock_code(conn: &mut MySqlConnection, code: &str) -> sqlx::Result<Option<CodeRow>> {
    sqlx::query_as(
        "SELECT e.id, e.code, e.reward_use_times, e.is_used, e.is_occupied, e.status, e.is_deleted, \
         e.owner_user_id, e.activation_time, e.expires_days, o.status AS order_status \
         FROM chat_exchange e LEFT JOIN chat_order o ON o.id = e.order_id \
         WHERE e.code = ? FOR UPDATE",
    )
    .bind(code)
    .fetch_optional(conn)
    .await
}

/// Used from now; its life starts now unless it started when it was sold.
pub async fn mark_used(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_exchange SET is_used = 1, activation_time = COALESCE(activation_time, UTC_TIMESTAMP(3)) \
         WHERE id = ? AND is_used = 0",
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Adds chat times to the user; false when there is no such user.
pub async fn add_times(conn: &mut MySqlConnection, user_id: i64, times: i32) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + ? WHERE id = ?",
    )
    .bind(times)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's chat times.
pub async fn times(conn: &mut MySqlConnection, user_id: i64) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
        .bind(user_id)
        .fetch_one(conn)
        .await
}

/// The redemption's record.
pub async fn insert_record(
    conn: &mut MySqlConnection,
    id: i64,
    user_id: i64,
    exchange_id: i64,
    code: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_user_exchange_record (id, user_id, exchange_id, code) VALUES (?, ?, ?, ?)",
    )
    .bind(id)
    .bind(user_id)
    .bind(exchange_id)
    .bind(code)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Fresh codes of a product, in one multi-row insert.
pub async fn insert_codes(
    conn: &mut MySqlConnection,
    ids: &IdGenerator,
    batch: &CodeBatch<'_>,
    codes: &[RedemptionCode],
) -> sqlx::Result<()> {
    let mut qb: QueryBuilder<MySql> = QueryBuilder::new(
        "INSERT INTO chat_exchange (id, product_id, name, code, reward_use_times, price, expires_days) ",
    );
    qb.push_values(codes, |mut row, code| {
        row.push_bind(ids.next())
            .push_bind(batch.product_id)
            .push_bind(batch.name)
            .push_bind(code.as_str())
            .push_bind(batch.reward_use_times)
            .push_bind(batch.price)
            .push_bind(batch.expires_days);
    });
    qb.build().execute(conn).await.map(|_| ())
}
