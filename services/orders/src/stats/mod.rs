//! The sales dashboard of the operator console (role `admin`): a summary of
//! today / 7 / 30 days, daily figures, the best-selling products and the
//! problems to look at.
//!
//! - `summary.rs`, `daily.rs`, `hot.rs`, `problems.rs`, `rebuild.rs`: one action each;
//! - `ledger.rs`: the Redis day counters and rankings, bumped once per completed
//!   order (`ledger::order_completed`, called by fulfilment after commit) and
//!   rebuilt from the database;
//! - `queries.rs`: the SQL; `types.rs`: answers, query strings, the shop's calendar.

pub mod daily;
pub mod hot;
pub mod ledger;
pub mod problems;
pub mod queries;
pub mod rebuild;
pub mod summary;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary::summary))
        .routes(routes!(daily::daily))
        .routes(routes!(hot::hot_products))
        .routes(routes!(problems::problems))
        .routes(routes!(rebuild::rebuild))
}
