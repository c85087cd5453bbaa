//! `GET /api/admin/codes?product_id=&state=`: codes newest first, a page at a time.

use axum::extract::{Query, State};
use chrono::Utc;
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::queries::{self, Filter};
use super::states::CodeState;
use super::types::{AdminCode, AdminCodeList, CodesQuery};
use crate::payment_console::{cursor, limit};
use crate::state::AppState;

/// Reads `product_id` and `state` of a query string.
pub fn filter(product_id: Option<&str>, state: Option<&str>) -> Result<Filter, ApiError> {
    let product_id = match product_id.filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.parse::<i64>()
                .map_err(|_| ApiError::field("invalid_request", "product_id", "not an id"))?,
        ),
        None => None,
    };
    let state = match state.filter(|s| !s.is_empty()) {
        Some(s) => Some(CodeState::parse(s).ok_or_else(|| {
            ApiError::field(
                "invalid_request",
                "state",
                "must be unsold, sold, redeemed, disabled or expired",
            )
        })?),
        None => None,
    };
    Ok(Filter { product_id, state })
}

/// Codes, of one product and in one state when asked, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/codes",
    tag = "admin",
    security(("bearer" = [])),
    params(CodesQuery),
    responses(
        (status = 200, body = AdminCodeList),
        (status = 400, description = "`invalid_request` (product_id, state, cursor)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<CodesQuery>,
) -> Result<Json<AdminCodeList>, ApiError> {
    let f = filter(q.product_id.as_deref(), q.state.as_deref())?;
    let limit = limit(q.limit);
    let before = cursor(q.cursor.as_deref())?;
    let mut rows = queries::page_desc(&state.db, f, before, limit + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let now = Utc::now();
    Ok(Json(AdminCodeList {
        next_cursor: more
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten(),
        items: rows.into_iter().map(|r| AdminCode::new(r, now)).collect(),
    }))
}
