//! `POST /api/admin/orders/{id}/refund` (role `admin`): a completed order's
//! payment goes back through the gateway to Alipay, its unused codes are
//! revoked, and the order becomes `refunded`; refused while any of its codes
//! has been redeemed.
//!
//! - `order.rs`: the handler and the one transaction it runs in;
//! - `queries.rs`: its SQL; `types.rs`: the body and the error.

pub mod order;
pub mod queries;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(order::refund_order))
}
