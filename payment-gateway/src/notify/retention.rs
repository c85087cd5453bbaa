//! Deletes stored notifies past `notify_retention_days`, so the notify log does
//! not grow forever. Deletes go in small batches: each holds its row locks only
//! briefly while notifies keep arriving.

use std::time::Duration;

use sqlx::MySqlPool;

const BATCH: u32 = 1000;
const EVERY: Duration = Duration::from_secs(3600);

/// Deletes every notify stored more than `days` days ago; returns how many.
pub async fn run_once(db: &MySqlPool, days: u32) -> sqlx::Result<u64> {
    let mut deleted = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM pay_alipay_notify WHERE create_time < NOW(3) - INTERVAL ? DAY LIMIT ?",
        )
        .bind(days)
        .bind(BATCH)
        .execute(db)
        .await?
        .rows_affected();
        deleted += n;
        if n < u64::from(BATCH) {
            return Ok(deleted);
        }
    }
}

/// Runs [`run_once`] at start and then hourly, for as long as the service runs.
/// A failed pass is logged and tried again at the next one.
pub async fn run(db: MySqlPool, days: u32) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match run_once(&db, days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, days, "old notifies deleted"),
            Err(e) => tracing::warn!(error = %e, "could not delete old notifies"),
        }
    }
}
