//! Chat: the streaming relay to the upstream model (`POST /api/chat/completions`)
//! and the model list. Rooms and history live in `crate::rooms`, the word
//! filter in `crate::sensitive`.

mod charge;
pub mod context;
mod error;
pub mod flow_metrics;
mod handlers;
pub mod queries;
mod quiet;
mod relay;
pub mod settings;
pub mod slots;
mod sse;
pub mod stale;
pub mod types;
pub mod upstream;
mod upstream_conn;
mod upstream_socket;
pub mod writer;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::completions))
        .routes(routes!(handlers::models))
}
