//! The outbox: timeout messages written in the order's transaction, published
//! by the relay after commit (publisher confirms), then marked sent. Another
//! copy of the service may publish the same row twice; the consumer is
//! idempotent, so a duplicate only costs a lookup.

use std::time::Duration;

use super::queries;
use crate::orders::timeout_message::TimeoutMessage;
use crate::state::AppState;

const BATCH: u32 = 200;

/// Orders commit in bursts, each waking the relay: a short pause after a
/// wake-up lets one pass (one read, one confirm wait, one update) carry the
/// burst instead of a pass per order competing with the orders for the
/// database. The timeout messages are due minutes later, so the pause costs
/// nothing.
const COALESCE: Duration = Duration::from_millis(25);

/// Runs for the life of the process.
pub async fn relay(state: AppState) {
    let interval = Duration::from_millis(state.config.orders.outbox_interval_ms);
    loop {
        tokio::select! {
            () = state.outbox_wake.notified() => tokio::time::sleep(COALESCE).await,
            () = tokio::time::sleep(interval) => {}
        }
        loop {
            match relay_batch(&state).await {
                Ok(n) if n == BATCH as usize => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "outbox relay: broker or database unavailable; retrying"
                    );
                    state.broker.reset().await;
                    break;
                }
            }
        }
    }
}

/// Publishes one batch of pending rows; returns how many were pending.
pub async fn relay_batch(state: &AppState) -> anyhow::Result<usize> {
    let rows = queries::due_rows(&state.db, BATCH).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut confirms = Vec::with_capacity(rows.len());
    let mut poison = Vec::new();
    for (id, payload) in &rows {
        match TimeoutMessage::parse(payload.as_bytes()) {
            Ok(message) => confirms.push((
                *id,
                state
                    .broker
                    .publish_timeout(
                        &serde_json::to_vec(&message)?,
                        message.window_secs,
                        message.expire_at,
                    )
                    .await?,
            )),
            Err(e) => poison.push((*id, e)),
        }
    }
    // Publishes went out back to back; now wait for the broker's confirms.
    let mut sent = Vec::with_capacity(confirms.len());
    let mut failed = None;
    for (id, confirm) in confirms {
        match confirm.await {
            Ok(c) if c.is_ack() => sent.push(id),
            Ok(_) => failed = Some(anyhow::anyhow!("the broker nacked outbox row {id}")),
            Err(e) => failed = Some(e.into()),
        }
    }
    if !sent.is_empty() {
        queries::mark_sent(&state.db, &sent).await?;
        metrics::counter!("outbox_published_total").increment(sent.len() as u64);
    }
    for (id, error) in poison {
        // Should never happen (we wrote it); park it instead of looping on it.
        tracing::error!(outbox_id = id, error, "unreadable outbox row parked");
        queries::mark_parked(&state.db, id, &error).await?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(rows.len())
}

/// Rows not yet published (for tests and operators).
pub async fn pending(db: &sqlx::MySqlPool) -> sqlx::Result<i64> {
    queries::pending(db).await
}
