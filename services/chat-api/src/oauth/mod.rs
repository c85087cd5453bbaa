//! Sign-in providers: OpenID Connect (any issuer by configuration: Google,
//! Microsoft, Keycloak, the sandbox) and GitHub, and the user's bindings to them
//! (API.md's "sign-in providers" rows, DESIGN.md's Account flow).
//!
//! - `config.rs`: the keys; `providers.rs`: talking to the providers (the
//!   `openidconnect` and `oauth2` crates over `http.rs`, the service's reqwest)
//! - `flow.rs`: state/nonce/PKCE and tickets in Redis, each used once
//! - `handlers.rs`: providers, start, callback, exchange, link start
//! - `link_mail.rs`: proving the existing account by a mailed link
//! - `bindings.rs`: list and unlink; `queries.rs`: SQL

pub mod bindings;
pub mod config;
pub mod flow;
pub mod handlers;
pub mod http;
pub mod link_mail;
pub mod providers;
pub mod queries;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// What the sign-in handlers need beyond the shared state.
pub struct OAuth {
    pub config: config::OAuthConfig,
    pub providers: providers::Providers,
}

impl OAuth {
    pub fn new(config: &config::OAuthConfig) -> anyhow::Result<Self> {
        Ok(Self {
            providers: providers::Providers::new(config)?,
            config: config.clone(),
        })
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::providers))
        .routes(routes!(handlers::start))
        .routes(routes!(handlers::callback))
        .routes(routes!(handlers::exchange))
        .routes(routes!(link_mail::send_link))
        .routes(routes!(link_mail::confirm_link))
        .routes(routes!(bindings::list))
        .routes(routes!(handlers::link_start, bindings::unlink))
}
