//! `GET /api/orders`: my orders, newest first, a page at a time (the admin's
//! list shares the page).

use axum::extract::{Query, State};
use chrono::Utc;
use paychat_common::auth::AuthUser;
use paychat_common::{ApiError, Json};
use serde::Deserialize;

use super::types::{OrderList, OrderView};
use super::{OrderError, close, queries, refunds};
use crate::state::AppState;
use crate::states::OrderStatus;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// awaiting_payment, awaiting_confirmation, completed, invalid or closed.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

pub struct Page {
    pub status: Option<OrderStatus>,
    pub before: Option<i64>,
    pub limit: u32,
}

impl Page {
    pub fn parse(q: &ListQuery) -> Result<Self, ApiError> {
        let status =
            match q.status.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
                    ApiError::field("invalid_request", "status", "unknown status")
                })?),
            };
        let before = match q.cursor.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .map_err(|_| ApiError::field("invalid_request", "cursor", "not a cursor"))?,
            ),
        };
        Ok(Self {
            status,
            before,
            limit: q.limit.unwrap_or(20).clamp(1, 100),
        })
    }
}

pub async fn list_page(
    state: &AppState,
    user_id: Option<i64>,
    page: &Page,
) -> Result<OrderList, OrderError> {
    let mut rows =
        queries::page(&state.db, user_id, page.status, page.before, page.limit + 1).await?;
    let more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items = queries::items(&state.db, &ids).await?;
    let mut qrs = queries::current_qrs(&state.db, &ids, Utc::now().naive_utc()).await?;
    let mut refunded = refunds::of_orders(&state.db, &ids).await?;
    let mut closed = close::reasons(&state.db, &ids).await?;
    Ok(OrderList {
        next_cursor: more
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten(),
        items: rows
            .iter()
            .map(|r| {
                let mut view = OrderView::new(r, &items);
                view.qr_code = qrs.remove(&r.id);
                view.refund = refunded.remove(&r.id);
                view.close_reason = closed.remove(&r.id);
                view
            })
            .collect(),
    })
}

/// My orders, newest first.
#[utoipa::path(get, path = "/api/orders", params(ListQuery), responses((status = 200, body = OrderList)))]
pub async fn list_orders(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<OrderList>, OrderError> {
    let page = Page::parse(&q)?;
    Ok(Json(list_page(&state, Some(user.user_id), &page).await?))
}
