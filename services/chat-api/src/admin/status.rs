//! `POST /api/admin/users/{id}/disable` and `/enable`, with a reason.
//!
//! Disabling sets `chat_user.disabled` (committed with its audit row) and
//! then ends every session of the user. Login checks the flag after the
//! password and again once its session exists, so a sign-in racing the
//! disable either sees the flag or made its session before the flag was set,
//! and then the revoke that follows ends it.

use axum::extract::{Path, State};
use paychat_common::auth::AdminUser as Admin;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::queries;
use super::types::{AdminUser, ReasonBody};
use crate::state::AppState;
use paychat_common::audit::{self, Action};

/// Disables a user: no sign-in, every session ended.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/disable",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ReasonBody,
    responses(
        (status = 200, body = AdminUser),
        (status = 400, description = "`invalid_request` (reason)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`user_not_found`"),
        (status = 409, description = "`cannot_disable_self`"),
    )
)]
pub async fn disable(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Json<AdminUser>, ApiError> {
    set(&state, admin.user_id, ip, &id, &body.reason, true).await
}

/// Enables a disabled user again.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/enable",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ReasonBody,
    responses(
        (status = 200, body = AdminUser),
        (status = 400, description = "`invalid_request` (reason)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`user_not_found`"),
    )
)]
pub async fn enable(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Json<AdminUser>, ApiError> {
    set(&state, admin.user_id, ip, &id, &body.reason, false).await
}

async fn set(
    state: &AppState,
    actor_id: i64,
    ip: std::net::IpAddr,
    id: &str,
    reason: &str,
    disabled: bool,
) -> Result<Json<AdminUser>, ApiError> {
    let user_id = super::parse_user_id(id)?;
    let reason = super::parse_reason(reason)?;
    if disabled && user_id == actor_id {
        return Err(ApiError::conflict(
            "cannot_disable_self",
            "an admin cannot disable their own account",
        ));
    }
    let mut tx = state.db.begin().await?;
    let before = queries::lock_disabled(&mut *tx, user_id)
        .await?
        .ok_or(ApiError::not_found("user_not_found"))?;
    queries::set_disabled(&mut *tx, user_id, disabled).await?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id,
            action: if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            target: format!("user:{user_id}"),
            ip,
        },
        &json!({ "disabled": before }),
        &json!({ "disabled": disabled, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    if disabled {
        // After the flag is committed: a session made before it is in the index now.
        state.sessions.revoke_all(user_id).await?;
    }
    tracing::info!(admin_id = actor_id, user_id, disabled, "account status set");
    let user = queries::find_admin_user(&state.db, user_id)
        .await?
        .ok_or(ApiError::not_found("user_not_found"))?;
    Ok(Json(AdminUser::from(user)))
}
