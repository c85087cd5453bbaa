//! The sessions page: `GET /api/users/me/sessions`, `DELETE
//! /api/users/me/sessions/{id}` and `DELETE /api/users/me/sessions?others=true`.
//! Sessions live in Redis ([`paychat_common::auth::Sessions`]); an ended
//! session's next request answers 401 in every service.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use paychat_common::auth::{AuthUser, Origin, SessionInfo};
use paychat_common::{ApiError, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::types::rfc3339;
use crate::state::AppState;

/// Where a new session begins: the caller's IP and browser.
pub fn origin(ip: std::net::IpAddr, headers: &HeaderMap) -> Origin {
    Origin {
        ip: Some(ip.to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The session's public id (not its token, nor the token's hash).
    pub id: String,
    /// RFC 3339, UTC; null for sessions from before this was kept.
    pub created_at: Option<String>,
    /// RFC 3339, UTC; updated at most once a minute.
    pub last_seen_at: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

impl From<SessionInfo> for Session {
    fn from(s: SessionInfo) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at.map(rfc3339),
            last_seen_at: s.last_seen_at.map(rfc3339),
            ip: s.ip,
            user_agent: s.user_agent,
            current: s.current,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<Session>,
}

/// The signed-in user's sessions, the current one first, then the most recently used.
#[utoipa::path(
    get,
    path = "/api/users/me/sessions",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sessions", body = SessionList),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SessionList>, ApiError> {
    let items = state.sessions.list(&user).await?;
    Ok(Json(SessionList {
        items: items.into_iter().map(Session::from).collect(),
    }))
}

/// Ends one of the user's sessions (this one too, if named).
#[utoipa::path(
    delete,
    path = "/api/users/me/sessions/{id}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "A session id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "`unauthorized`"),
        (status = 404, description = "`session_not_found`"),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id.len() > 64 || !state.sessions.revoke_id(user.user_id, &id).await? {
        return Err(ApiError::NotFound {
            code: "session_not_found",
        });
    }
    tracing::info!(
        user_id = user.user_id,
        "session ended from the sessions page"
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OthersQuery {
    /// Must be `true`: every session but this one ends.
    pub others: Option<bool>,
}

/// Ends every other session of the user.
#[utoipa::path(
    delete,
    path = "/api/users/me/sessions",
    tag = "accounts",
    security(("bearer" = [])),
    params(OthersQuery),
    responses(
        (status = 204, description = "Every other session ended"),
        (status = 400, description = "`invalid_request` (without `others=true`)"),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn revoke_others(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<OthersQuery>,
) -> Result<StatusCode, ApiError> {
    if query.others != Some(true) {
        return Err(ApiError::invalid(
            "add others=true to end every other session",
        ));
    }
    state.sessions.revoke_others(&user).await?;
    Ok(StatusCode::NO_CONTENT)
}
