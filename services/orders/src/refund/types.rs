//! The refund's body and its errors in API.md's codes.

use axum::response::{IntoResponse, Response};
use paychat_common::ApiError;
use serde::Deserialize;
use serde_json::{Map, json};

/// An admin action's required reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReasonBody {
    /// 1..=200 characters.
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("order not found")]
    NotFound,
    #[error("order not refundable")]
    NotRefundable,
    #[error("{0} codes of the order were redeemed")]
    CodesUsed(usize),
    #[error("the refund did not go through: {0}")]
    Gateway(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<sqlx::Error> for RefundError {
    fn from(e: sqlx::Error) -> Self {
        Self::Api(e.into())
    }
}

impl From<RefundError> for ApiError {
    fn from(e: RefundError) -> Self {
        match e {
            RefundError::NotFound => ApiError::not_found("not_found"),
            RefundError::NotRefundable => ApiError::conflict(
                "order_not_refundable",
                "only a completed order can be refunded",
            ),
            RefundError::CodesUsed(n) => {
                let mut extra = Map::new();
                extra.insert("used_codes".into(), json!(n));
                ApiError::Conflict {
                    code: "codes_used",
                    message: "a code of this order has been redeemed; it cannot be refunded".into(),
                    extra,
                }
            }
            RefundError::Gateway(_) => ApiError::BadGateway {
                code: "payment_unavailable",
                message: "the refund did not go through; try again in a moment".into(),
            },
            RefundError::Api(e) => e,
        }
    }
}

impl IntoResponse for RefundError {
    fn into_response(self) -> Response {
        if let RefundError::Gateway(why) = &self {
            tracing::warn!(reason = %why, "refund refused: payment side");
        }
        ApiError::from(self).into_response()
    }
}
