//! The SQL of avatars: `chat_user.avatar_version` (0: none yet).

use sqlx::MySqlExecutor;

pub async fn version<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT avatar_version FROM chat_user WHERE id = ?")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Moves the version from `from` to `from + 1`; false when another upload
/// moved it first.
pub async fn bump<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    from: i32,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE chat_user SET avatar_version = avatar_version + 1 \
         WHERE id = ? AND avatar_version = ?",
    )
    .bind(user_id)
    .bind(from)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
