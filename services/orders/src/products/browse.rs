//! `GET /api/products` and `GET /api/products/{id}`: the enabled products as
//! buyers see them, with the stock that can be ordered now (the Redis count).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use paychat_common::{ApiError, Json};
use serde::Deserialize;

use super::queries;
use super::types::{ProductList, ProductRow, ProductView};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// The Redis counts of `ids`. Keys Redis lost (a restart without its data)
/// are loaded from the database first, so the shop does not look sold out
/// until someone orders; if that fails the counts Redis has are shown.
async fn available(state: &AppState, ids: &[i64]) -> Result<HashMap<i64, i64>, ApiError> {
    let mut counts = state.stock.available(ids).await?;
    if counts.len() < ids.len() {
        match crate::stock::reconcile::load_missing(&state.db, &state.stock, ids).await {
            Ok(()) => counts = state.stock.available(ids).await?,
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "could not load missing stock keys"
            ),
        }
    }
    Ok(counts)
}

/// Enabled products by the admin's sort order (lower first), then best
/// sellers, then oldest, a page at a time.
#[utoipa::path(get, path = "/api/products", params(ListQuery), responses((status = 200, body = ProductList)))]
pub async fn list_products(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ProductList>, ApiError> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            queries::ListCursor::parse(c)
                .ok_or_else(|| ApiError::field("invalid_request", "cursor", "not a cursor"))?,
        ),
    };
    let mut rows = queries::list_enabled(&state.db, after, limit + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|r| queries::ListCursor::after(r).to_string())
        })
        .flatten();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let available = available(&state, &ids).await?;
    let items = rows
        .iter()
        .map(|r| ProductView::new(r, available.get(&r.id).copied().unwrap_or(0)))
        .collect();
    Ok(Json(ProductList { items, next_cursor }))
}

/// One enabled product.
#[utoipa::path(get, path = "/api/products/{id}", responses((status = 200, body = ProductView), (status = 404)))]
pub async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let not_found = || ApiError::not_found("product_not_found");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let row = queries::find(&state.db, id)
        .await?
        .filter(ProductRow::enabled)
        .ok_or_else(not_found)?;
    let available = available(&state, &[id]).await?;
    Ok(Json(ProductView::new(
        &row,
        available.get(&id).copied().unwrap_or(0),
    )))
}
