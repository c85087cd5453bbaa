//! SQL of the upstream keys and models.

use chrono::{DateTime, Utc};
use sqlx::MySqlConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub label: String,
    pub fingerprint: String,
    pub masked: String,
    pub enabled: bool,
    pub last_error: Option<String>,
    pub last_error_time: Option<DateTime<Utc>>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// The columns of a [`KeyRow`], for `concat!`.
macro_rules! key_columns {
    () => {
        "SELECT id, label, fingerprint, masked, enabled, last_error, last_error_time, \
         create_time, update_time FROM llm_key "
    };
}

pub struct NewKey<'a> {
    pub id: i64,
    pub label: &'a str,
    pub sealed: &'a [u8],
    pub fingerprint: &'a str,
    pub masked: &'a str,
    pub enabled: bool,
}

/// Whether any key was ever stored (deleted ones count: the configuration's
/// keys are imported once, not again after the console removed them all).
pub async fn any_key_ever(conn: &mut MySqlConnection) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM llm_key LIMIT 1")
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Inserts a key; false when a live key with that fingerprint exists.
pub async fn insert_key(conn: &mut MySqlConnection, key: &NewKey<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT IGNORE INTO llm_key (id, label, secret_sealed, fingerprint, masked, enabled) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(key.id)
    .bind(key.label)
    .bind(key.sealed)
    .bind(key.fingerprint)
    .bind(key.masked)
    .bind(key.enabled)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The keys the relay uses: enabled, not deleted, sealed; oldest first.
pub async fn usable_keys(conn: &mut MySqlConnection) -> sqlx::Result<Vec<(i64, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT id, secret_sealed FROM llm_key WHERE is_deleted = 0 AND enabled = 1 ORDER BY id",
    )
    .fetch_all(conn)
    .await
}

pub async fn sealed_secret(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT secret_sealed FROM llm_key WHERE id = ? AND is_deleted = 0")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn key_rows(conn: &mut MySqlConnection) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as(concat!(key_columns!(), "WHERE is_deleted = 0 ORDER BY id"))
        .fetch_all(conn)
        .await
}

/// The live key `id`, locked for the caller's transaction.
pub async fn lock_key(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as(concat!(
        key_columns!(),
        "WHERE id = ? AND is_deleted = 0 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn find_key(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as(concat!(key_columns!(), "WHERE id = ? AND is_deleted = 0"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_label_enabled(
    conn: &mut MySqlConnection,
    id: i64,
    label: &str,
    enabled: bool,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE llm_key SET label = ?, enabled = ? WHERE id = ?")
        .bind(label)
        .bind(enabled)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the secret; false when another live key already is this one.
pub async fn replace_secret(
    conn: &mut MySqlConnection,
    id: i64,
    sealed: &[u8],
    fingerprint: &str,
    masked: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE IGNORE llm_key SET secret_sealed = ?, fingerprint = ?, masked = ?, \
         last_error = NULL, last_error_time = NULL WHERE id = ?",
    )
    .bind(sealed)
    .bind(fingerprint)
    .bind(masked)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn soft_delete(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE llm_key SET is_deleted = 1, enabled = 0 WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Remembers why the upstream refused the live key with this fingerprint.
pub async fn set_last_error(
    conn: &mut MySqlConnection,
    fingerprint: &str,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE llm_key SET last_error = ?, \
         last_error_time = IF(? IS NULL, NULL, CURRENT_TIMESTAMP(3)) \
         WHERE live_fingerprint = ?",
    )
    .bind(error)
    .bind(error)
    .bind(fingerprint)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModelRow {
    pub name: String,
    pub enabled: bool,
    pub update_time: DateTime<Utc>,
}

/// Gives every configured model a row (enabled) unless it has one.
pub async fn add_models(conn: &mut MySqlConnection, names: &[&str]) -> sqlx::Result<()> {
    for name in names {
        sqlx::query("INSERT IGNORE INTO llm_model (name, enabled) VALUES (?, 1)")
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn model_rows(conn: &mut MySqlConnection) -> sqlx::Result<Vec<ModelRow>> {
    sqlx::query_as("SELECT name, enabled, update_time FROM llm_model")
        .fetch_all(conn)
        .await
}

pub async fn lock_model(conn: &mut MySqlConnection, name: &str) -> sqlx::Result<Option<ModelRow>> {
    sqlx::query_as("SELECT name, enabled, update_time FROM llm_model WHERE name = ? FOR UPDATE")
        .bind(name)
        .fetch_optional(conn)
        .await
}

pub async fn set_model_enabled(
    conn: &mut MySqlConnection,
    name: &str,
    enabled: bool,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE llm_model SET enabled = ? WHERE name = ?")
        .bind(enabled)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}
