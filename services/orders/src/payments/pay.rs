//! `POST /api/orders/{id}/pay`: a QR code for my unpaid order, through the
//! gateway's sealed precreate; the same code while it is valid. Each attempt
//! has its own `out_trade_no` (order id and attempt number), recorded first.

use axum::extract::{Path, State};
use chrono::Utc;
use paychat_common::Json;
use paychat_common::auth::AuthUser;
use paychat_common::error::is_unique_violation;
use paychat_common::payment::{self, PayRequest, Reply};

use super::queries;
use super::types::{PayView, PaymentError};
use crate::orders::queries as order_queries;
use crate::state::AppState;

/// QR life in whole minutes: the rest of the order's window, 1..=120.
pub fn qr_minutes(remaining_secs: i64) -> i64 {
    (remaining_secs / 60).clamp(1, 120)
}

/// A QR code to pay my unpaid order; the same one while it is valid.
#[utoipa::path(post, path = "/api/orders/{id}/pay", responses((status = 200, body = PayView), (status = 404), (status = 409), (status = 502)))]
pub async fn pay_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PayView>, PaymentError> {
    let order_id: i64 = id.parse().map_err(|_| PaymentError::NotFound)?;
    let order = order_queries::find(&state.db, order_id)
        .await?
        .filter(|o| o.user_id == user.user_id)
        .ok_or(PaymentError::NotFound)?;
    let now = Utc::now();
    let expires = order.expire_time.and_utc();
    if !order.status().is_unpaid() || expires <= now {
        return Err(PaymentError::NotPayable);
    }
    if let Some(qr) = queries::valid_qr(&state.db, order_id, now.naive_utc()).await? {
        return Ok(Json(PayView {
            order_id: order_id.to_string(),
            out_trade_no: qr.out_trade_no,
            qr_code: qr.pay_qr_code,
            expires_at: qr.qr_expire_time.and_utc(),
        }));
    }

    let attempt = queries::next_attempt(&state.db, order_id).await?;
    let out_trade_no = payment::out_trade_no(order_id, attempt);
    let history_id = state.ids.next();
    let claimed = queries::insert_attempt(
        &state.db,
        &queries::NewAttempt {
            id: history_id,
            user_id: order.user_id,
            order_id,
            order_status: order.status(),
            amount: order.total_amount,
            attempt,
            out_trade_no: &out_trade_no,
        },
    )
    .await;
    match claimed {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(PaymentError::Unavailable(
                "another pay request of this order is in flight".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }

    let minutes = qr_minutes((expires - now).num_seconds());
    let req = PayRequest {
        out_trade_no: out_trade_no.clone(),
        total_amount: order.total_amount,
        subject: state.config.payments.payment_subject.clone(),
        qr_code_timeout_express: format!("{minutes}m"),
    };
    let reply = state.payments.gateway.pay(&req).await;
    let qr = match reply {
        Ok(Reply::Ok { result }) => result,
        other => {
            // Unknown or refused: this attempt number is retired either way.
            let why = match other {
                Err(e) => e.to_string(),
                Ok(r) => format!("{r:?}"),
            };
            queries::attempt_failed(&state.db, history_id, &format!("precreate failed: {why}"))
                .await?;
            return Err(PaymentError::Unavailable(why));
        }
    };
    let qr_expires = (now + chrono::Duration::minutes(minutes)).min(expires);
    let mut tx = state.db.begin().await?;
    // The order may have closed (its timeout, the buyer) or been paid through
    // another code while Alipay drew this one: the conditional update decides.
    if !queries::mark_awaiting_confirmation(&mut tx, order_id).await? {
        tx.rollback().await?;
        // Alipay has the code and cannot close it before it is scanned, so a
        // buyer holding it could still pay: recorded (never shown), it is what
        // reconciliation looks at to fulfil or refund such a payment.
        queries::attempt_withheld(&state.db, history_id, &qr.qr_code, qr_expires.naive_utc())
            .await?;
        tracing::warn!(
            order_id,
            out_trade_no,
            "order stopped being payable during precreate; QR code withheld"
        );
        return Err(PaymentError::NotPayable);
    }
    queries::attempt_issued(&mut tx, history_id, &qr.qr_code, qr_expires.naive_utc()).await?;
    tx.commit().await?;
    tracing::info!(order_id, out_trade_no, "payment QR code issued");
    Ok(Json(PayView {
        order_id: order_id.to_string(),
        out_trade_no,
        qr_code: qr.qr_code,
        expires_at: qr_expires,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_life_is_whole_minutes_within_alipays_two_hours() {
        assert_eq!(qr_minutes(0), 1);
        assert_eq!(qr_minutes(59), 1);
        assert_eq!(qr_minutes(1799), 29);
        assert_eq!(qr_minutes(1800), 30);
        assert_eq!(qr_minutes(7200), 120);
        assert_eq!(qr_minutes(100_000), 120);
    }
}
