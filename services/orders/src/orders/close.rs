//! Closing an unpaid order, shared by the buyer's close, the timeout consumer
//! and the sweeper: a conditional update (only one closer can win), a history
//! row, then the stock given back exactly once.

use std::collections::HashMap;

use sqlx::{MySqlExecutor, MySqlPool, QueryBuilder};

use super::queries;
use super::types::CloseReason;
use crate::state::AppState;
use crate::states::{OrderStatus, PayStatus};

/// The history remark of an order the buyer closed.
pub const BY_BUYER: &str = "closed by the buyer";
/// The history remarks of an order whose payment window ran out start so
/// (its timeout message, or the sweeper).
pub const TIMED_OUT: &str = "payment window expired";

/// Why each closed order among `order_ids` closed, read from the remark of
/// its closing history row.
pub async fn reasons(
    db: impl MySqlExecutor<'_>,
    order_ids: &[i64],
) -> sqlx::Result<HashMap<i64, CloseReason>> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut qb = QueryBuilder::new(
        "SELECT order_id, remark FROM chat_order_history WHERE is_deleted = 0 AND order_status = ",
    );
    qb.push_bind(OrderStatus::Closed)
        .push(" AND pay_status = ")
        .push_bind(PayStatus::Closed)
        .push(" AND order_id IN (");
    let mut sep = qb.separated(", ");
    for id in order_ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let rows: Vec<(i64, Option<String>)> = qb.build_query_as().fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(order_id, remark)| Some((order_id, reason_of(remark.as_deref()?)?)))
        .collect())
}

fn reason_of(remark: &str) -> Option<CloseReason> {
    if remark == BY_BUYER {
        Some(CloseReason::Buyer)
    } else if remark.starts_with(TIMED_OUT) {
        Some(CloseReason::Timeout)
    } else {
        None
    }
}

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
        OrderStatus::Closed,
        PayStatus::Closed,
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
