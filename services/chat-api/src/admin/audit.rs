//! The audit log: every admin action writes one row in the transaction of its
//! change (`paychat_common::audit::record`); `GET /api/admin/audit-log` lists
//! them newest first.

use axum::extract::{Query, State};
use paychat_common::auth::AdminUser as Admin;
use paychat_common::{ApiError, Json};
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries;
use super::types::{AuditEntry, AuditPage};
use crate::pagination::{PageQuery, next_id_cursor};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this admin's actions (a user id).
    actor: Option<String>,
    /// Only this action, e.g. `user.disable`.
    action: Option<String>,
    /// 1..=100, default 20.
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Admin actions, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/audit-log",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "`invalid_request` (actor, limit or cursor)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = PageQuery::new(query.limit, query.cursor.as_deref())?;
    let before = page.cursor_id()?.unwrap_or(i64::MAX);
    let actor = match query.actor.as_deref().filter(|a| !a.is_empty()) {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::field("invalid_request", "actor", "is not a user id"))?,
        ),
        None => None,
    };
    let action = query.action.as_deref().filter(|a| !a.is_empty());
    let rows = queries::audit_rows(&state.db, actor, action, before, page.limit + 1).await?;
    let (rows, more) = page.split(rows);
    let next_cursor = next_id_cursor(&rows, more, |r| r.id);
    Ok(Json(AuditPage {
        items: rows.into_iter().map(AuditEntry::from).collect(),
        next_cursor,
    }))
}
