//! Order timeouts: the outbox relay publishes "close order N if still unpaid"
//! messages to RabbitMQ, the consumer acts on them when they come due, and a
//! sweeper closes overdue orders whose message was lost.

pub mod consumer;
pub mod outbox;

use std::time::Duration;

use chrono::Utc;

use crate::orders::close::Closed;
use crate::orders::queries;
use crate::orders::timeout_message::TimeoutMessage;
use crate::payments::settle::{Settled, settle_with_payment};
use crate::state::AppState;

/// A due timeout message.
pub async fn on_timeout(state: &AppState, message: &TimeoutMessage) -> anyhow::Result<()> {
    let order_id = message.order_id;
    let Some(order) = queries::find(&state.db, order_id).await? else {
        tracing::warn!(order_id, "timeout for an unknown order ignored");
        return Ok(());
    };
    if !order.status().is_unpaid() {
        return Ok(());
    }
    // A message early by more than clock skew (the window was changed): leave
    // the order to the sweeper rather than cut its window short.
    if order.expire_time.and_utc() > Utc::now() + chrono::Duration::seconds(2) {
        tracing::info!(
            order_id,
            "timeout message arrived before the window ended; left to the sweeper"
        );
        return Ok(());
    }
    settle_with_payment(state, order_id, "payment window expired").await?;
    Ok(())
}

/// Runs for the life of the process.
pub async fn sweeper(state: AppState) {
    let interval = Duration::from_secs(state.config.orders.sweeper_interval_secs);
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = format!("{e:#}"), "sweeper run failed");
        }
    }
}

/// Closes unpaid orders past their window (and the grace period).
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let overdue = queries::overdue(&state.db, state.config.orders.sweeper_grace_secs, 200).await?;
    let mut closed = 0;
    for order_id in overdue {
        match settle_with_payment(state, order_id, "payment window expired (sweeper)").await {
            Ok(Settled::Closed(Closed::Now)) => {
                closed += 1;
                tracing::warn!(
                    order_id,
                    "sweeper closed an overdue order its timeout message missed"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(
                order_id,
                error = format!("{e:#}"),
                "sweeper could not settle an order"
            ),
        }
    }
    if closed > 0 {
        metrics::counter!("orders_swept_total").increment(closed as u64);
    }
    Ok(closed)
}
