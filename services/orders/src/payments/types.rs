//! Payment's error (in API.md's codes) and the `pay` answer.

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use paychat_common::ApiError;
use serde::Serialize;

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
            PaymentError::Internal(e) => ApiError::from(e),
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
