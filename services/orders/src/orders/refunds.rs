//! Refunds recorded on the orders' payment history (`pay_status` refunded),
//! read as the `refund` of the order JSON.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sqlx::{MySqlExecutor, QueryBuilder};

use super::types::RefundView;
use crate::states::PayStatus;

/// Per order among `order_ids` with a refund: the total refunded and the time of the last one.
pub async fn of_orders(
    db: impl MySqlExecutor<'_>,
    order_ids: &[i64],
) -> sqlx::Result<HashMap<i64, RefundView>> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut qb = QueryBuilder::new(
        "SELECT order_id, SUM(pay_amount), MAX(create_time) FROM chat_order_history \
         WHERE is_deleted = 0 AND pay_status = ",
    );
    qb.push_bind(PayStatus::Refunded).push(" AND order_id IN (");
    let mut sep = qb.separated(", ");
    for id in order_ids {
        sep.push_bind(*id);
    }
    qb.push(") GROUP BY order_id");
    let rows: Vec<(i64, Decimal, NaiveDateTime)> = qb.build_query_as().fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(order_id, amount, at)| {
            (
                order_id,
                RefundView {
                    amount,
                    refunded_at: at.and_utc(),
                },
            )
        })
        .collect())
}
