//! Redemption code rows, the owned-code JSON, the redeem body and answer, and
//! the redemption error in API.md's codes.

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use paychat_common::ApiError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::code::RedemptionCode;

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("invalid code")]
    Invalid,
    #[error("code used")]
    Used,
    #[error("code expired")]
    Expired,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<sqlx::Error> for RedeemError {
    fn from(e: sqlx::Error) -> Self {
        Self::Api(e.into())
    }
}

impl From<RedeemError> for ApiError {
    fn from(e: RedeemError) -> Self {
        match e {
            RedeemError::Invalid => ApiError::field("invalid_code", "code", "no such code"),
            RedeemError::Used => {
                ApiError::conflict("code_used", "this code has been redeemed already")
            }
            RedeemError::Expired => ApiError::Gone {
                code: "code_expired",
                message: "this code has expired".into(),
            },
            RedeemError::Api(e) => e,
        }
    }
}

impl IntoResponse for RedeemError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct OwnedRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub reward_use_times: i32,
    pub price: Decimal,
    pub is_used: bool,
    pub activation_time: Option<NaiveDateTime>,
    pub expires_days: Option<i32>,
}

/// When a code activated at `activation` with a life of `days` expires (None: never).
pub fn expires_at(activation: Option<NaiveDateTime>, days: Option<i32>) -> Option<DateTime<Utc>> {
    let days = days.filter(|d| *d > 0)?;
    Some((activation? + chrono::Duration::days(i64::from(days))).and_utc())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnedCode {
    /// As people type it: `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
    pub product_name: String,
    pub reward_use_times: i32,
    #[serde(serialize_with = "paychat_common::money::serialize")]
    #[schema(value_type = String, example = "9.90")]
    pub price: Decimal,
    pub used: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnedCodeList {
    pub items: Vec<OwnedCode>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub cursor: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// A stored code as people type it.
pub fn display(stored: &str) -> String {
    RedemptionCode::parse(stored).map_or_else(|_| stored.to_owned(), |c| c.display())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RedeemBody {
    pub code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Redeemed {
    pub reward_use_times: i32,
    pub can_conversation_times: i32,
}

#[derive(Debug, sqlx::FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub code: String,
    pub reward_use_times: i32,
    pub is_used: bool,
    pub is_occupied: bool,
    pub status: i8,
    pub is_deleted: i32,
    pub owner_user_id: Option<i64>,
    pub activation_time: Option<NaiveDateTime>,
    pub expires_days: Option<i32>,
    /// Status of the order the code was sold through (None: never sold).
    pub order_status: Option<i8>,
}

/// What every code generated for a product copies from it.
pub struct CodeBatch<'a> {
    pub product_id: i64,
    pub name: &'a str,
    pub reward_use_times: i32,
    pub price: Decimal,
    pub expires_days: i32,
}
