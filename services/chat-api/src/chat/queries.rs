//! SQL of the chat relay: chat times, the parent chain, and closing an answer
//! (the group-committed writes are in `super::writer`).

use sqlx::MySqlConnection;

use super::types::{ANSWER, MessageStatus};

/// Gives back the time of an exchange that was recorded (its answer row stands
/// for it); the caller's conditional close of that row makes it happen once.
pub async fn give_chat_time_back(conn: &mut MySqlConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + 1 WHERE id = ?",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives back a time still held (taken, its exchange never recorded); false
/// when the user holds none, because the stale-hold sweep already gave it back.
pub async fn give_held_time_back(conn: &mut MySqlConnection, user_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + 1, \
         chat_times_held = chat_times_held - 1 WHERE id = ? AND chat_times_held > 0",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn chat_times(conn: &mut MySqlConnection, user_id: i64) -> sqlx::Result<i64> {
    let times: Option<i32> =
        sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(times.map_or(0, i64::from))
}

#[derive(Debug, sqlx::FromRow)]
pub struct ChainRow {
    pub chat_room_id: i64,
    pub parent_message_id: Option<String>,
    pub message_type: i32,
    pub content: String,
}

/// The live room of this user that holds `message_id`, if any.
pub async fn room_of_message(
    conn: &mut MySqlConnection,
    user_id: i64,
    message_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT m.chat_room_id FROM chat_message m \
         JOIN chat_room r ON r.id = m.chat_room_id AND r.user_id = m.user_id AND r.is_deleted = 0 \
         WHERE m.message_id = ? AND m.user_id = ?",
    )
    .bind(message_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Whether the room is a live room of this user (outer `None` when not), and
/// its latest answer: where a question without a parent continues.
pub async fn room_tail(
    conn: &mut MySqlConnection,
    user_id: i64,
    room_id: i64,
) -> sqlx::Result<Option<Option<String>>> {
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT r.id, (SELECT m.message_id FROM chat_message m \
           WHERE m.chat_room_id = r.id AND m.message_type = ? ORDER BY m.id DESC LIMIT 1) \
         FROM chat_room r WHERE r.id = ? AND r.user_id = ? AND r.is_deleted = 0",
    )
    .bind(ANSWER)
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(_, tail)| tail))
}

/// The parent chain from `start` upwards (`start` first), at most `limit`
/// messages of this user, in one round trip.
pub async fn chain(
    conn: &mut MySqlConnection,
    user_id: i64,
    start: &str,
    limit: u32,
) -> sqlx::Result<Vec<ChainRow>> {
    sqlx::query_as(
        "WITH RECURSIVE chain (chat_room_id, parent_message_id, message_type, content, depth) AS ( \
           SELECT chat_room_id, parent_message_id, message_type, content, CAST(0 AS SIGNED) \
           FROM chat_message WHERE message_id = ? AND user_id = ? \
           UNION ALL \
           SELECT m.chat_room_id, m.parent_message_id, m.message_type, m.content, c.depth + 1 \
           FROM chain c JOIN chat_message m ON m.message_id = c.parent_message_id AND m.user_id = ? \
           WHERE c.depth + 1 < ? \
         ) SELECT chat_room_id, parent_message_id, message_type, content FROM chain ORDER BY depth",
    )
    .bind(start)
    .bind(user_id)
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Everything known about an exchange when its stream starts.
#[derive(Debug)]
pub struct NewExchange {
    pub user_id: i64,
    pub room_id: i64,
    /// Set when the room is created by this exchange.
    pub new_room_title: Option<String>,
    pub question_id: i64,
    pub answer_id: i64,
    pub parent_message_id: Option<String>,
    pub prompt: String,
    pub model: String,
    pub key_fingerprint: String,
    pub ip: String,
    pub context_count: i64,
}

pub const API_TYPE: &str = "openai";

/// How the answer ended.
#[derive(Debug)]
pub struct Finished<'a> {
    pub answer_id: i64,
    pub content: &'a str,
    pub status: MessageStatus,
    pub error_data: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// Closes a streaming answer. Returns false when it was already closed, which
/// keeps a give-back of the chat time to exactly once.
pub async fn finish_answer(conn: &mut MySqlConnection, f: &Finished<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE chat_message SET content = ?, status = ?, response_error_data = ?, \
         prompt_tokens = ?, completion_tokens = ?, total_tokens = ? \
         WHERE id = ? AND status = ?",
    )
    .bind(f.content)
    .bind(f.status.code())
    .bind(&f.error_data)
    .bind(f.prompt_tokens)
    .bind(f.completion_tokens)
    .bind(f.prompt_tokens + f.completion_tokens)
    .bind(f.answer_id)
    .bind(MessageStatus::Streaming.code())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
