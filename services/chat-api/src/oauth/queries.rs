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
