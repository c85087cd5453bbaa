//! Payment events whose fulfilment kept failing (codes disabled by hand, a
//! database outage that outlasted the consumer's retries): the consumer parks
//! them in `chat_payment_failure` before it acks them, and a periodic job
//! fulfils the unresolved ones again until they are fulfilled or refunded.
//! Fulfilment is idempotent, so several copies of the service running the job
//! at once cost lookups, never a second fulfilment.

use std::time::Duration;

use sqlx::MySqlExecutor;

use super::{Fulfilled, Payment, fulfil};
use crate::state::AppState;

/// Rows tried per pass; the rest wait for the next one.
const BATCH: u32 = 100;

/// Parks an event durably. A later failure of the same trade (a redelivery)
/// updates its row and opens it again instead of adding a second one.
pub async fn park(
    db: impl MySqlExecutor<'_>,
    id: i64,
    payment: &Payment,
    payload: &[u8],
    error: &str,
    attempts: u32,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_payment_failure \
         (id, order_id, out_trade_no, event_payload, error_message, attempts) \
         VALUES (?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE event_payload = VALUES(event_payload), \
         error_message = VALUES(error_message), attempts = attempts + VALUES(attempts), \
         resolved = ?, resolved_time = NULL",
    )
    .bind(id)
    .bind(payment.order_id)
    .bind(&payment.out_trade_no)
    .bind(String::from_utf8_lossy(payload).into_owned())
    .bind(error)
    .bind(attempts)
    .bind(false)
    .execute(db)
    .await
    .map(|_| ())
}

/// Runs for the life of the process.
pub async fn run(state: AppState) {
    let interval = Duration::from_secs(state.config.orders.fulfilment_retry_interval_secs);
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = retry_parked(&state).await {
            tracing::warn!(error = format!("{e:#}"), "fulfilment retry pass failed");
        }
    }
}

/// One pass over the unresolved parked events; returns how many it resolved.
pub async fn retry_parked(state: &AppState) -> anyhow::Result<usize> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, event_payload FROM chat_payment_failure WHERE resolved = ? ORDER BY id LIMIT ?",
    )
    .bind(false)
    .bind(BATCH)
    .fetch_all(&state.db)
    .await?;
    let mut resolved = 0;
    for (id, payload) in rows {
        // It was read once before it was parked, so this cannot fail unless
        // the row was edited by hand; the row stays open for an operator.
        let outcome = match crate::payments::consumer::parse(payload.as_bytes()) {
            Ok(payment) => fulfil(state, &payment).await.map_err(|e| format!("{e:#}")),
            Err(e) => Err(format!("unreadable parked event: {e}")),
        };
        match outcome {
            Ok(outcome) => {
                sqlx::query(
                    "UPDATE chat_payment_failure SET resolved = ?, \
                     resolved_time = UTC_TIMESTAMP(3), attempts = attempts + 1 WHERE id = ?",
                )
                .bind(true)
                .bind(id)
                .execute(&state.db)
                .await?;
                resolved += 1;
                if outcome == Fulfilled::Now {
                    tracing::warn!(failure_id = id, "parked payment event fulfilled on retry");
                }
            }
            Err(error) => {
                tracing::warn!(failure_id = id, error, "parked payment event failed again");
                sqlx::query(
                    "UPDATE chat_payment_failure SET error_message = ?, attempts = attempts + 1 \
                     WHERE id = ?",
                )
                .bind(error)
                .bind(id)
                .execute(&state.db)
                .await?;
            }
        }
    }
    if resolved > 0 {
        metrics::counter!("payment_failures_resolved_total").increment(resolved as u64);
    }
    Ok(resolved)
}
