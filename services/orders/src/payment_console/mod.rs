//! The operator console's Payments panel (role `admin`): the queue of payment
//! events whose fulfilment kept failing, with a retry; "reconcile now" for one
//! order; and the notify log of an order as the gateway received it. The
//! refund is in `crate::refund`.
//!
//! - `failures.rs`: `GET /api/admin/payment-failures`, `POST .../{id}/retry`
//! - `reconcile.rs`: `POST /api/admin/orders/{id}/reconcile`
//! - `notifies.rs`: `GET /api/admin/orders/{id}/notifies`
//! - `queries.rs` (SQL), `types.rs` (answers and query strings)

pub mod failures;
pub mod notifies;
pub mod queries;
pub mod reconcile;
pub mod types;

use paychat_common::ApiError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(failures::list))
        .routes(routes!(failures::retry))
        .routes(routes!(reconcile::reconcile_order))
        .routes(routes!(notifies::list))
}

/// A page size: 1..=100, default 20.
pub fn limit(asked: Option<u32>) -> u32 {
    asked.unwrap_or(20).clamp(1, 100)
}

/// A `cursor` (the last id of the previous page); none: from the newest.
pub fn cursor(text: Option<&str>) -> Result<i64, ApiError> {
    match text.filter(|c| !c.is_empty()) {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::field("invalid_request", "cursor", "not a cursor")),
        None => Ok(i64::MAX),
    }
}

/// A path id of ours; anything else is not found.
pub fn path_id(text: &str, code: &'static str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| ApiError::not_found(code))
}
