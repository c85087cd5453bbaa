//! Payment SQL: pay attempts on `chat_order_history`, fulfilment's writes to
//! orders, products and codes, the reconciliation job's read, and the parked
//! payment events of the retry job. All of the feature's SQL in one file, as
//! the layout wants, hence longer than 300 lines.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sqlx::{MySqlConnection, MySqlExecutor, QueryBuilder};

use super::fulfil::Payment;
use crate::states::{CodeStatus, OrderStatus, PayStatus};

/// The latest issued QR code of an order, still valid at `now`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedQr {
    pub out_trade_no: String,
    pub pay_qr_code: String,
    pub qr_expire_time: NaiveDateTime,
}

pub async fn valid_qr(
    db: impl MySqlExecutor<'_>,
    order_id: i64,
    now: NaiveDateTime,
) -> sqlx::Result<Option<IssuedQr>> {
    sqlx::query_as(
        "SELECT out_trade_no, pay_qr_code, qr_expire_time FROM chat_order_history \
         WHERE order_id = ? AND pay_attempt IS NOT NULL AND pay_qr_code IS NOT NULL \
         AND qr_expire_time > ? ORDER BY pay_attempt DESC LIMIT 1",
    )
    .bind(order_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The next attempt number: one past every attempt ever made, issued or retired.
pub async fn next_attempt(db: impl MySqlExecutor<'_>, order_id: i64) -> sqlx::Result<u32> {
    let last: Option<i32> =
        sqlx::query_scalar("SELECT MAX(pay_attempt) FROM chat_order_history WHERE order_id = ?")
            .bind(order_id)
            .fetch_one(db)
            .await?;
    Ok(u32::try_from(last.unwrap_or(0)).unwrap_or(0) + 1)
}

pub struct NewAttempt<'a> {
    pub id: i64,
    pub user_id: i64,
    pub order_id: i64,
    pub order_status: OrderStatus,
    pub amount: Decimal,
    pub attempt: u32,
    pub out_trade_no: &'a str,
}

/// Claims an attempt number; a unique violation means another request took it.
pub async fn insert_attempt(db: impl MySqlExecutor<'_>, a: &NewAttempt<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_order_history (id, user_id, order_id, order_status, pay_status, \
         total_amount, pay_amount, remark, pay_attempt, out_trade_no) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 'precreate requested', ?, ?)",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(a.order_id)
    .bind(a.order_status)
    .bind(PayStatus::Paying)
    .bind(a.amount)
    .bind(a.amount)
    .bind(a.attempt)
    .bind(a.out_trade_no)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn attempt_issued(
    conn: &mut MySqlConnection,
    history_id: i64,
    qr_code: &str,
    qr_expire_time: NaiveDateTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_order_history SET pay_qr_code = ?, qr_expire_time = ?, order_status = ?, \
         remark = 'QR code issued' WHERE id = ?",
    )
    .bind(qr_code)
    .bind(qr_expire_time)
    .bind(OrderStatus::AwaitingConfirmation)
    .bind(history_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An attempt whose QR code came back after the order stopped being payable:
/// kept for reconciliation, never handed to the buyer.
pub async fn attempt_withheld(
    db: impl MySqlExecutor<'_>,
    history_id: i64,
    qr_code: &str,
    qr_expire_time: NaiveDateTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_order_history SET pay_qr_code = ?, qr_expire_time = ?, \
         remark = 'QR code withheld: the order stopped being payable' WHERE id = ?",
    )
    .bind(qr_code)
    .bind(qr_expire_time)
    .bind(history_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// An attempt whose precreate failed or has an unknown outcome: retired
/// ([`PayStatus::Failed`]), never reused.
pub async fn attempt_failed(
    db: impl MySqlExecutor<'_>,
    history_id: i64,
    remark: &str,
) -> sqlx::Result<()> {
    let remark: String = remark.chars().take(500).collect();
    sqlx::query("UPDATE chat_order_history SET pay_status = ?, remark = ? WHERE id = ?")
        .bind(PayStatus::Failed)
        .bind(remark)
        .bind(history_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Awaiting confirmation from now on (a QR code is out); false when the
/// order is no longer unpaid. Rows matched count (the connection asks for
/// found rows), so an order already awaiting confirmation answers true.
pub async fn mark_awaiting_confirmation(
    conn: &mut MySqlConnection,
    order_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE chat_order SET status = ? WHERE id = ? AND status IN (?, ?)")
        .bind(OrderStatus::AwaitingConfirmation)
        .bind(order_id)
        .bind(OrderStatus::UNPAID[0])
        .bind(OrderStatus::UNPAID[1])
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every out_trade_no an order may have at Alipay: every attempt, including
/// retired ones (an unknown precreate outcome may still have made a trade).
pub async fn attempts(db: impl MySqlExecutor<'_>, order_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT out_trade_no FROM chat_order_history WHERE order_id = ? \
         AND out_trade_no IS NOT NULL AND pay_attempt IS NOT NULL ORDER BY pay_attempt",
    )
    .bind(order_id)
    .fetch_all(db)
    .await
}

/// Orders whose trades Alipay may have taken payment for without a notify
/// reaching us: those awaiting confirmation with a QR code issued more than
/// `age_secs` ago, and closed or completed ones with a QR code of a trade that
/// is neither paid nor refunded here and could still be paid at Alipay.
///
/// A QR code Alipay accepts until its `qr_code_timeout_express` (whole minutes
/// from precreate, at least one, so it may outlive the order's window by up
/// to a minute), and a trade scanned just before that stays payable for its
/// `timeout_express`, which the gateway sets to the same length: so a trade
/// is payable for at most twice the QR code's life after it was requested.
/// `grace_secs` covers clock skew and the reconciliation pass after the last
/// possible payment. A page of ids above `after`, in id order.
pub async fn to_reconcile(
    db: impl MySqlExecutor<'_>,
    age_secs: u64,
    grace_secs: u64,
    after: i64,
    limit: u32,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT DISTINCT o.id FROM chat_order o JOIN chat_order_history h ON h.order_id = o.id \
         WHERE o.id > ? AND h.pay_qr_code IS NOT NULL AND ( \
           (o.status = ? AND h.update_time <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND) \
           OR (o.status IN (?, ?, ?) \
             AND h.create_time + INTERVAL (2 * TIMESTAMPDIFF(SECOND, h.create_time, \
               GREATEST(h.qr_expire_time, h.create_time + INTERVAL 1 MINUTE)) + ?) SECOND \
               > UTC_TIMESTAMP(3) \
             AND NOT EXISTS (SELECT 1 FROM chat_order_history s WHERE s.order_id = o.id \
               AND s.out_trade_no = h.out_trade_no AND s.pay_status IN (?, ?)))) \
         ORDER BY o.id LIMIT ?",
    )
    .bind(after)
    .bind(OrderStatus::AwaitingConfirmation)
    .bind(age_secs)
    .bind(OrderStatus::Completed)
    .bind(OrderStatus::Invalid)
    .bind(OrderStatus::Closed)
    .bind(grace_secs)
    .bind(PayStatus::Paid)
    .bind(PayStatus::Refunded)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Paid: from unpaid (or, re-taking its stock, from closed) to completed.
pub async fn mark_paid(
    conn: &mut MySqlConnection,
    order_id: i64,
    amount: Decimal,
    from_closed: bool,
) -> sqlx::Result<bool> {
    // From closed includes invalid: both are orders that ended unpaid.
    let from = if from_closed {
        [OrderStatus::Invalid, OrderStatus::Closed]
    } else {
        OrderStatus::UNPAID
    };
    let done = sqlx::query(
        "UPDATE chat_order SET status = ?, pay_time = UTC_TIMESTAMP(3), pay_amount = ? \
         WHERE id = ? AND status IN (?, ?)",
    )
    .bind(OrderStatus::Completed)
    .bind(amount)
    .bind(order_id)
    .bind(from[0])
    .bind(from[1])
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn sell(conn: &mut MySqlConnection, product_id: i64, units: i32) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_product SET stock = stock - ?, sale = sale + ? WHERE id = ?")
        .bind(units)
        .bind(units)
        .bind(product_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Free codes of a product, locked for this transaction; rows other buyers
/// hold are skipped rather than waited for.
pub async fn free_codes(
    conn: &mut MySqlConnection,
    product_id: i64,
    n: i32,
) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, code FROM chat_exchange WHERE product_id = ? AND is_occupied = 0 \
         AND is_used = 0 AND is_deleted = 0 AND status = ? AND owner_user_id IS NULL \
         ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
    )
    .bind(product_id)
    .bind(CodeStatus::Enabled)
    .bind(n)
    .fetch_all(conn)
    .await
}

pub async fn bind_codes(
    conn: &mut MySqlConnection,
    code_ids: &[i64],
    user_id: i64,
    order_id: i64,
) -> sqlx::Result<()> {
    if code_ids.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::new("UPDATE chat_exchange SET owner_user_id = ");
    qb.push_bind(user_id)
        .push(", order_id = ")
        .push_bind(order_id)
        .push(", is_occupied = 1, activation_time = UTC_TIMESTAMP(3) WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in code_ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    qb.build().execute(conn).await.map(|_| ())
}

pub struct PaidHistory<'a> {
    pub id: i64,
    pub user_id: i64,
    pub order_id: i64,
    pub order_status: OrderStatus,
    pub pay_status: PayStatus,
    pub amount: Decimal,
    pub pay_account: Option<&'a str>,
    pub out_trade_no: &'a str,
    pub trade_no: &'a str,
    pub remark: &'a str,
}

pub async fn insert_paid_history(
    db: impl MySqlExecutor<'_>,
    h: &PaidHistory<'_>,
) -> sqlx::Result<()> {
    let account: Option<String> = h.pay_account.map(|a| a.chars().take(30).collect());
    sqlx::query(
        "INSERT INTO chat_order_history (id, user_id, order_id, order_status, pay_status, \
         total_amount, pay_amount, pay_account, remark, out_trade_no, trade_no) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(h.id)
    .bind(h.user_id)
    .bind(h.order_id)
    .bind(h.order_status)
    .bind(h.pay_status)
    .bind(h.amount)
    .bind(h.amount)
    .bind(account)
    .bind(h.remark)
    .bind(h.out_trade_no)
    .bind(h.trade_no)
    .execute(db)
    .await
    .map(|_| ())
}

/// Whether this trade is the one that paid the order.
pub async fn paid_by(
    db: impl MySqlExecutor<'_>,
    order_id: i64,
    out_trade_no: &str,
) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM chat_order_history WHERE order_id = ? AND out_trade_no = ? \
         AND pay_status = ? LIMIT 1",
    )
    .bind(order_id)
    .bind(out_trade_no)
    .bind(PayStatus::Paid)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Whether a refund of this trade was recorded already.
pub async fn refunded(db: impl MySqlExecutor<'_>, out_trade_no: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM chat_order_history WHERE out_trade_no = ? AND pay_status = ? LIMIT 1",
    )
    .bind(out_trade_no)
    .bind(PayStatus::Refunded)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// The buyer's email address.
pub async fn buyer_email(db: impl MySqlExecutor<'_>, user_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT e.username FROM chat_user_binding b \
         JOIN chat_user_binding_email e ON e.id = b.user_binding_email_id \
         WHERE b.user_id = ? ORDER BY b.id LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Parks an event durably. A later failure of the same trade (a redelivery)
/// updates its row and opens it again instead of adding a second one.
pub async fn park(
    db: impl MySqlExecutor<'_>,
    id: i64,
    payment: &Payment,
    payload: &[u8],
    error: &str,
    attempts: u32,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_payment_failure \
         (id, order_id, out_trade_no, event_payload, error_message, attempts) \
         VALUES (?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE event_payload = VALUES(event_payload), \
         error_message = VALUES(error_message), attempts = attempts + VALUES(attempts), \
         resolved = ?, resolved_time = NULL",
    )
    .bind(id)
    .bind(payment.order_id)
    .bind(&payment.out_trade_no)
    .bind(String::from_utf8_lossy(payload).into_owned())
    .bind(error)
    .bind(attempts)
    .bind(false)
    .execute(db)
    .await
    .map(|_| ())
}

/// Up to `limit` parked events not resolved yet: (id, event payload).
pub async fn parked(db: impl MySqlExecutor<'_>, limit: u32) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, event_payload FROM chat_payment_failure WHERE resolved = ? ORDER BY id LIMIT ?",
    )
    .bind(false)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A parked event fulfilled or refunded on a retry.
pub async fn resolve_parked(db: impl MySqlExecutor<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_payment_failure SET resolved = ?, \
         resolved_time = UTC_TIMESTAMP(3), attempts = attempts + 1 WHERE id = ?",
    )
    .bind(true)
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}

/// A parked event that failed once more; it stays open.
pub async fn parked_failed_again(
    db: impl MySqlExecutor<'_>,
    id: i64,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_payment_failure SET error_message = ?, attempts = attempts + 1 WHERE id = ?",
    )
    .bind(error)
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}
