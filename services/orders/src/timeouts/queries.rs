//! Timeout SQL: the outbox rows the relay publishes, and the record of
//! timeout messages that could not be processed.

use sqlx::{MySqlExecutor, QueryBuilder};

use crate::states::OutboxStatus;

/// Up to `limit` pending rows that are due: (id, payload).
pub async fn due_rows(db: impl MySqlExecutor<'_>, limit: u32) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, payload FROM chat_order_outbox \
         WHERE status = ? AND next_attempt_time <= UTC_TIMESTAMP(3) ORDER BY id LIMIT ?",
    )
    .bind(OutboxStatus::Pending)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Rows the broker confirmed.
pub async fn mark_sent(db: impl MySqlExecutor<'_>, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::new("UPDATE chat_order_outbox SET status = ");
    qb.push_bind(OutboxStatus::Sent)
        .push(", sent_time = UTC_TIMESTAMP(3), attempts = attempts + 1 WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    qb.build().execute(db).await.map(|_| ())
}

/// A row that cannot be read: parked, never published.
pub async fn mark_parked(db: impl MySqlExecutor<'_>, id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_order_outbox SET status = ?, last_error = ? WHERE id = ?")
        .bind(OutboxStatus::Parked)
        .bind(error)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Rows not yet published.
pub async fn pending(db: impl MySqlExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM chat_order_outbox WHERE status = ?")
        .bind(OutboxStatus::Pending)
        .fetch_one(db)
        .await
}

/// A timeout message given up on (dead-lettered or unreadable).
pub async fn record_failure(
    db: impl MySqlExecutor<'_>,
    id: i64,
    error: &str,
    payload: &[u8],
    retries: u32,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_order_delay_failure_record (id, error_message, message_payload, retry_count) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(id)
    .bind(error)
    .bind(String::from_utf8_lossy(payload).into_owned())
    .bind(retries)
    .execute(db)
    .await
    .map(|_| ())
}
