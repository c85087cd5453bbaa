//! Payment: `POST /api/orders/{id}/pay` (a QR code through the gateway's sealed
//! precreate) and `POST /api/orders/{id}/close` (settled at Alipay first), the
//! payment port every close asks, fulfilment of paid orders from the
//! gateway's events, and reconciliation of lost notifies.

pub mod close;
pub mod config;
pub mod consumer;
pub mod fulfil;
pub mod gateway;
pub mod mail;
pub mod pay;
pub mod queries;
pub mod reconcile;
pub mod retry;
pub mod settle;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use gateway::GatewayClient;
use mail::Mailer;

/// What the payment side of orders holds.
pub struct Payments {
    pub gateway: std::sync::Arc<GatewayClient>,
    pub mailer: Mailer,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pay::pay_order))
        .routes(routes!(close::close_order))
}
