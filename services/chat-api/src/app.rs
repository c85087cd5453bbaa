//! Builds the service: connections, state, routes, and the bound listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use paychat_common::service::{self, Infra, Server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::state::AppState;
use crate::{accounts, admin, avatars, chat, llm_keys, oauth, rooms, sensitive};

#[derive(OpenApi)]
#[openapi(info(
    title = "PayChat chat-api",
    description = "Accounts, sessions and chat."
))]
struct ApiDoc;

pub struct Application {
    server: Server,
    pub state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        chat::flow_metrics::register();
        let infra = Infra::connect(&config.common).await?;
        let readiness = infra.readiness();
        let (db, redis, keys) = (&infra.db, &infra.redis, &infra.keys);
        // The token encoder loads its tables on first use (most of a second).
        tokio::task::spawn_blocking(chat::context::warm_up).await?;
        // Answers a dead copy left streaming are closed and their times given back.
        chat::stale::spawn(db.clone(), config.relay.slot_lifetime());
        let sensitive_words = sensitive::SensitiveWords::start(
            db.clone(),
            redis.clone(),
            keys,
            Duration::from_millis(config.relay.sensitive_reload_ms),
        )
        .await
        .context("loading sensitive words")?;
        let catalog = llm_keys::catalog::Catalog::start(
            &config.relay,
            db.clone(),
            redis.clone(),
            keys,
            &infra.ids,
        )
        .await
        .context("loading upstream keys and models")?;
        let upstream =
            chat::upstream::Upstream::new(&config.relay, catalog, redis.clone(), keys.clone())?;
        let accounts = Arc::new(accounts::Accounts::new(&config.accounts)?);
        let oauth = Arc::new(oauth::OAuth::new(&config.oauth)?);
        let avatar_store = Arc::new(avatars::Avatars::new(&config.avatar)?);
        let chat_writer = chat::writer::ChatWriter::spawn(db);
        let state = AppState {
            chat_writer,
            accounts,
            oauth,
            avatars: avatar_store,
            sessions: infra.sessions,
            limiter: infra.limiter,
            ids: infra.ids,
            sensitive: sensitive_words,
            upstream: Arc::new(upstream),
            db: infra.db,
            redis: infra.redis,
            keys: infra.keys,
            config: Arc::new(config),
        };

        let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(accounts::router())
            .merge(oauth::router())
            .merge(avatars::router())
            .merge(chat::router())
            .merge(rooms::router())
            .merge(sensitive::router())
            .merge(admin::router())
            .merge(llm_keys::router())
            .split_for_parts();
        let mut options = service::http_options(&state.config.common)?;
        options.large_bodies = Arc::new(vec![(avatars::UPLOAD_PATH, avatars::UPLOAD_BODY_LIMIT)]);
        let router = service::router(api, state.clone(), readiness, options);
        // TCP_NODELAY: a streamed delta must not wait for the browser's delayed ACK.
        let server = Server::bind(&state.config.chat.chat_bind, router)
            .await?
            .with_tcp_nodelay();
        Ok(Self { server, state })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves HTTP until the shutdown signal; chat-api has no workers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.run("chat-api", Vec::new()).await
    }
}
