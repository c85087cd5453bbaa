//! `GET /api/admin/stats/problems`: what needs an operator — parked payment
//! events, unpaid QR-code orders past their window, refused notifies.

use axum::extract::State;
use chrono::{TimeDelta, Utc};
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::queries;
use super::types::Problems;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/admin/stats/problems",
    responses((status = 200, body = Problems)))]
pub async fn problems(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<Problems>, ApiError> {
    let now = Utc::now().naive_utc();
    Ok(Json(Problems {
        payment_failures: queries::open_payment_failures(&state.db).await?,
        stale_awaiting_confirmation: queries::stale_awaiting_confirmation(&state.db, now).await?,
        refused_notifies_24h: queries::refused_notifies(&state.db, now - TimeDelta::hours(24))
            .await?,
    }))
}
