//! Answers nobody closed. A copy killed mid-stream (or whose closing
//! transaction failed, a database restart) leaves its answer `streaming` with
//! no content saved, and the chat time taken for it spent: the user paid for an
//! exchange that was never recorded. A sweep on every copy settles such answers
//! once no stream can still own them (older than a stream slot's lifetime:
//! request timeout + `chat_stream_max_secs` + 30 s): each is closed and, when it
//! holds no content, its time goes back in the same transaction. The close is
//! conditional on the answer still streaming, so the copies' sweeps and a late
//! close by its own relay settle each answer exactly once.
//!
//! A copy killed before it recorded the exchange (while waiting for the first
//! token) leaves no answer row, only the time held on the user's row (see
//! [`super::charge`]). The same sweep gives held times back once the user's
//! latest take is older than a stream's lifetime, when none of their streams
//! can still be waiting; the statement re-checks that under the row's lock, so
//! a take or a give-back racing it leaves nothing given twice.

use std::time::Duration;

use chrono::Utc;
use sqlx::MySqlPool;

use super::queries;
use super::types::{ANSWER, MessageStatus};

/// How often each copy looks for answers left streaming.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Most answers settled in one pass; the next pass takes the rest.
const BATCH: i64 = 200;

/// Runs the sweep on this copy for as long as the runtime lives.
pub fn spawn(db: MySqlPool, older_than: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match settle_stale_answers(&db, older_than).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(answers = n, "answers left streaming were settled"),
                Err(error) => {
                    tracing::warn!(error = %error, "settling answers left streaming failed; next pass retries")
                }
            }
            match settle_stale_holds(&db, older_than).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    times = n,
                    "chat times held by streams that died were given back"
                ),
                Err(error) => {
                    tracing::warn!(error = %error, "giving back stale held times failed; next pass retries")
                }
            }
        }
    });
}

/// Settles every answer still `streaming` that started more than `older_than`
/// ago; answers how many this call settled.
pub async fn settle_stale_answers(db: &MySqlPool, older_than: Duration) -> sqlx::Result<u64> {
    let cutoff = cutoff(older_than);
    let stale: Vec<(i64, i64, bool)> = sqlx::query_as(
        "SELECT id, user_id, content = '' AS empty FROM chat_message \
         WHERE message_type = ? AND status = ? AND create_time < ? ORDER BY id LIMIT ?",
    )
    .bind(ANSWER)
    .bind(MessageStatus::Streaming.code())
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    let mut settled = 0;
    for (id, user_id, empty) in stale {
        let mut tx = db.begin().await?;
        let status = if empty {
            MessageStatus::Error
        } else {
            MessageStatus::Interrupted
        };
        let closed = sqlx::query(
            "UPDATE chat_message SET status = ?, response_error_data = ? \
             WHERE id = ? AND status = ?",
        )
        .bind(status.code())
        .bind("the stream ended without being closed (its process stopped)")
        .bind(id)
        .bind(MessageStatus::Streaming.code())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if closed && empty {
            queries::give_chat_time_back(&mut tx, user_id).await?;
        }
        tx.commit().await?;
        if closed {
            settled += 1;
            if empty {
                super::charge::count_returned();
            }
        }
    }
    Ok(settled)
}

/// Gives back every chat time held longer than `older_than` since its user's
/// latest take; answers how many times this call gave back.
pub async fn settle_stale_holds(db: &MySqlPool, older_than: Duration) -> sqlx::Result<u64> {
    let cutoff = cutoff(older_than);
    let users: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM chat_user WHERE chat_times_held_at <= ? AND chat_times_held > 0 \
         ORDER BY chat_times_held_at LIMIT ?",
    )
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    let mut given = 0;
    for user_id in users {
        let mut tx = db.begin().await?;
        let held: Option<i32> = sqlx::query_scalar(
            "SELECT chat_times_held FROM chat_user \
             WHERE id = ? AND chat_times_held > 0 AND chat_times_held_at <= ? FOR UPDATE",
        )
        .bind(user_id)
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(held) = held else {
            tx.rollback().await?;
            continue;
        };
        sqlx::query(
            "UPDATE chat_user SET can_conversation_times = can_conversation_times + ?, \
             chat_times_held = 0 WHERE id = ?",
        )
        .bind(held)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::warn!(
            user_id,
            times = held,
            "held chat times given back: their streams died"
        );
        for _ in 0..held {
            super::charge::count_returned();
        }
        given += u64::try_from(held).unwrap_or(0);
    }
    Ok(given)
}

fn cutoff(older_than: Duration) -> chrono::DateTime<Utc> {
    Utc::now()
        - chrono::Duration::from_std(older_than).unwrap_or_else(|_| chrono::Duration::days(1))
}
