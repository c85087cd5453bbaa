//! `GET /api/admin/stats/hot-products?by=units|revenue&days=30&limit=10`:
//! the best sellers, read from the Redis rankings.

use axum::extract::{Query, State};
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::types::{HotProduct, HotProducts, HotQuery, RankBy, days_param, money};
use super::{ledger, queries};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/admin/stats/hot-products", params(HotQuery),
    responses((status = 200, body = HotProducts)))]
pub async fn hot_products(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<HotQuery>,
) -> Result<Json<HotProducts>, ApiError> {
    let by = match q.by.as_deref().unwrap_or("units") {
        "units" => RankBy::Units,
        "revenue" => RankBy::Revenue,
        _ => {
            return Err(ApiError::field(
                "invalid_request",
                "by",
                "must be units or revenue",
            ));
        }
    };
    let days = days_param(q.days)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field(
            "invalid_request",
            "limit",
            "must be 1..=100",
        ));
    }
    let ranked = ledger::ranking(&state, by, days, limit).await?;
    let ids: Vec<i64> = ranked.iter().map(|r| r.0).collect();
    let names = queries::product_names(&state.db, &ids).await?;
    let items = ranked
        .into_iter()
        .map(|(product_id, units, revenue)| HotProduct {
            product_id,
            name: names.get(&product_id).cloned().unwrap_or_default(),
            units,
            revenue: money(revenue),
        })
        .collect();
    Ok(Json(HotProducts { items }))
}
