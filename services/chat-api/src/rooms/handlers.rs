//! Room endpoints: `GET /api/chat/rooms`, `GET /api/chat/rooms/{id}/messages`,
//! `PATCH` and `DELETE /api/chat/rooms/{id}`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use paychat_common::ApiError;
use paychat_common::auth::AuthUser;
use paychat_common::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::{self, MessageRow, RoomRow};
use crate::chat::types::{MessageStatus, QUESTION, Usage};
use crate::pagination::{PageQuery, next_id_cursor, parse_id, rfc3339};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Room {
    id: String,
    title: String,
    created_at: String,
    updated_at: String,
}

impl From<RoomRow> for Room {
    fn from(row: RoomRow) -> Self {
        Self {
            id: row.id.to_string(),
            title: row.title,
            created_at: rfc3339(row.create_time),
            updated_at: rfc3339(row.update_time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomPage {
    items: Vec<Room>,
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    id: String,
    parent_id: Option<String>,
    /// `user` or `assistant`.
    role: &'static str,
    content: String,
    /// `streaming`, `done`, `error` or `interrupted`.
    status: &'static str,
    model: Option<String>,
    created_at: String,
    usage: Option<Usage>,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        let question = row.message_type == QUESTION;
        let usage = match (row.prompt_tokens, row.completion_tokens) {
            (Some(p), Some(c)) if !question => Some(Usage {
                prompt_tokens: p,
                completion_tokens: c,
                total_tokens: row.total_tokens.unwrap_or(p + c),
            }),
            _ => None,
        };
        Self {
            id: row.message_id,
            parent_id: row.parent_message_id,
            role: if question { "user" } else { "assistant" },
            content: row.content,
            status: MessageStatus::from_code(row.status).as_str(),
            model: row.model_name,
            created_at: rfc3339(row.create_time),
            usage,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    items: Vec<Message>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// 1..=100, default 20.
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoomListQuery {
    /// 1..=100, default 20.
    limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same search).
    cursor: Option<String>,
    /// Only rooms whose title contains this text (case ignored; at most 100
    /// characters; blank means no filter).
    q: Option<String>,
}

/// The longest search text, as long as a title can be renamed to.
const SEARCH_MAX: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameRoom {
    title: String,
}

fn room_id(text: &str) -> Result<i64, ApiError> {
    // A malformed id cannot name a room of the caller.
    text.parse().map_err(|_| ApiError::not_found("not_found"))
}

/// Room cursors carry the sort key: `<update_time ms>.<id>`.
fn room_cursor(row: &RoomRow) -> String {
    format!("{}.{}", row.update_time.timestamp_millis(), row.id)
}

fn parse_room_cursor(text: &str) -> Result<(DateTime<Utc>, i64), ApiError> {
    let bad = || ApiError::field("invalid_request", "cursor", "is not a cursor we gave out");
    let (ms, id) = text.split_once('.').ok_or_else(bad)?;
    let ms: i64 = ms.parse().map_err(|_| bad())?;
    let at = DateTime::from_timestamp_millis(ms).ok_or_else(bad)?;
    Ok((at, parse_id(id)?))
}

#[utoipa::path(get, path = "/api/chat/rooms", tag = "chat", params(RoomListQuery),
    responses((status = 200, body = RoomPage), (status = 400), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<RoomListQuery>,
) -> Result<axum::Json<RoomPage>, ApiError> {
    let page = PageQuery::new(query.limit, query.cursor.as_deref())?;
    let after = page.cursor.as_deref().map(parse_room_cursor).transpose()?;
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if search.is_some_and(|q| q.chars().count() > SEARCH_MAX) {
        return Err(ApiError::field(
            "invalid_request",
            "q",
            "must be at most 100 characters",
        ));
    }
    let mut conn = state.db.acquire().await?;
    let rows = queries::page(&mut conn, user.user_id, search, after, page.limit + 1).await?;
    let (rows, more) = page.split(rows);
    let next_cursor = more.then(|| rows.last().map(room_cursor)).flatten();
    Ok(axum::Json(RoomPage {
        items: rows.into_iter().map(Room::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/chat/rooms/{id}/messages", tag = "chat",
    params(("id" = String, Path), ListQuery),
    responses((status = 200, body = MessagePage), (status = 404)))]
pub async fn messages(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<MessagePage>, ApiError> {
    let room = room_id(&id)?;
    let page = PageQuery::new(query.limit, query.cursor.as_deref())?;
    let after = page.cursor_id()?;
    let mut conn = state.db.acquire().await?;
    queries::find(&mut conn, user.user_id, room)
        .await?
        .ok_or(ApiError::not_found("not_found"))?;
    let rows = queries::messages(&mut conn, room, after, page.limit + 1).await?;
    let (rows, more) = page.split(rows);
    let next_cursor = next_id_cursor(&rows, more, |r| r.id);
    Ok(axum::Json(MessagePage {
        items: rows.into_iter().map(Message::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(patch, path = "/api/chat/rooms/{id}", tag = "chat",
    params(("id" = String, Path)), request_body = RenameRoom,
    responses((status = 200, body = Room), (status = 404)))]
pub async fn rename(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<RenameRoom>,
) -> Result<axum::Json<Room>, ApiError> {
    let room = room_id(&id)?;
    let title = body.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ApiError::field(
            "invalid_request",
            "title",
            "must hold 1 to 100 characters",
        ));
    }
    let mut conn = state.db.acquire().await?;
    if !queries::rename(&mut conn, user.user_id, room, title).await? {
        return Err(ApiError::not_found("not_found"));
    }
    let row = queries::find(&mut conn, user.user_id, room)
        .await?
        .ok_or(ApiError::not_found("not_found"))?;
    Ok(axum::Json(row.into()))
}

#[utoipa::path(delete, path = "/api/chat/rooms/{id}", tag = "chat",
    params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let room = room_id(&id)?;
    let mut conn = state.db.acquire().await?;
    if !queries::soft_delete(&mut conn, user.user_id, room).await? {
        return Err(ApiError::not_found("not_found"));
    }
    Ok(StatusCode::NO_CONTENT)
}
