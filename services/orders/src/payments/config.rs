//! Payment settings of the orders service: where the gateway is, the envelope
//! keys, the reconciliation job, and outgoing mail (the same flat `smtp_*`
//! keys chat-api reads).

use paychat_common::config::{ConfigError, Problems, SmtpTls, load};
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentsConfig {
    /// The payment gateway's base URL, e.g. `http://127.0.0.1:8083`.
    pub gateway_url: String,
    /// Whole-call timeout towards the gateway (it waits for Alipay itself).
    pub gateway_timeout_ms: u64,
    /// Orders' own envelope key (PKCS#8 PEM): signs requests, opens answers.
    pub orders_envelope_private_key_file: String,
    /// The gateway's envelope public key (SPKI PEM).
    pub gateway_envelope_public_key_file: String,
    /// The `subject` Alipay shows the buyer.
    pub payment_subject: String,
    /// How often the reconciliation job runs.
    pub reconcile_interval_secs: u64,
    /// A QR code must be this old before the job asks Alipay about it.
    pub reconcile_after_secs: u64,
    /// How long past the last moment Alipay could take a payment for a closed
    /// (or completed) order's QR code the job keeps asking about it; keep it
    /// above `reconcile_interval_secs` so the last payment meets a pass.
    pub reconcile_closed_grace_secs: u64,
    /// Payment events handled at once by one consumer.
    pub payment_consumer_prefetch: u16,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_username: String,
    pub smtp_password: SecretString,
    /// none | starttls | tls
    pub smtp_tls: SmtpTls,
    pub smtp_timeout_ms: u64,
    pub mail_from: String,
    /// Where the web app is; the codes email links to its My codes page.
    pub web_base_url: String,
}

impl PaymentsConfig {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let c: Self = load(overrides)?;
        let mut p = Problems::default();
        p.check(
            c.gateway_url.starts_with("http://") || c.gateway_url.starts_with("https://"),
            "gateway_url",
            "must be an http(s) URL",
        );
        p.check(
            c.gateway_timeout_ms >= 100,
            "gateway_timeout_ms",
            "must be at least 100",
        );
        p.check(
            !c.payment_subject.trim().is_empty()
                && !c.payment_subject.contains(['/', '=', '&'])
                && c.payment_subject.chars().count() <= 256,
            "payment_subject",
            "must be 1..=256 characters without / = &",
        );
        p.check(
            c.reconcile_interval_secs >= 1,
            "reconcile_interval_secs",
            "must be at least 1",
        );
        p.check(
            c.payment_consumer_prefetch >= 1,
            "payment_consumer_prefetch",
            "must be at least 1",
        );
        p.check(
            c.web_base_url.starts_with("http://") || c.web_base_url.starts_with("https://"),
            "web_base_url",
            "must be an http(s) URL such as http://localhost:8080",
        );
        p.into_result()?;
        Ok(c)
    }
}
