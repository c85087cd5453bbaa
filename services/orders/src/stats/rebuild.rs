//! `POST /api/admin/stats/rebuild`: the Redis counters and rankings rewritten
//! from the database (also done by itself whenever they are missing).

use axum::extract::State;
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::ledger;
use super::types::Rebuilt;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/admin/stats/rebuild",
    responses((status = 200, body = Rebuilt)))]
pub async fn rebuild(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<Json<Rebuilt>, ApiError> {
    let (days, orders) = ledger::rebuild(&state).await?;
    tracing::info!(
        admin_id = admin.user_id,
        days,
        orders,
        "sales dashboard rebuilt"
    );
    Ok(Json(Rebuilt { days, orders }))
}
