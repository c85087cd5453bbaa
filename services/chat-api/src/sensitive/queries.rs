//! SQL of the sensitive-word list.

use chrono::{DateTime, Utc};
use sqlx::MySqlConnection;

#[derive(Debug, sqlx::FromRow)]
pub struct WordRow {
    pub id: i64,
    pub word: String,
    pub status: i32,
    pub create_time: DateTime<Utc>,
}

pub async fn enabled_words(conn: &mut MySqlConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT word FROM chat_sensitive_word WHERE is_deleted = 0 AND status = 1")
        .fetch_all(conn)
        .await
}

pub async fn page(
    conn: &mut MySqlConnection,
    before_id: Option<i64>,
    limit: u32,
) -> sqlx::Result<Vec<WordRow>> {
    sqlx::query_as(
        "SELECT id, word, status, create_time FROM chat_sensitive_word \
         WHERE is_deleted = 0 AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
    )
    .bind(before_id)
    .bind(before_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn exists(conn: &mut MySqlConnection, word: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM chat_sensitive_word WHERE is_deleted = 0 AND word = ? LIMIT 1",
    )
    .bind(word)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn insert(conn: &mut MySqlConnection, id: i64, word: &str) -> sqlx::Result<WordRow> {
    sqlx::query(
        "INSERT INTO chat_sensitive_word (id, word, status, is_deleted) VALUES (?, ?, 1, 0)",
    )
    .bind(id)
    .bind(word)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as("SELECT id, word, status, create_time FROM chat_sensitive_word WHERE id = ?")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Soft delete; false when there was no such live word.
pub async fn soft_delete(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE chat_sensitive_word SET is_deleted = 1 WHERE id = ? AND is_deleted = 0",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
