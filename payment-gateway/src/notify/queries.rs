//! Notify SQL: the gateway's own log, and the one read of the shared
//! `chat_order` it needs (the amount to check a notify against).

use rust_decimal::Decimal;
use sqlx::MySqlExecutor;

pub struct NewNotify {
    pub id: i64,
    pub notify_id: Option<String>,
    pub out_trade_no: Option<String>,
    pub trade_no: Option<String>,
    pub trade_status: Option<String>,
    pub raw_body: String,
}

pub async fn insert(db: impl MySqlExecutor<'_>, n: &NewNotify) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO pay_alipay_notify (id, notify_id, out_trade_no, trade_no, trade_status, \
         verified, handed_over, rejection_reason, raw_body) VALUES (?, ?, ?, ?, ?, 0, 0, 'received', ?)",
    )
    .bind(n.id)
    .bind(&n.notify_id)
    .bind(&n.out_trade_no)
    .bind(&n.trade_no)
    .bind(&n.trade_status)
    .bind(&n.raw_body)
    .execute(db)
    .await
    .map(|_| ())
}

/// Records a notify that failed the signature: its summary and why, not its body.
pub async fn insert_summary(
    db: impl MySqlExecutor<'_>,
    n: &NewNotify,
    reason: &str,
) -> sqlx::Result<()> {
    let reason: String = reason.chars().take(255).collect();
    sqlx::query(
        "INSERT INTO pay_alipay_notify (id, notify_id, out_trade_no, trade_no, trade_status, \
         verified, handed_over, rejection_reason, raw_body) VALUES (?, ?, ?, ?, ?, 0, 0, ?, '')",
    )
    .bind(n.id)
    .bind(&n.notify_id)
    .bind(&n.out_trade_no)
    .bind(&n.trade_no)
    .bind(&n.trade_status)
    .bind(reason)
    .execute(db)
    .await
    .map(|_| ())
}

/// Records the outcome; `reason` None for a notify handed over cleanly.
pub async fn settle(
    db: impl MySqlExecutor<'_>,
    id: i64,
    verified: bool,
    handed_over: bool,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    let reason: Option<String> = reason.map(|r| r.chars().take(255).collect());
    sqlx::query(
        "UPDATE pay_alipay_notify SET verified = ?, handed_over = ?, rejection_reason = ? WHERE id = ?",
    )
    .bind(verified)
    .bind(handed_over)
    .bind(reason)
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Whether a payment of this trade was handed over to orders already.
pub async fn handed_over(db: impl MySqlExecutor<'_>, out_trade_no: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM pay_alipay_notify WHERE out_trade_no = ? \
         AND trade_status IN ('TRADE_SUCCESS', 'TRADE_FINISHED') AND handed_over = 1 LIMIT 1",
    )
    .bind(out_trade_no)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

pub async fn order_total(
    db: impl MySqlExecutor<'_>,
    order_id: i64,
) -> sqlx::Result<Option<Decimal>> {
    sqlx::query_scalar("SELECT total_amount FROM chat_order WHERE id = ? AND is_deleted = 0")
        .bind(order_id)
        .fetch_optional(db)
        .await
}
