//! The sweeper: closes unpaid orders past their window whose timeout message
//! was lost, so a lost broker message never leaves stock locked.

use std::time::Duration;

use crate::orders::close::Closed;
use crate::orders::queries;
use crate::payments::settle::{Settled, settle_with_payment};
use crate::state::AppState;

/// Runs for the life of the process.
pub async fn run(state: AppState) {
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
