//! Repairs Redis from the database: available = stock − units held by unpaid
//! orders. Runs at start, every `stock_reconcile_interval_secs`, and on demand
//! (`POST /api/admin/stock/reconcile`); a missing key is also loaded on first
//! use (an order, a late payment, a product listing).
//!
//! An order being placed is reserved in Redis a moment before its row commits,
//! and a closed order's units come back a moment after; a difference seen only
//! once may be such an order in flight. So a difference is repaired only when a
//! second look, a little later, finds the same one — and then with a
//! compare-and-set, so a value that moved meanwhile is left for the next run.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};
use serde::Serialize;
use sqlx::MySqlPool;

use super::counts::Stock;
use crate::state::AppState;
use crate::states::OrderStatus;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Difference {
    #[serde(serialize_with = "crate::wire::id_string")]
    #[schema(value_type = String)]
    pub product_id: i64,
    /// What Redis held (null: nothing).
    pub redis: Option<i64>,
    /// What the database says.
    pub database: i64,
    pub repaired: bool,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub checked: usize,
    pub differences: Vec<Difference>,
}

/// Available units per live product according to the database.
pub async fn expected(db: &MySqlPool) -> anyhow::Result<HashMap<i64, i64>> {
    let products: Vec<(i64, i32)> =
        sqlx::query_as("SELECT id, stock FROM chat_product WHERE is_deleted = 0")
            .fetch_all(db)
            .await?;
    let held: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT i.product_id, CAST(SUM(i.exchange_num) AS SIGNED) FROM chat_order o \
         JOIN chat_order_item i ON i.order_id = o.id \
         WHERE o.status IN (?, ?) GROUP BY i.product_id",
    )
    .bind(OrderStatus::UNPAID[0])
    .bind(OrderStatus::UNPAID[1])
    .fetch_all(db)
    .await?;
    let held: HashMap<i64, i64> = held.into_iter().collect();
    Ok(products
        .into_iter()
        .map(|(p, stock)| (p, i64::from(stock) - held.get(&p).copied().unwrap_or(0)))
        .collect())
}

/// Loads the counts of those `product_ids` that have no key in Redis (a
/// Redis that restarted empty, an evicted key). SET NX: a count that is there
/// meanwhile is never overwritten.
pub async fn load_missing(
    db: &MySqlPool,
    stock: &Stock,
    product_ids: &[i64],
) -> anyhow::Result<()> {
    let loaded = stock.available(product_ids).await?;
    let missing: Vec<i64> = product_ids
        .iter()
        .copied()
        .filter(|p| !loaded.contains_key(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let expected = expected(db).await?;
    for product_id in missing {
        // A deleted product has no count to sell from.
        let Some(available) = expected.get(&product_id) else {
            continue;
        };
        if stock.init(product_id, (*available).max(0)).await? {
            tracing::warn!(
                product_id,
                available,
                "missing stock key loaded from the database"
            );
        }
    }
    Ok(())
}

/// Runs for the life of the process: Redis counts that drifted (a give-back
/// that failed, a writer that lost an order, stock added after a commit whose
/// Redis step failed) are repaired within one interval.
pub async fn run_periodically(db: MySqlPool, stock: Stock, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        // The second look waits a moment for orders in flight, never longer
        // than the interval itself.
        let settle = (interval / 4).min(Duration::from_millis(300));
        match run(&db, &stock, settle).await {
            Ok(report) => {
                let repaired = report.differences.iter().filter(|d| d.repaired).count();
                if repaired > 0 {
                    metrics::counter!("stock_repairs_total").increment(repaired as u64);
                }
            }
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "scheduled stock reconciliation failed"
            ),
        }
    }
}

async fn differences(
    db: &MySqlPool,
    stock: &Stock,
) -> anyhow::Result<(usize, Vec<(i64, Option<i64>, i64)>)> {
    let expected = expected(db).await?;
    let ids: Vec<i64> = expected.keys().copied().collect();
    let actual = stock.available(&ids).await?;
    let mut diffs: Vec<_> = expected
        .iter()
        .filter(|(p, want)| actual.get(p) != Some(want))
        .map(|(p, want)| (*p, actual.get(p).copied(), (*want).max(0)))
        .filter(|(_, have, want)| *have != Some(*want))
        .collect();
    diffs.sort_unstable();
    Ok((ids.len(), diffs))
}

pub async fn run(db: &MySqlPool, stock: &Stock, settle: Duration) -> anyhow::Result<Report> {
    let _guard = stock.reconcile_lock.lock().await;
    let (checked, first) = differences(db, stock).await?;
    if first.is_empty() {
        return Ok(Report {
            checked,
            differences: Vec::new(),
        });
    }
    tokio::time::sleep(settle).await;
    let (_, second) = differences(db, stock).await?;
    let mut report = Report {
        checked,
        differences: Vec::new(),
    };
    for (product_id, have, want) in second {
        // Missing keys are always safe to fill: nothing can be in flight on them.
        let stable = have.is_none() || first.contains(&(product_id, have, want));
        let repaired = stable && stock.compare_and_set(product_id, have, want).await?;
        if repaired {
            tracing::warn!(product_id, redis = ?have, database = want, "stock repaired in Redis");
        } else {
            tracing::info!(product_id, redis = ?have, database = want, "stock difference left for the next run (still moving)");
        }
        report.differences.push(Difference {
            product_id,
            redis: have,
            database: want,
            repaired,
        });
    }
    Ok(report)
}

/// Repairs Redis stock from the database; lists every difference found.
#[utoipa::path(post, path = "/api/admin/stock/reconcile", responses((status = 200, body = Report)))]
pub async fn reconcile_stock(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<Json<Report>, ApiError> {
    let report = run(&state.db, &state.stock, Duration::from_millis(300)).await?;
    tracing::info!(
        admin_id = admin.user_id,
        differences = report.differences.len(),
        "stock reconciled"
    );
    Ok(Json(report))
}
