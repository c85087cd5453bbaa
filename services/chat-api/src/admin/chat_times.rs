//! `POST /api/admin/users/{id}/chat-times`: adds `delta` (negative takes
//! away) to the user's chat times. One transaction changes the balance with a
//! conditional UPDATE (never below 0: 409 `insufficient_times`), writes the
//! ledger row (`chat_times_adjustment`, shown as `adjusted` in the user's
//! times history) and the audit row.

use axum::extract::{Path, State};
use paychat_common::auth::AdminUser as Admin;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::queries::{self, NewAdjustment};
use super::types::{AdjustTimes, AdjustedTimes};
use crate::state::AppState;
use paychat_common::audit::{self, Action};

/// The largest change one adjustment may make, either way.
pub const DELTA_MAX: i64 = 100_000;

fn parse_delta(delta: i64) -> Result<i32, ApiError> {
    if delta == 0 || delta.abs() > DELTA_MAX {
        return Err(ApiError::field(
            "invalid_request",
            "delta",
            "must be a non-zero whole number between -100000 and 100000",
        ));
    }
    i32::try_from(delta).map_err(|_| ApiError::field("invalid_request", "delta", "out of range"))
}

/// Adds to or takes from a user's chat times, with a reason.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/chat-times",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = AdjustTimes,
    responses(
        (status = 200, body = AdjustedTimes),
        (status = 400, description = "`invalid_request` (delta or reason)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`user_not_found`"),
        (status = 409, description = "`insufficient_times`: the balance would go below 0"),
    )
)]
pub async fn adjust(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<AdjustTimes>,
) -> Result<Json<AdjustedTimes>, ApiError> {
    let user_id = super::parse_user_id(&id)?;
    let delta = parse_delta(body.delta)?;
    let reason = super::parse_reason(&body.reason)?;

    let mut tx = state.db.begin().await?;
    let before = queries::lock_times(&mut *tx, user_id)
        .await?
        .ok_or(ApiError::not_found("user_not_found"))?;
    let after = i64::from(before) + i64::from(delta);
    let after = i32::try_from(after).map_err(|_| {
        ApiError::field("invalid_request", "delta", "the balance would be too large")
    })?;
    if !queries::add_times(&mut *tx, user_id, delta).await? {
        return Err(ApiError::conflict(
            "insufficient_times",
            "the user has fewer chat times than that",
        ));
    }
    queries::insert_adjustment(
        &mut *tx,
        &NewAdjustment {
            id: state.ids.next(),
            user_id,
            delta,
            reason: &reason,
            actor_id: admin.user_id,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "user.chat_times",
            target: format!("user:{user_id}"),
            ip,
        },
        &json!({ "can_conversation_times": before }),
        &json!({ "can_conversation_times": after, "delta": delta, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        admin_id = admin.user_id,
        user_id,
        delta,
        "chat times adjusted"
    );
    Ok(Json(AdjustedTimes {
        can_conversation_times: after,
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_delta;

    #[test]
    fn a_delta_is_non_zero_and_bounded() {
        assert!(parse_delta(0).is_err());
        assert!(parse_delta(100_001).is_err());
        assert!(parse_delta(-100_001).is_err());
        assert_eq!(parse_delta(-100_000).ok(), Some(-100_000));
        assert_eq!(parse_delta(7).ok(), Some(7));
    }
}
