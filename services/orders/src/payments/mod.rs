//! Payment: `POST /api/orders/{id}/pay` (a QR code through the gateway's sealed
//! precreate) and `POST /api/orders/{id}/close` (settled at Alipay first), the
//! payment port every close asks, fulfilment of paid orders from the
//! gateway's events, and reconciliation of lost notifies.

pub mod close;
pub mod config;
pub mod consumer;
pub mod fulfil;
pub mod gateway;
pub mod mail;
pub mod queries;
pub mod reconcile;
pub mod settle;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use paychat_common::auth::AuthUser;
use paychat_common::error::is_unique_violation;
use paychat_common::payment::{self, PayRequest, Reply};
use paychat_common::{ApiError, Json};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::orders::queries as order_queries;
use crate::state::AppState;
use gateway::GatewayClient;
use mail::Mailer;

/// What the payment side of orders holds.
pub struct Payments {
    pub gateway: std::sync::Arc<GatewayClient>,
    pub mailer: Mailer,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pay_order))
        .routes(routes!(close::close_order))
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("order not found")]
    NotFound,
    #[error("order not payable")]
    NotPayable,
    #[error("payment unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PaymentError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::NotFound => ApiError::not_found("not_found"),
            PaymentError::NotPayable => ApiError::conflict(
                "order_not_payable",
                "only an unpaid order within its payment window can be paid",
            ),
            PaymentError::Unavailable(_) => ApiError::BadGateway {
                code: "payment_unavailable",
                message: "payment is unavailable right now; try again in a moment".into(),
            },
            PaymentError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for PaymentError {
    fn into_response(self) -> Response {
        if let PaymentError::Unavailable(why) = &self {
            tracing::warn!(reason = %why, "pay refused: payment unavailable");
        }
        ApiError::from(self).into_response()
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayView {
    pub order_id: String,
    pub out_trade_no: String,
    /// The URL to draw as a QR code.
    pub qr_code: String,
    /// When the QR code stops being payable.
    pub expires_at: DateTime<Utc>,
}

/// QR life in whole minutes: the rest of the order's window, 1..=120.
pub fn qr_minutes(remaining_secs: i64) -> i64 {
    (remaining_secs / 60).clamp(1, 120)
}

/// A QR code to pay my unpaid order; the same one while it is valid.
#[utoipa::path(post, path = "/api/orders/{id}/pay", responses((status = 200, body = PayView), (status = 404), (status = 409), (status = 502)))]
async fn pay_order(
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
