//! Introspection for tests: `GET /sim/requests` lists what the server received.

use axum::{
    Json,
    extract::{Query, State},
};
use serde::{Deserialize, Serialize};

use crate::{AppState, records::RecordView};

/// Records returned when `limit` is not given.
const DEFAULT_LIMIT: usize = 100;

#[derive(Debug, Deserialize)]
pub struct RequestsQuery {
    /// Only records where some string inside `messages` contains this text.
    marker: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct RequestsPage {
    items: Vec<RecordView>,
}

pub async fn requests(
    State(state): State<AppState>,
    Query(query): Query<RequestsQuery>,
) -> Json<RequestsPage> {
    let marker = query.marker.as_deref().filter(|m| !m.is_empty());
    let items = state
        .recorder
        .find(marker, query.limit.unwrap_or(DEFAULT_LIMIT));
    Json(RequestsPage { items })
}
