//! `GET /api/admin/users` (search by email substring or exact id, newest
//! first) and `GET /api/admin/users/{id}` (the detail drawer).

use axum::extract::{Path, Query, State};
use paychat_common::auth::AdminUser as Admin;
use paychat_common::{ApiError, Json};
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries;
use super::types::{AdminUser, AdminUserDetail, AdminUserPage};
use crate::pagination::{PageQuery, next_id_cursor};
use crate::state::AppState;

/// How many of each recent list the detail carries.
const RECENT: u32 = 10;

#[derive(Debug, Deserialize, IntoParams)]
pub struct UsersQuery {
    /// An email substring or an exact user id.
    q: Option<String>,
    /// 1..=100, default 20.
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Users, newest first, with their order figures.
#[utoipa::path(
    get,
    path = "/api/admin/users",
    tag = "admin",
    security(("bearer" = [])),
    params(UsersQuery),
    responses(
        (status = 200, body = AdminUserPage),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<UsersQuery>,
) -> Result<Json<AdminUserPage>, ApiError> {
    let page = PageQuery::new(query.limit, query.cursor.as_deref())?;
    let before = page.cursor_id()?.unwrap_or(i64::MAX);
    let q = query.q.as_deref().unwrap_or("").trim();
    let rows = queries::search_users(&state.db, q, before, page.limit + 1).await?;
    let (rows, more) = page.split(rows);
    let next_cursor = next_id_cursor(&rows, more, |r| r.id);
    Ok(Json(AdminUserPage {
        items: rows.into_iter().map(AdminUser::from).collect(),
        next_cursor,
    }))
}

/// One user with bindings, recent sign-ins, recent orders and the chat-times ledger.
#[utoipa::path(
    get,
    path = "/api/admin/users/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = AdminUserDetail),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`user_not_found`"),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<AdminUserDetail>, ApiError> {
    let id = super::parse_user_id(&id)?;
    let user = queries::find_admin_user(&state.db, id)
        .await?
        .ok_or(ApiError::not_found("user_not_found"))?;
    let (bindings, logins, orders, ledger) = tokio::try_join!(
        queries::bindings(&state.db, id),
        queries::recent_logins(&state.db, id, RECENT),
        queries::recent_orders(&state.db, id, RECENT),
        queries::times_ledger(&state.db, id, RECENT),
    )?;
    Ok(Json(AdminUserDetail {
        user: AdminUser::from(user),
        bindings: bindings.into_iter().map(Into::into).collect(),
        recent_logins: logins.into_iter().map(Into::into).collect(),
        recent_orders: orders.into_iter().map(Into::into).collect(),
        times_ledger: ledger.into_iter().map(Into::into).collect(),
    }))
}
