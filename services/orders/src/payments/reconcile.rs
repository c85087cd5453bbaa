//! Reconciliation: orders awaiting confirmation whose QR code is older than
//! `reconcile_after_secs` are looked up at Alipay, and those it reports paid
//! are fulfilled — the notify may have been lost.

use std::time::Duration;

use super::fulfil::{Fulfilled, settle_paid};
use super::queries;
use crate::state::AppState;

/// Runs for the life of the process.
pub async fn run(state: AppState) {
    let interval = Duration::from_secs(state.config.payments.reconcile_interval_secs);
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = reconcile(&state).await {
            tracing::warn!(error = format!("{e:#}"), "payment reconciliation failed");
        }
    }
}

/// One pass; returns how many orders it completed.
pub async fn reconcile(state: &AppState) -> anyhow::Result<usize> {
    let age = state.config.payments.reconcile_after_secs;
    let mut completed = 0;
    for order_id in queries::to_reconcile(&state.db, age, 200).await? {
        match settle_paid(state, order_id).await {
            Ok(Some(Fulfilled::Now)) => {
                completed += 1;
                tracing::warn!(
                    order_id,
                    "order paid at Alipay without a notify; fulfilled by reconciliation"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(
                order_id,
                error = format!("{e:#}"),
                "could not reconcile an order"
            ),
        }
    }
    if completed > 0 {
        metrics::counter!("orders_reconciled_total").increment(completed as u64);
    }
    Ok(completed)
}
