//! `POST /api/exchange-codes/redeem`: redeeming a code adds its chat times to
//! mine in one transaction. Failed attempts are counted per user and per IP
//! before the attempt, and given back when it succeeds.

use std::time::Duration;

use axum::extract::State;
use chrono::Utc;
use paychat_common::auth::AuthUser;
use paychat_common::http::ClientIp;
use paychat_common::ratelimit::Limit;
use paychat_common::{ApiError, Json};

use super::code::RedemptionCode;
use super::queries;
use super::types::{RedeemBody, RedeemError, Redeemed, expires_at};
use crate::state::AppState;
use crate::states::{CodeStatus, OrderStatus};

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
pub async fn redeem(
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
    let row = queries::lock_code(&mut tx, code.as_str()).await?;
    let Some(row) = row else {
        return Err(RedeemError::Invalid);
    };
    if row.is_deleted != 0 || row.status != CodeStatus::Enabled.code() {
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
    queries::mark_used(&mut tx, row.id).await?;
    if !queries::add_times(&mut tx, user_id, row.reward_use_times).await? {
        return Err(RedeemError::Api(ApiError::Unauthorized));
    }
    let times = queries::times(&mut tx, user_id).await?;
    queries::insert_record(&mut tx, state.ids.next(), user_id, row.id, &row.code).await?;
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
