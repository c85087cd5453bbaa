//! payment-gateway configuration: the shared keys plus the gateway's own.
//! Key files are read once at start; their contents are never logged.

use paychat_common::config::{CommonConfig, ConfigError, Problems, load};
use paychat_common::config_enum;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub gateway: GatewayConfig,
}

config_enum! {
    /// How Alipay's answers and notifies are verified (`alipay_key_mode`).
    pub enum AlipayKeyMode {
        /// Alipay's public key (`alipay_public_key_file`).
        PublicKey = "public_key",
        /// Public-key certificates (the three `*_cert_file` keys).
        Certificate = "certificate",
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewayConfig {
    /// Address the gateway listens on, e.g. `127.0.0.1:8083` (port 0 in tests).
    pub gateway_bind: String,
    /// Alipay's open-API gateway (`https://openapi.alipay.com/gateway.do` in production).
    pub alipay_gateway_url: String,
    pub alipay_app_id: String,
    /// The merchant's seller id (`2088…`); notifies for another seller are refused.
    /// Empty: not checked.
    pub alipay_seller_id: String,
    /// `public_key` (Alipay public key file) or `certificate` (three cert files).
    pub alipay_key_mode: AlipayKeyMode,
    /// The app's RSA2 private key (PKCS#8 or PKCS#1 PEM, or bare base64).
    pub alipay_app_private_key_file: String,
    /// Alipay's public key (public-key mode).
    pub alipay_public_key_file: String,
    /// Certificate mode: the app's public-key cert, Alipay's cert, Alipay's root bundle.
    pub alipay_app_cert_file: String,
    pub alipay_cert_file: String,
    pub alipay_root_cert_file: String,
    /// Where Alipay posts notifies: this gateway's `/api/alipay/notify` as the
    /// outside world reaches it.
    pub alipay_notify_url: String,
    pub alipay_timeout_ms: u64,
    /// The gateway's own envelope key (PKCS#8 PEM): opens requests, signs answers.
    pub gateway_envelope_private_key_file: String,
    /// The orders service's envelope public key (SPKI PEM): checks requests, seals answers.
    pub orders_envelope_public_key_file: String,
    /// Largest notify body read; a larger one is refused with 413 before it is read.
    pub notify_max_body_bytes: usize,
    /// Notifies failing Alipay's signature allowed per client IP per minute.
    pub notify_refused_per_minute: u32,
    /// Stored notifies older than this are deleted.
    pub notify_retention_days: u32,
}

impl Config {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let common = CommonConfig::load(overrides)?;
        let gateway: GatewayConfig = load(overrides)?;
        let mut p = Problems::default();
        p.check(
            gateway.gateway_bind.parse::<std::net::SocketAddr>().is_ok(),
            "gateway_bind",
            "must be an address such as 127.0.0.1:8083",
        );
        p.check(
            gateway.alipay_gateway_url.starts_with("http://")
                || gateway.alipay_gateway_url.starts_with("https://"),
            "alipay_gateway_url",
            "must be an http(s) URL",
        );
        p.check(
            !gateway.alipay_app_id.trim().is_empty(),
            "alipay_app_id",
            "must be set",
        );
        p.check(
            gateway.alipay_notify_url.starts_with("http://")
                || gateway.alipay_notify_url.starts_with("https://"),
            "alipay_notify_url",
            "must be an http(s) URL",
        );
        p.check(
            gateway.alipay_timeout_ms >= 100,
            "alipay_timeout_ms",
            "must be at least 100",
        );
        p.check(
            (1024..=paychat_common::http::BODY_LIMIT).contains(&gateway.notify_max_body_bytes),
            "notify_max_body_bytes",
            "must be 1024..=65536",
        );
        p.check(
            gateway.notify_refused_per_minute >= 1,
            "notify_refused_per_minute",
            "must be at least 1",
        );
        // Alipay retries a notify for about a day; the duplicate check reads these rows.
        p.check(
            gateway.notify_retention_days >= 2,
            "notify_retention_days",
            "must be at least 2",
        );
        p.into_result()?;
        Ok(Self { common, gateway })
    }
}
