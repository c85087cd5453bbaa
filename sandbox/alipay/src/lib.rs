//! The sandbox Alipay: a local stand-in for Alipay's open-API gateway, the buyer's
//! phone and Alipay's notify sender, for local runs and tests only.
//!
//! Routes: `POST /gateway.do` (precreate, query, close, refund), `GET /qr/{token}` (the
//! buyer page) and `POST /qr/{token}/pay` (its Pay button), `POST /sim/pay/{out_trade_no}`
//! (`?notify=drop` pays without any notify), `GET /sim/trades` (every trade),
//! `GET /sim/trades/{out_trade_no}`, `GET`/`POST /sim/notify-faults` (the notify
//! fault switches of [`notifier::NotifyFaults`]), `GET /healthz`.

pub mod buyer;
pub mod config;
pub mod crypto;
pub mod gateway;
pub mod notifier;
pub mod trades;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};

pub use config::Settings;

/// Shared state of the running stand-in.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<Mutex<trades::Store>>,
    pub keys: Arc<crypto::Keys>,
    pub base_url: Arc<str>,
    pub seller_id: Arc<str>,
    pub retry_scale: f64,
    pub http: reqwest::Client,
    pub notify_faults: Arc<Mutex<notifier::NotifyFaults>>,
}

impl AppState {
    /// Locks the store; a poisoned lock only means another request panicked, and the
    /// trades themselves are still consistent (every change is one assignment).
    pub fn store(&self) -> std::sync::MutexGuard<'_, trades::Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The notify fault switches now in force.
    pub fn notify_faults(&self) -> notifier::NotifyFaults {
        *self
            .notify_faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/gateway.do", post(gateway::gateway))
        .route("/qr/{token}", get(buyer::page))
        .route("/qr/{token}/pay", post(buyer::pay_button))
        .route("/sim/pay/{out_trade_no}", post(buyer::sim_pay))
        .route("/sim/trades", get(buyer::sim_trades))
        .route("/sim/trades/{out_trade_no}", get(buyer::sim_trade))
        .route(
            "/sim/notify-faults",
            get(buyer::get_notify_faults).post(buyer::set_notify_faults),
        )
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Builds the state from settings: reads the keys, fixes the public base URL.
pub fn state(settings: &Settings, bound: std::net::SocketAddr) -> anyhow::Result<AppState> {
    use anyhow::Context;
    let alipay = std::fs::read_to_string(&settings.alipay_private_key)
        .with_context(|| format!("reading {}", settings.alipay_private_key.display()))?;
    let merchant = std::fs::read_to_string(&settings.merchant_public_key)
        .with_context(|| format!("reading {}", settings.merchant_public_key.display()))?;
    let keys = crypto::Keys::from_pem(&alipay, &merchant)?;
    let base_url = settings
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"));
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .no_proxy()
        .build()
        .context("building the notify HTTP client")?;
    Ok(AppState {
        store: Arc::default(),
        keys: Arc::new(keys),
        base_url: base_url.into(),
        seller_id: settings.seller_id.clone().into(),
        retry_scale: settings.retry_scale,
        http,
        notify_faults: Arc::default(),
    })
}
