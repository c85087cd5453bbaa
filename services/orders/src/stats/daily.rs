//! `GET /api/admin/stats/daily?days=30`: one row per shop day, oldest first,
//! days without activity included. Paid orders and revenue come from the
//! Redis day counters, the rest from the database.

use axum::extract::{Query, State};
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};
use rust_decimal::Decimal;

use super::types::{Daily, DailyQuery, DayFigures, ShopClock, days_param, money};
use super::{ledger, queries};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/admin/stats/daily", params(DailyQuery),
    responses((status = 200, body = Daily)))]
pub async fn daily(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<DailyQuery>,
) -> Result<Json<Daily>, ApiError> {
    let days = days_param(q.days)?;
    let clock = ShopClock::new(state.config.orders.shop_utc_offset_minutes);
    let dates = clock.last_days(days);
    let (counts, paid) = tokio::try_join!(
        async {
            queries::day_counts(&state.db, clock.offset_minutes(), clock.start_of(dates[0]))
                .await
                .map_err(ApiError::from)
        },
        async {
            ledger::paid_by_day(&state, &dates)
                .await
                .map_err(ApiError::from)
        },
    )?;
    let items = dates
        .iter()
        .map(|d| {
            let c = counts.get(d).copied().unwrap_or_default();
            let (paid_orders, revenue) = paid.get(d).copied().unwrap_or((0, Decimal::ZERO));
            DayFigures {
                date: d.to_string(),
                revenue: money(revenue),
                paid_orders,
                placed_orders: c.placed,
                closed_orders: c.closed,
                new_users: c.users,
                answers: c.answers,
                tokens: c.tokens,
            }
        })
        .collect();
    Ok(Json(Daily { items }))
}
