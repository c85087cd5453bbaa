//! The SQL of provider bindings: `chat_user_binding_oauth` rows, bound to a
//! user through `chat_user_binding` (`binding_type = 'oauth'`).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, MySqlExecutor};

/// The user bound to this account at the provider.
pub async fn find_bound_user<'c>(
    db: impl MySqlExecutor<'c>,
    provider: &str,
    subject: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT b.user_id FROM chat_user_binding_oauth o \
         JOIN chat_user_binding b ON b.user_binding_oauth_id = o.id \
         WHERE o.provider = ? AND o.subject = ?",
    )
    .bind(provider)
    .bind(subject)
    .fetch_optional(db)
    .await
}

pub async fn insert_oauth<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    provider: &str,
    subject: &str,
    email: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_user_binding_oauth (id, provider, subject, email) VALUES (?, ?, ?, ?)",
    )
    .bind(id)
    .bind(provider)
    .bind(subject)
    .bind(email)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn insert_binding<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    oauth_id: i64,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_user_binding (id, binding_type, user_binding_oauth_id, user_id) \
         VALUES (?, 'oauth', ?, ?)",
    )
    .bind(id)
    .bind(oauth_id)
    .bind(user_id)
    .execute(db)
    .await
    .map(|_| ())
}

#[derive(Debug, FromRow)]
pub struct BindingRow {
    pub oauth_id: i64,
    pub provider: String,
    pub email: Option<String>,
    pub create_time: DateTime<Utc>,
}

macro_rules! bindings_sql {
    () => {
        "SELECT o.id AS oauth_id, o.provider, o.email, b.create_time \
         FROM chat_user_binding b JOIN chat_user_binding_oauth o ON o.id = b.user_binding_oauth_id \
         WHERE b.user_id = ? AND b.binding_type = 'oauth' ORDER BY b.create_time, o.id"
    };
}

pub async fn list_bindings<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Vec<BindingRow>, sqlx::Error> {
    sqlx::query_as::<_, BindingRow>(bindings_sql!())
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// As [`list_bindings`], locking the rows until the transaction ends.
pub async fn lock_bindings<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Vec<BindingRow>, sqlx::Error> {
    sqlx::query_as::<_, BindingRow>(concat!(bindings_sql!(), " FOR UPDATE"))
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// Whether the user's email identity has a password (a way in of its own).
pub async fn has_password<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<bool> = sqlx::query_scalar(
        "SELECT e.password <> '' FROM chat_user_binding b \
         JOIN chat_user_binding_email e ON e.id = b.user_binding_email_id \
         WHERE b.user_id = ? AND b.binding_type = 'email'",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(found.unwrap_or(false))
}

pub async fn delete_binding<'c>(
    db: impl MySqlExecutor<'c>,
    oauth_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE b, o FROM chat_user_binding b JOIN chat_user_binding_oauth o \
         ON o.id = b.user_binding_oauth_id WHERE o.id = ?",
    )
    .bind(oauth_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// A sign-in through a provider, in the login log.
pub async fn insert_login_log<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    user_id: i64,
    provider: &str,
    ip: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_user_login_log (id, user_id, login_type, user_binding_email_id, login_ip, \
         login_status, message) VALUES (?, ?, 'oauth', NULL, ?, 1, ?)",
    )
    .bind(id)
    .bind(user_id)
    .bind(ip)
    .bind(format!("success via {provider}"))
    .execute(db)
    .await
    .map(|_| ())
}
