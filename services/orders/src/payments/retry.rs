//! Payment events whose fulfilment kept failing (codes disabled by hand, a
//! database outage that outlasted the consumer's retries): the consumer parks
//! them in `chat_payment_failure` before it acks them, and a periodic job
//! fulfils the unresolved ones again until they are fulfilled or refunded.
//! Fulfilment is idempotent, so several copies of the service running the job
//! at once cost lookups, never a second fulfilment.

use std::time::Duration;

use super::fulfil::{Fulfilled, fulfil};
use super::queries;
use crate::state::AppState;

/// Rows tried per pass; the rest wait for the next one.
const BATCH: u32 = 100;

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
    let rows = queries::parked(&state.db, BATCH).await?;
    let mut resolved = 0;
    for (id, payload) in rows {
        // It was read once before it was parked, so this cannot fail unless
        // the row was edited by hand; the row stays open for an operator.
        let outcome = match super::consumer::parse(payload.as_bytes()) {
            Ok(payment) => fulfil(state, &payment).await.map_err(|e| format!("{e:#}")),
            Err(e) => Err(format!("unreadable parked event: {e}")),
        };
        match outcome {
            Ok(outcome) => {
                queries::resolve_parked(&state.db, id).await?;
                resolved += 1;
                if outcome == Fulfilled::Now {
                    tracing::warn!(failure_id = id, "parked payment event fulfilled on retry");
                }
            }
            Err(error) => {
                tracing::warn!(failure_id = id, error, "parked payment event failed again");
                queries::parked_failed_again(&state.db, id, &error).await?;
            }
        }
    }
    if resolved > 0 {
        metrics::counter!("payment_failures_resolved_total").increment(resolved as u64);
    }
    Ok(resolved)
}
