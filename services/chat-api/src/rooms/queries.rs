//! SQL of rooms and their messages.

use chrono::{DateTime, Utc};
use sqlx::MySqlConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub title: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub message_id: String,
    pub parent_message_id: Option<String>,
    pub message_type: i32,
    pub content: String,
    pub status: i32,
    pub model_name: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub total_tokens: Option<i64>,
    pub create_time: DateTime<Utc>,
}

/// A live room of this user.
pub async fn find(
    conn: &mut MySqlConnection,
    user_id: i64,
    room_id: i64,
) -> sqlx::Result<Option<RoomRow>> {
    sqlx::query_as(
        "SELECT id, title, create_time, update_time FROM chat_room \
         WHERE id = ? AND user_id = ? AND is_deleted = 0",
    )
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Newest activity first; the cursor is the last row's (update_time, id).
/// With `title_has`, only rooms whose title contains it (case ignored, as
/// the column's collation compares).
pub async fn page(
    conn: &mut MySqlConnection,
    user_id: i64,
    title_has: Option<&str>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: u32,
) -> sqlx::Result<Vec<RoomRow>> {
    let (time, id) = after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
    let pattern = title_has.map(|text| format!("%{}%", escape_like(text)));
    sqlx::query_as(
        "SELECT id, title, create_time, update_time FROM chat_room \
         WHERE user_id = ? AND is_deleted = 0 \
           AND (? IS NULL OR title LIKE ? ESCAPE '!') \
           AND (? IS NULL OR update_time < ? OR (update_time = ? AND id < ?)) \
         ORDER BY update_time DESC, id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(&pattern)
    .bind(&pattern)
    .bind(time)
    .bind(time)
    .bind(time)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// `text` as a LIKE pattern matching it literally (`!` escapes).
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

pub async fn rename(
    conn: &mut MySqlConnection,
    user_id: i64,
    room_id: i64,
    title: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE chat_room SET title = ?, update_time = CURRENT_TIMESTAMP(3) \
         WHERE id = ? AND user_id = ? AND is_deleted = 0",
    )
    .bind(title)
    .bind(room_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn soft_delete(
    conn: &mut MySqlConnection,
    user_id: i64,
    room_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE chat_room SET is_deleted = 1 WHERE id = ? AND user_id = ? AND is_deleted = 0",
    )
    .bind(room_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Oldest first, after the message with row id `after`.
pub async fn messages(
    conn: &mut MySqlConnection,
    room_id: i64,
    after: Option<i64>,
    limit: u32,
) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as(
        "SELECT id, message_id, parent_message_id, message_type, content, status, model_name, \
                prompt_tokens, completion_tokens, total_tokens, create_time \
         FROM chat_message WHERE chat_room_id = ? AND is_hide = 0 AND (? IS NULL OR id > ?) \
         ORDER BY id ASC LIMIT ?",
    )
    .bind(room_id)
    .bind(after)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}
