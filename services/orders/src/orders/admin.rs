//! The admin's order list (role `admin`): everyone's orders, narrowed to one
//! buyer by id or email address.

use axum::extract::{Query, State};
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::list::{ListQuery as OrderListQuery, Page, list_page};
use super::queries;
use super::types::{AdminOrder, AdminOrderList, AdminOrdersQuery};
use crate::state::AppState;

/// Everyone's orders, newest first; `user_id` or `email` narrows them to one buyer.
#[utoipa::path(get, path = "/api/admin/orders", params(AdminOrdersQuery),
    responses((status = 200, body = AdminOrderList)))]
pub async fn list_orders(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<AdminOrdersQuery>,
) -> Result<Json<AdminOrderList>, ApiError> {
    let page = Page::parse(&OrderListQuery {
        status: q.status,
        cursor: q.cursor,
        limit: q.limit,
    })?;
    let user_id = match q.user_id.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => Some(
            u.parse::<i64>()
                .map_err(|_| ApiError::field("invalid_request", "user_id", "not an id"))?,
        ),
        None => None,
    };
    let user_id = match q.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => match (queries::user_by_email(&state.db, email).await?, user_id) {
            (Some(owner), None) => Some(owner),
            (Some(owner), Some(asked)) if owner == asked => Some(owner),
            // No such address, or it belongs to another user than `user_id`: nothing matches.
            _ => {
                return Ok(Json(AdminOrderList {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
        },
        None => user_id,
    };
    let list = list_page(&state, user_id, &page).await?;
    let ids: Vec<i64> = list.items.iter().map(|o| o.id).collect();
    let owners = queries::owners(&state.db, &ids).await?;
    Ok(Json(AdminOrderList {
        next_cursor: list.next_cursor,
        items: list
            .items
            .into_iter()
            .map(|order| AdminOrder {
                user_id: owners.get(&order.id).copied().unwrap_or_default(),
                order,
            })
            .collect(),
    }))
}
