//! Builds the gateway: keys, connections, state, routes and the bound listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use paychat_common::envelope::{EnvelopePrivateKey, EnvelopePublicKey};
use paychat_common::service::{self, Infra, Server, Worker};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::alipay::{AlipayClient, AlipayConfig, AlipayPublicKey, AppPrivateKey, KeyMode};
use crate::config::{AlipayKeyMode, Config, GatewayConfig};
use crate::events::Events;
use crate::state::AppState;
use crate::{notify, sealed};

#[derive(OpenApi)]
#[openapi(info(
    title = "PayChat payment gateway",
    description = "Sealed Alipay calls for the orders service, and Alipay's notify webhook."
))]
struct ApiDoc;

pub struct Application {
    server: Server,
    pub state: AppState,
}

/// Reads a key file named by a configuration key; the error names the key, never the contents.
fn read_key(config_key: &str, path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{config_key}: cannot read {path}"))
}

fn alipay_client(g: &GatewayConfig) -> anyhow::Result<AlipayClient> {
    let app_key = AppPrivateKey::from_text(&read_key(
        "alipay_app_private_key_file",
        &g.alipay_app_private_key_file,
    )?)
    .map_err(|e| anyhow::anyhow!("alipay_app_private_key_file: {e}"))?;
    let mode = if g.alipay_key_mode == AlipayKeyMode::Certificate {
        KeyMode::certificate(
            &read_key("alipay_app_cert_file", &g.alipay_app_cert_file)?,
            &read_key("alipay_cert_file", &g.alipay_cert_file)?,
            &read_key("alipay_root_cert_file", &g.alipay_root_cert_file)?,
        )
        .map_err(|e| anyhow::anyhow!("alipay certificates: {e}"))?
    } else {
        KeyMode::PublicKey(
            AlipayPublicKey::from_text(&read_key(
                "alipay_public_key_file",
                &g.alipay_public_key_file,
            )?)
            .map_err(|e| anyhow::anyhow!("alipay_public_key_file: {e}"))?,
        )
    };
    let mut config = AlipayConfig::new(&g.alipay_gateway_url, &g.alipay_app_id);
    config.notify_url = Some(g.alipay_notify_url.clone());
    config.timeout = Duration::from_millis(g.alipay_timeout_ms);
    AlipayClient::new(config, app_key, mode).map_err(|e| anyhow::anyhow!("alipay client: {e}"))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let g = &config.gateway;
        let alipay = alipay_client(g)?;
        let envelope_key = EnvelopePrivateKey::from_pkcs8_pem(&read_key(
            "gateway_envelope_private_key_file",
            &g.gateway_envelope_private_key_file,
        )?)
        .map_err(|e| anyhow::anyhow!("gateway_envelope_private_key_file: {e}"))?;
        let orders_key = EnvelopePublicKey::from_spki_pem(&read_key(
            "orders_envelope_public_key_file",
            &g.orders_envelope_public_key_file,
        )?)
        .map_err(|e| anyhow::anyhow!("orders_envelope_public_key_file: {e}"))?;

        let infra = Infra::connect(&config.common).await?;
        let readiness = infra.readiness();
        let events = Events::new(
            paychat_common::amqp::urls(&config.common),
            &config.common.amqp_prefix,
            config.common.amqp_queue_type,
            Duration::from_secs(3),
        );
        let state = AppState {
            db: infra.db,
            redis: infra.redis,
            keys: infra.keys,
            limiter: infra.limiter,
            ids: infra.ids,
            alipay: Arc::new(alipay),
            envelope_key: Arc::new(envelope_key),
            orders_key,
            events: events.clone(),
            config: Arc::new(config),
        };

        let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(sealed::router())
            .merge(notify::router())
            .split_for_parts();
        let readiness = readiness.check("broker", move || {
            let events = events.clone();
            async move { events.ping().await }
        });
        let options = service::http_options(&state.config.common)?;
        let router = service::router(api, state.clone(), readiness, options);
        let server = Server::bind(&state.config.gateway.gateway_bind, router).await?;
        Ok(Self { server, state })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves HTTP and runs the notify retention job side by side, until the
    /// shutdown signal or the job ends.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let workers = vec![Worker::new(
            "notify retention",
            notify::retention::run(
                self.state.db.clone(),
                self.state.config.gateway.notify_retention_days,
            ),
        )];
        self.server.run("payment-gateway", workers).await
    }
}
