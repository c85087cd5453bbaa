//! `POST /api/orders/{id}/close`: the buyer gives up an unpaid order. Its
//! trade is settled at Alipay first (a buyer who already paid keeps the
//! order), then the order is closed and its stock given back.

use axum::extract::{Path, State};
use paychat_common::Json;
use paychat_common::auth::AuthUser;

use super::settle::settle_with_payment;
use crate::orders::get::{load_view, own_order};
use crate::orders::types::OrderView;
use crate::orders::{OrderError, close};
use crate::state::AppState;
use crate::states::OrderStatus;

/// Closes my unpaid order and returns its stock.
#[utoipa::path(post, path = "/api/orders/{id}/close", responses((status = 200, body = OrderView), (status = 404), (status = 409)))]
pub async fn close_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, OrderError> {
    let row = own_order(&state, &user, &id).await?;
    if !row.status().is_unpaid() {
        return Err(OrderError::NotClosable);
    }
    // Ask the payment side first: a buyer who already paid must not lose the order.
    settle_with_payment(&state, row.id, close::BY_BUYER).await?;
    let view = load_view(&state, row.id)
        .await?
        .ok_or(OrderError::NotFound)?;
    // Closed by us or, a moment earlier, by its timeout: either way it is closed.
    if view.status != OrderStatus::Closed {
        return Err(OrderError::NotClosable);
    }
    Ok(Json(view))
}
