//! Chat rooms and their history: list, read, rename, delete (soft). A room of
//! another user is answered as not found.

mod handlers;
pub mod queries;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::list))
        .routes(routes!(handlers::rename, handlers::delete))
        .routes(routes!(handlers::messages))
}
