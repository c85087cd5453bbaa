//! Redemption codes: the ones I own, and redeeming one.
//!
//! A code is a bearer instrument: whoever holds it may redeem it, so a buyer
//! can give one away. Failed attempts are rate limited per user, which
//! together with ~74 random bits per code makes guessing hopeless; a much
//! higher per-IP limit is only a backstop, so one user's failures never lock
//! out the others behind the same address (an office behind NAT).

pub mod code;
pub mod generate;

use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use paychat_common::auth::AuthUser;
use paychat_common::http::ClientIp;
use paychat_common::ratelimit::Limit;
use paychat_common::{ApiError, Json};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::states::OrderStatus;
use code::RedemptionCode;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_codes))
        .routes(routes!(redeem))
}

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
struct OwnedRow {
    id: i64,
    code: String,
    name: String,
    reward_use_times: i32,
    price: Decimal,
    is_used: bool,
    activation_time: Option<NaiveDateTime>,
    expires_days: Option<i32>,
}

fn expires_at(activation: Option<NaiveDateTime>, days: Option<i32>) -> Option<DateTime<Utc>> {
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

fn display(stored: &str) -> String {
    RedemptionCode::parse(stored).map_or_else(|_| stored.to_owned(), |c| c.display())
}

/// Codes I own, newest first.
#[utoipa::path(get, path = "/api/exchange-codes", params(ListQuery), responses((status = 200, body = OwnedCodeList)))]
async fn list_codes(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<OwnedCodeList>, ApiError> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::field("invalid_request", "cursor", "not a cursor"))?,
        None => i64::MAX,
    };
    let mut rows: Vec<OwnedRow> = sqlx::query_as(
        "SELECT id, code, name, reward_use_times, price, is_used, activation_time, expires_days \
         FROM chat_exchange WHERE owner_user_id = ? AND is_deleted = 0 AND id < ? \
         ORDER BY id DESC LIMIT ?",
    )
    .bind(user.user_id)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(&state.db)
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok(Json(OwnedCodeList {
        next_cursor: more
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten(),
        items: rows
            .into_iter()
            .map(|r| OwnedCode {
                code: display(&r.code),
                product_name: r.name,
                reward_use_times: r.reward_use_times,
                price: r.price,
                used: r.is_used,
                expires_at: expires_at(r.activation_time, r.expires_days),
            })
            .collect(),
    }))
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
struct CodeRow {
    id: i64,
    code: String,
    reward_use_times: i32,
    is_used: bool,
    is_occupied: bool,
    status: i8,
    is_deleted: i32,
    owner_user_id: Option<i64>,
    activation_time: Option<NaiveDateTime>,
    expires_days: Option<i32>,
    /// Status of the order the code was sold through (None: never sold).
    order_status: Option<i8>,
}

fn limits(state: &AppState) -> (Limit, Limit) {
    let o = &state.config.orders;
    let window = Duration::from_secs(o.redeem_fail_window_secs);
    (
        Limit::per(o.redeem_fail_limit_user, window),
        Limit::per(o.redeem_fail_limit_ip, window),
    )
}

/// Redeems a code: its chat times are added to mine.
#[utoipa::path(
    post,
    path = "/api/exchange-codes/redeem",
    request_body = RedeemBody,
    responses((status = 200, body = Redeemed), (status = 400), (status = 409), (status = 410), (status = 429))
)]
async fn redeem(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    Json(body): Json<RedeemBody>,
) -> Result<Json<Redeemed>, RedeemError> {
    let (per_user, per_ip) = limits(&state);
    let user_key = format!("redeem_fail:user:{}", user.user_id);
    let ip_key = format!("redeem_fail:ip:{ip}");
    // Counted before the attempt, so concurrent ones cannot slip past the
    // limit; given back unless it turns out a failure.
    let attempt = state
        .limiter
        .attempt(&[(&user_key, per_user), (&ip_key, per_ip)])
        .await?;
    let result = redeem_code(&state, user.user_id, &body.code).await;
    if matches!(
        result,
        Err(RedeemError::Invalid | RedeemError::Used | RedeemError::Expired)
    ) {
        metrics::counter!("codes_redeem_refused_total").increment(1);
    } else {
        attempt.succeeded().await;
    }
    let redeemed = result?;
    metrics::counter!("codes_redeemed_total").increment(1);
    Ok(Json(redeemed))
}

async fn redeem_code(state: &AppState, user_id: i64, input: &str) -> Result<Redeemed, RedeemError> {
    let code = RedemptionCode::parse(input).map_err(|_| RedeemError::Invalid)?;
    let mut tx = state.db.begin().await?;
    // The row lock makes concurrent redemptions of one code take turns; the
    // second sees it used.
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT e.id, e.code, e.reward_use_times, e.is_used, e.is_occupied, e.status, e.is_deleted, \
         e.owner_user_id, e.activation_time, e.expires_days, o.status AS order_status \
         FROM chat_exchange e LEFT JOIN chat_order o ON o.id = e.order_id \
         WHERE e.code = ? FOR UPDATE",
    )
    .bind(code.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(RedeemError::Invalid);
    };
    if row.is_deleted != 0 || row.status != 1 {
        return Err(RedeemError::Invalid);
    }
    // Only a sold code counts: bound to its buyer by an order that was paid.
    // One never sold (or held by an order still being paid) is answered like
    // an unknown code, so knowing a code's text is never enough.
    let sold = row.is_occupied
        && row.owner_user_id.is_some()
        && row.order_status == Some(OrderStatus::Completed.code());
    if !sold {
        return Err(RedeemError::Invalid);
    }
    if row.is_used {
        return Err(RedeemError::Used);
    }
    // Sold codes carry their activation time; the life runs from there.
    if expires_at(row.activation_time, row.expires_days).is_some_and(|t| t <= Utc::now()) {
        return Err(RedeemError::Expired);
    }
    sqlx::query(
        "UPDATE chat_exchange SET is_used = 1, activation_time = COALESCE(activation_time, UTC_TIMESTAMP(3)) \
         WHERE id = ? AND is_used = 0",
    )
    .bind(row.id)
    .execute(&mut *tx)
    .await?;
    let updated = sqlx::query(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + ? WHERE id = ?",
    )
    .bind(row.reward_use_times)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(RedeemError::Api(ApiError::Unauthorized));
    }
    let times: i32 =
        sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO chat_user_exchange_record (id, user_id, exchange_id, code) VALUES (?, ?, ?, ?)",
    )
    .bind(state.ids.next())
    .bind(user_id)
    .bind(row.id)
    .bind(&row.code)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        user_id,
        exchange_id = row.id,
        reward = row.reward_use_times,
        "code redeemed"
    );
    Ok(Redeemed {
        reward_use_times: row.reward_use_times,
        can_conversation_times: times,
    })
}
