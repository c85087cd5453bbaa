//! The operator console's Codes panel (role `admin`): a product's codes with
//! their state, disabling one, and the CSV export of a product's unsold ones.
//!
//! - `list.rs`: `GET /api/admin/codes`
//! - `disable.rs`: `POST /api/admin/codes/{id}/disable`
//! - `export.rs`: `GET /api/admin/codes/export` (streamed `text/csv`)
//! - `states.rs`: a code's state and its SQL condition; `queries.rs` (SQL);
//!   `types.rs` (answers and query strings)

pub mod disable;
pub mod export;
pub mod list;
pub mod queries;
pub mod states;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list))
        .routes(routes!(export::export))
        .routes(routes!(disable::disable))
}
