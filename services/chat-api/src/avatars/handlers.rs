//! `POST /api/users/me/avatar` (multipart, field `file`) and
//! `GET /api/users/{id}/avatar?v=N`, the versioned URL of `user.avatar_url`.

use axum::extract::multipart::MultipartError;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use paychat_common::auth::AuthUser;
use paychat_common::{ApiError, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::image_check::{self, MAX_BYTES, Refused};
use super::queries;
use super::store::StoreError;
use crate::accounts::queries as accounts_db;
use crate::accounts::types::User;
use crate::state::AppState;

/// The multipart form of an upload (for the OpenAPI document).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the request for the OpenAPI document only"
)]
pub struct AvatarUpload {
    /// A PNG, JPEG or WebP image of at most 2 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn invalid_image(refused: Refused) -> ApiError {
    match refused {
        Refused::TooLarge => ApiError::PayloadTooLarge,
        other => ApiError::field("invalid_image", "file", other.to_string()),
    }
}

fn multipart_error(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::field(
            "invalid_request",
            "file",
            "must be a multipart form with a file",
        )
    }
}

fn unavailable(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "avatar storage");
    ApiError::Unavailable {
        code: "storage_unavailable",
        message: "avatars cannot be stored right now: try again later".into(),
    }
}

/// The bytes of the form's `file` field, refused past [`MAX_BYTES`] as they arrive.
async fn read_file(multipart: &mut Multipart) -> Result<Vec<u8>, ApiError> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Err(ApiError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(ApiError::field("invalid_request", "file", "is required"))
}

/// Sets the signed-in user's avatar.
#[utoipa::path(
    post,
    path = "/api/users/me/avatar",
    tag = "accounts",
    security(("bearer" = [])),
    request_body(content = AvatarUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The user, with the new versioned `avatar_url`", body = User),
        (status = 400, description = "`invalid_image`: not a whole PNG, JPEG or WebP image (judged by content)"),
        (status = 401, description = "`unauthorized`"),
        (status = 413, description = "`payload_too_large`: over 2 MiB"),
        (status = 429, description = "`rate_limited` (uploads per user), with `Retry-After`"),
        (status = 503, description = "`storage_unavailable`"),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    mut multipart: Multipart,
) -> Result<Json<User>, ApiError> {
    let avatars = &state.avatars;
    state
        .limiter
        .hit(&[(
            &format!("avatar:user:{}", user.user_id),
            avatars.config.upload_limit(),
        )])
        .await?;
    let bytes = read_file(&mut multipart).await?;
    let webp = {
        let _slot = avatars
            .decoding
            .acquire()
            .await
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || image_check::to_avatar(&bytes))
            .await
            .map_err(ApiError::internal)?
            .map_err(invalid_image)?
    };
    let store = &avatars.store;
    // The object goes in before the version points at it, so no URL is ever
    // handed out for a picture that is not there.
    let mut attempts = 0;
    let previous = loop {
        let current = queries::version(&state.db, user.user_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        store
            .put(user.user_id, current + 1, webp.clone())
            .await
            .map_err(unavailable)?;
        if queries::bump(&state.db, user.user_id, current).await? {
            break current;
        }
        attempts += 1;
        if attempts == 3 {
            return Err(ApiError::Conflict {
                code: "avatar_busy",
                message: "another upload is changing the avatar: try again".into(),
                extra: serde_json::Map::new(),
            });
        }
    };
    if previous > 0 {
        store.delete(user.user_id, previous).await;
    }
    metrics::counter!("avatar_uploads_total").increment(1);
    tracing::info!(
        user_id = user.user_id,
        version = previous + 1,
        "avatar changed"
    );
    let row = accounts_db::find_user(&state.db, user.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Json(User::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AvatarQuery {
    /// The version from `avatar_url`; without it, the current one (not cached).
    pub v: Option<i32>,
}

/// A user's avatar, a 256×256 WebP. Public, like a picture shown beside a
/// message; a versioned URL never changes, so it may be cached for a year.
#[utoipa::path(
    get,
    path = "/api/users/{id}/avatar",
    tag = "accounts",
    params(("id" = String, Path, description = "The user's id"), AvatarQuery),
    responses(
        (status = 200, description = "The picture", content_type = "image/webp"),
        (status = 404, description = "`not_found`: no such user, avatar or version"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<AvatarQuery>,
) -> Result<Response, ApiError> {
    let user_id = id
        .parse::<i64>()
        .map_err(|_| ApiError::not_found("not_found"))?;
    let (version, cache) = match query.v {
        Some(v) if v > 0 => (v, "public, max-age=31536000, immutable"),
        Some(_) => return Err(ApiError::not_found("not_found")),
        None => match queries::version(&state.db, user_id).await? {
            Some(v) if v > 0 => (v, "no-cache"),
            _ => return Err(ApiError::not_found("not_found")),
        },
    };
    let bytes = match state.avatars.store.get(user_id, version).await {
        Ok(bytes) => bytes,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("not_found")),
        Err(e) => return Err(unavailable(e)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/webp"),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}
