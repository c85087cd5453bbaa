//! `POST /api/admin/codes/{id}/disable`: a code can no longer be redeemed (or
//! sold). Disabling an unsold code takes its unit out of the product's stock
//! too, in the database and then in Redis, so an order is never taken for a
//! unit without a code. A redeemed code cannot be disabled; disabling a
//! disabled one changes nothing.

use axum::extract::{Path, State};
use chrono::Utc;
use paychat_common::auth::AdminUser;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::queries;
use super::states::CodeState;
use super::types::{AdminCode, DisableBody};
use crate::state::AppState;
use paychat_common::audit::{self, Action, parse_reason};

const NOT_FOUND: &str = "code_not_found";

/// Disables a code.
#[utoipa::path(
    post,
    path = "/api/admin/codes/{id}/disable",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = DisableBody,
    responses(
        (status = 200, body = AdminCode),
        (status = 400, description = "`invalid_request` (reason)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`code_not_found`"),
        (status = 409, description = "`code_used`: it was redeemed"),
    )
)]
pub async fn disable(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<DisableBody>,
) -> Result<Json<AdminCode>, ApiError> {
    let id = crate::payment_console::path_id(&id, NOT_FOUND)?;
    let reason = parse_reason(&body.reason)?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let row = queries::lock(&mut tx, id)
        .await?
        .ok_or(ApiError::not_found(NOT_FOUND))?;
    let before = row.state(now);
    match before {
        CodeState::Redeemed => {
            return Err(ApiError::conflict(
                "code_used",
                "this code has been redeemed; it cannot be disabled",
            ));
        }
        CodeState::Disabled => {
            tx.rollback().await?;
            return Ok(Json(AdminCode::new(row, now)));
        }
        CodeState::Unsold | CodeState::Sold | CodeState::Expired => {}
    }
    queries::set_disabled(&mut tx, id).await?;
    if before == CodeState::Unsold {
        queries::take_stock(&mut tx, row.product_id).await?;
    }
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "code.disable",
            target: format!("code:{id}"),
            ip,
        },
        &json!({ "state": before, "product_id": row.product_id.to_string() }),
        &json!({ "state": CodeState::Disabled, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    if before == CodeState::Unsold
        && let Err(e) = state.stock.add(row.product_id, -1).await
    {
        // The scheduled stock reconciliation sets the count from the database.
        tracing::warn!(product_id = row.product_id, error = %e, "could not take a disabled code's unit from Redis");
    }
    tracing::info!(admin_id = admin.user_id, code_id = id, "code disabled");
    let row = queries::one(&state.db, id)
        .await?
        .ok_or(ApiError::not_found(NOT_FOUND))?;
    Ok(Json(AdminCode::new(row, Utc::now())))
}
