//! The operator console's upstream keys and models (API.md's "Added:
//! operator console"), admins only: 401 without a session, 403 for a user.
//!
//! - `catalog.rs`: the keys and models every copy uses, reloaded within
//!   seconds of a change; the configuration's keys imported on first start
//! - `sealing.rs`: AES-256-GCM sealing of the keys in the database, masks
//! - `keys.rs`: `GET/POST /api/admin/llm-keys`, `PATCH/DELETE /api/admin/llm-keys/{id}`,
//!   `POST /api/admin/llm-keys/{id}/test`
//! - `models.rs`: `GET /api/admin/llm-models`, `PATCH /api/admin/llm-models/{name}`
//! - `queries.rs` (SQL), `types.rs` (bodies)

pub mod catalog;
mod keys;
mod models;
pub mod queries;
pub mod sealing;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::update, keys::delete))
        .routes(routes!(keys::test))
        .routes(routes!(models::list))
        .routes(routes!(models::update))
}
