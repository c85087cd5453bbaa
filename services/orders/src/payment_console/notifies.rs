//! `GET /api/admin/orders/{id}/notifies`: the order, and the Alipay notifies
//! the gateway received for its trades, oldest first, with their fields as sent
//! (the signature withheld) and what verification made of them.

use axum::extract::{Path, State};
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::queries;
use super::types::{NotifyEntry, NotifyList};
use crate::orders::get::load_view;
use crate::payments::queries as payment_queries;
use crate::state::AppState;

/// The notify log of an order.
#[utoipa::path(
    get,
    path = "/api/admin/orders/{id}/notifies",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = NotifyList),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`not_found`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<NotifyList>, ApiError> {
    let order_id = super::path_id(&id, "not_found")?;
    let order = load_view(&state, order_id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::not_found("not_found"))?;
    let trades = payment_queries::attempts(&state.db, order_id).await?;
    let rows = queries::notifies(&state.db, &trades).await?;
    Ok(Json(NotifyList {
        order,
        items: rows.into_iter().map(NotifyEntry::from).collect(),
    }))
}
