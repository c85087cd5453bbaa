//! Closing an unpaid order, shared by the buyer's close, the timeout consumer
//! and the sweeper: a conditional update (only one closer can win), a history
//! row, then the stock given back exactly once.

use sqlx::MySqlPool;

use super::queries;
use super::types::{OrderStatus, pay_status};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// This call closed it.
    Now,
    /// It was not unpaid (already closed, paid, or unknown).
    NotUnpaid,
}

pub async fn close_order(state: &AppState, order_id: i64, reason: &str) -> anyhow::Result<Closed> {
    let db: &MySqlPool = &state.db;
    let mut tx = db.begin().await?;
    if !queries::mark_closed(&mut tx, order_id).await? {
        tx.rollback().await?;
        return Ok(Closed::NotUnpaid);
    }
    let Some(order) = queries::find(&mut *tx, order_id).await? else {
        tx.rollback().await?;
        return Ok(Closed::NotUnpaid);
    };
    queries::insert_history(
        &mut tx,
        state.ids.next(),
        order.user_id,
        order_id,
        OrderStatus::Closed.code(),
        pay_status::CLOSED,
        order.total_amount,
        reason,
    )
    .await?;
    let items = queries::items(&mut *tx, &[order_id]).await?;
    tx.commit().await?;

    let units: Vec<(i64, i32)> = items
        .iter()
        .map(|i| (i.product_id, i.exchange_num))
        .collect();
    match state.stock.give_back(order_id, &units).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(order_id, "stock of the order had been given back already"),
        // The database is already right; the next reconciliation repairs Redis.
        Err(e) => {
            crate::stock::giveback_failed("close");
            tracing::error!(order_id, error = %e, "could not give stock back to Redis");
        }
    }
    metrics::counter!("orders_closed_total", "reason" => reason.to_owned()).increment(1);
    tracing::info!(order_id, user_id = order.user_id, reason, "order closed");
    Ok(Closed::Now)
}
