//! `GET /api/exchange-codes`: the codes I own, newest first, a page at a time.

use axum::extract::{Query, State};
use paychat_common::auth::AuthUser;
use paychat_common::{ApiError, Json};

use super::queries;
use super::types::{ListQuery, OwnedCode, OwnedCodeList, display, expires_at};
use crate::state::AppState;

/// Codes I own, newest first.
#[utoipa::path(get, path = "/api/exchange-codes", params(ListQuery), responses((status = 200, body = OwnedCodeList)))]
pub async fn list_codes(
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
    let mut rows = queries::owned(&state.db, user.user_id, before, limit + 1).await?;
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
