//! `GET /api/admin/stats/summary`: today, the last 7 and the last 30 days.

use axum::extract::State;
use chrono::Days;
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::queries::{self, Bounds};
use super::types::{RangeFigures, ShopClock, Summary, money};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/admin/stats/summary",
    responses((status = 200, body = Summary)))]
pub async fn summary(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<Summary>, ApiError> {
    let clock = ShopClock::new(state.config.orders.shop_utc_offset_minutes);
    let today = clock.today();
    let b = Bounds {
        today: clock.start_of(today),
        week: clock.start_of(today - Days::new(6)),
        month: clock.start_of(today - Days::new(29)),
    };
    let db = &state.db;
    // Independent scans over different indexes: run side by side on their own
    // connections, the panel waits for the slowest instead of their sum.
    let ((paid, revenue), placed, closed, refunded, users, (answers, used), sold) = tokio::try_join!(
        queries::paid(db, b),
        queries::placed(db, b),
        queries::closed(db, b),
        queries::refunded(db, b),
        queries::new_users(db, b),
        queries::answers(db, b),
        queries::times_sold(db, b),
    )?;
    let range = |i: usize| RangeFigures {
        revenue: money(revenue[i]),
        paid_orders: paid[i],
        placed_orders: placed[i],
        closed_orders: closed[i],
        refunded_orders: refunded[i],
        new_users: users[i],
        answers: answers[i],
        chat_times_sold: sold[i],
        chat_times_used: used[i],
    };
    Ok(Json(Summary {
        today: range(0),
        last_7_days: range(1),
        last_30_days: range(2),
    }))
}
