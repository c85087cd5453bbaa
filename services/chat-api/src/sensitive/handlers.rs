//! `GET/POST/DELETE /api/admin/sensitive-words` (admins only).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use paychat_common::ApiError;
use paychat_common::auth::AdminUser;
use paychat_common::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::filter::normalise;
use super::queries::{self, WordRow};
use crate::pagination::{PageQuery, next_id_cursor};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SensitiveWord {
    id: String,
    word: String,
    enabled: bool,
    created_at: String,
}

impl From<WordRow> for SensitiveWord {
    fn from(row: WordRow) -> Self {
        Self {
            id: row.id.to_string(),
            word: row.word,
            enabled: row.status == 1,
            created_at: crate::pagination::rfc3339(row.create_time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WordPage {
    items: Vec<SensitiveWord>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWord {
    word: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/sensitive-words", tag = "admin",
    params(ListQuery), responses((status = 200, body = WordPage)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<WordPage>, ApiError> {
    let page = PageQuery::new(query.limit, query.cursor.as_deref())?;
    let before = page.cursor_id()?;
    let mut conn = state.db.acquire().await?;
    let rows = queries::page(&mut conn, before, page.limit + 1).await?;
    let (rows, more) = page.split(rows);
    let next_cursor = next_id_cursor(&rows, more, |r| r.id);
    Ok(axum::Json(WordPage {
        items: rows.into_iter().map(SensitiveWord::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(post, path = "/api/admin/sensitive-words", tag = "admin",
    request_body = NewWord, responses((status = 201, body = SensitiveWord)))]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(body): Json<NewWord>,
) -> Result<(StatusCode, axum::Json<SensitiveWord>), ApiError> {
    let word = body.word.trim();
    if normalise(word).is_empty() || word.chars().count() > 255 {
        return Err(ApiError::field(
            "invalid_request",
            "word",
            "must hold 1 to 255 visible characters",
        ));
    }
    let mut conn = state.db.acquire().await?;
    if queries::exists(&mut conn, word).await? {
        return Err(ApiError::conflict(
            "word_exists",
            "this word is already listed",
        ));
    }
    let row = queries::insert(&mut conn, state.ids.next(), word).await?;
    drop(conn);
    state.sensitive.changed().await?;
    tracing::info!(
        admin_id = admin.user_id,
        word_id = row.id,
        "sensitive word added"
    );
    Ok((StatusCode::CREATED, axum::Json(row.into())))
}

#[utoipa::path(delete, path = "/api/admin/sensitive-words/{id}", tag = "admin",
    params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ApiError::not_found("not_found"))?;
    let mut conn = state.db.acquire().await?;
    if !queries::soft_delete(&mut conn, id).await? {
        return Err(ApiError::not_found("not_found"));
    }
    drop(conn);
    state.sensitive.changed().await?;
    tracing::info!(
        admin_id = admin.user_id,
        word_id = id,
        "sensitive word deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}
