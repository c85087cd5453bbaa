//! `GET /api/orders/{id}`: one of my orders, and the order JSON of any order
//! (its items, current QR code, refund and close reason).

use axum::extract::{Path, State};
use chrono::Utc;
use paychat_common::Json;
use paychat_common::auth::AuthUser;

use super::types::OrderView;
use super::{OrderError, close, queries, refunds};
use crate::state::AppState;

pub async fn load_view(state: &AppState, order_id: i64) -> Result<Option<OrderView>, OrderError> {
    let Some(row) = queries::find(&state.db, order_id).await? else {
        return Ok(None);
    };
    let items = queries::items(&state.db, &[order_id]).await?;
    let mut view = OrderView::new(&row, &items);
    view.qr_code = queries::current_qrs(&state.db, &[order_id], Utc::now().naive_utc())
        .await?
        .remove(&order_id);
    view.refund = refunds::of_orders(&state.db, &[order_id])
        .await?
        .remove(&order_id);
    view.close_reason = close::reasons(&state.db, &[order_id])
        .await?
        .remove(&order_id);
    Ok(Some(view))
}

pub async fn own_order(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<super::types::OrderRow, OrderError> {
    let id: i64 = id.parse().map_err(|_| OrderError::NotFound)?;
    queries::find(&state.db, id)
        .await?
        .filter(|o| o.user_id == user.user_id)
        .ok_or(OrderError::NotFound)
}

/// One of my orders.
#[utoipa::path(get, path = "/api/orders/{id}", responses((status = 200, body = OrderView), (status = 404)))]
pub async fn get_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, OrderError> {
    let row = own_order(&state, &user, &id).await?;
    let items = queries::items(&state.db, &[row.id]).await?;
    let mut view = OrderView::new(&row, &items);
    view.qr_code = queries::current_qrs(&state.db, &[row.id], Utc::now().naive_utc())
        .await?
        .remove(&row.id);
    view.refund = refunds::of_orders(&state.db, &[row.id])
        .await?
        .remove(&row.id);
    view.close_reason = close::reasons(&state.db, &[row.id]).await?.remove(&row.id);
    Ok(Json(view))
}
