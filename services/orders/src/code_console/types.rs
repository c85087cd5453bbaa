//! The Codes panel's rows, answers and query strings.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::states::CodeState;
use crate::codes::types::{display, expires_at};

#[derive(Debug, sqlx::FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub product_id: i64,
    pub code: String,
    pub is_used: bool,
    pub is_occupied: bool,
    pub status: i8,
    pub activation_time: Option<NaiveDateTime>,
    pub expires_days: Option<i32>,
    pub order_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub redeemed_by: Option<i64>,
}

impl CodeRow {
    pub fn state(&self, now: DateTime<Utc>) -> CodeState {
        CodeState::of(
            self.is_used,
            self.status,
            self.is_occupied,
            self.activation_time,
            self.expires_days,
            now,
        )
    }
}

/// A code as the console lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCode {
    pub id: String,
    /// As people type it: `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
    pub product_id: String,
    pub state: CodeState,
    /// The order that sold it (null: unsold).
    pub order_id: Option<String>,
    /// The buyer it is bound to (null: unsold).
    pub owner_id: Option<String>,
    /// The user who redeemed it (null: not redeemed).
    pub redeemed_by: Option<String>,
    /// Null while unsold or when it never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl AdminCode {
    pub fn new(r: CodeRow, now: DateTime<Utc>) -> Self {
        Self {
            id: r.id.to_string(),
            code: display(&r.code),
            product_id: r.product_id.to_string(),
            state: r.state(now),
            order_id: r.order_id.map(|id| id.to_string()),
            owner_id: r.owner_user_id.map(|id| id.to_string()),
            redeemed_by: r.redeemed_by.map(|id| id.to_string()),
            expires_at: expires_at(r.activation_time, r.expires_days),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCodeList {
    pub items: Vec<AdminCode>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CodesQuery {
    /// Only this product's codes.
    pub product_id: Option<String>,
    /// `unsold`, `sold`, `redeemed`, `disabled` or `expired`.
    pub state: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// The product whose codes are exported (required).
    pub product_id: Option<String>,
    /// `unsold` (default), or another state.
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DisableBody {
    /// 1..=200 characters.
    pub reason: String,
}
