//! Stock: the Redis counts of what can be ordered now (`counts`: reserve, give
//! back, load), and their repair from the database (`reconcile`: at start,
//! periodically, and the admin's `POST /api/admin/stock/reconcile`).

pub mod counts;
pub mod reconcile;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
pub use counts::{Reservation, Stock, Take, giveback_failed};

/// The admin's stock repair.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reconcile::reconcile_stock))
}
