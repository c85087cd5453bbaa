//! `GET` and `PATCH /api/users/me`: the signed-in user's profile.

use axum::extract::State;
use paychat_common::auth::AuthUser;
use paychat_common::{ApiError, Json};

use super::domain::{Description, Nickname};
use super::queries;
use super::types::{UpdateMeRequest, User, parse_locale};
use crate::state::AppState;

async fn load(state: &AppState, user_id: i64) -> Result<User, ApiError> {
    queries::find_user(&state.db, user_id)
        .await?
        .map(User::from)
        .ok_or(ApiError::Unauthorized)
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn get_me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>, ApiError> {
    load(&state, user.user_id).await.map(Json)
}

/// Changes the nickname, the description and/or the language.
#[utoipa::path(
    patch,
    path = "/api/users/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 400, description = "`invalid_request` with `fields`"),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<UpdateMeRequest>,
) -> Result<Json<User>, ApiError> {
    let nickname = body
        .nickname
        .as_deref()
        .map(Nickname::parse)
        .transpose()
        .map_err(|p| ApiError::field("invalid_request", "nickname", p))?;
    let description = body
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()
        .map_err(|p| ApiError::field("invalid_request", "description", p))?;
    let locale = body.locale.as_deref().map(parse_locale).transpose()?;
    if let Some(nickname) = &nickname {
        queries::set_nickname(&state.db, user.user_id, nickname.as_str()).await?;
    }
    if let Some(description) = &description {
        queries::set_description(&state.db, user.user_id, description.as_deref()).await?;
    }
    if let Some(locale) = locale {
        queries::set_locale(&state.db, user.user_id, locale).await?;
    }
    load(&state, user.user_id).await.map(Json)
}
