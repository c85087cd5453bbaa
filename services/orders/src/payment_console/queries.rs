//! The Payments panel's SQL: parked payment events and the gateway's notify
//! log (`pay_alipay_notify`, in the same database).

use sqlx::{MySqlExecutor, QueryBuilder};

use super::types::{FailureFilter, FailureRow, NotifyRow};

const FAILURE_COLUMNS: &str = "id, order_id, out_trade_no, event_payload, error_message, \
     attempts, resolved, resolved_time, create_time, update_time";

/// Up to `limit` parked events with ids below `before`, newest first.
pub async fn failures(
    db: impl MySqlExecutor<'_>,
    filter: FailureFilter,
    before: i64,
    limit: u32,
) -> sqlx::Result<Vec<FailureRow>> {
    let mut qb = QueryBuilder::new(format!(
        "SELECT {FAILURE_COLUMNS} FROM chat_payment_failure WHERE id < "
    ));
    qb.push_bind(before);
    match filter {
        FailureFilter::Open => {
            qb.push(" AND resolved = ").push_bind(false);
        }
        FailureFilter::Resolved => {
            qb.push(" AND resolved = ").push_bind(true);
        }
        FailureFilter::All => {}
    }
    qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

pub async fn failure(db: impl MySqlExecutor<'_>, id: i64) -> sqlx::Result<Option<FailureRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FAILURE_COLUMNS} FROM chat_payment_failure WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The notifies received for any of these trades, oldest first.
pub async fn notifies(
    db: impl MySqlExecutor<'_>,
    out_trade_nos: &[String],
) -> sqlx::Result<Vec<NotifyRow>> {
    if out_trade_nos.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::new(
        "SELECT id, notify_id, out_trade_no, trade_no, trade_status, verified, handed_over, \
         rejection_reason, raw_body, create_time FROM pay_alipay_notify WHERE out_trade_no IN (",
    );
    let mut sep = qb.separated(", ");
    for t in out_trade_nos {
        sep.push_bind(t);
    }
    qb.push(") ORDER BY id LIMIT 200");
    qb.build_query_as().fetch_all(db).await
}
