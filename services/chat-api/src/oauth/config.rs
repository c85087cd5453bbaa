//! The sign-in provider keys of `config/default.toml` (each overridable as
//! `PAYCHAT_<KEY>`): the OpenID Connect providers as a list (issuer, client id,
//! and a secret kept apart), GitHub's client and URLs, and the lifetimes of a
//! started sign-in and of its ticket.

use std::collections::HashMap;
use std::time::Duration;

use paychat_common::config::{ConfigError, Problems, load, split_list};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct OAuthConfig {
    /// JSON list of `{"id", "name", "issuer", "client_id"}`.
    pub oidc_providers: String,
    /// Comma-separated `id=secret`, one per provider above.
    #[serde(default = "empty_secret")]
    pub oidc_client_secrets: SecretString,
    /// Empty: no GitHub sign-in.
    #[serde(default)]
    pub github_client_id: String,
    #[serde(default = "empty_secret")]
    pub github_client_secret: SecretString,
    pub github_authorize_url: String,
    pub github_token_url: String,
    pub github_api_url: String,
    pub oauth_state_ttl_secs: u64,
    pub oauth_ticket_ttl_secs: u64,
    pub oauth_link_ttl_secs: u64,
    pub oauth_link_mail_ttl_secs: u64,
    pub oauth_http_timeout_ms: u64,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// One OpenID Connect provider as configured.
#[derive(Debug, Clone, Deserialize)]
pub struct OidcProviderConfig {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    #[serde(skip, default = "empty_secret")]
    pub client_secret: SecretString,
}

/// Provider ids that name something else in the API.
const RESERVED_IDS: [&str; 3] = ["github", "email", "password"];

pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl OAuthConfig {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let config: Self = load(overrides)?;
        config.oidc()?;
        let mut p = Problems::default();
        for (key, value) in [
            ("github_authorize_url", &config.github_authorize_url),
            ("github_token_url", &config.github_token_url),
            ("github_api_url", &config.github_api_url),
        ] {
            p.check(
                url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                key,
                "must be an http(s) URL",
            );
        }
        p.check(
            config.github_client_id.is_empty()
                || !config.github_client_secret.expose_secret().is_empty(),
            "github_client_secret",
            "must be set when github_client_id is",
        );
        p.check(
            (60..=3600).contains(&config.oauth_state_ttl_secs),
            "oauth_state_ttl_secs",
            "must be between 60 and 3600",
        );
        p.check(
            (10..=600).contains(&config.oauth_ticket_ttl_secs),
            "oauth_ticket_ttl_secs",
            "must be between 10 and 600",
        );
        p.check(
            (60..=3600).contains(&config.oauth_link_ttl_secs),
            "oauth_link_ttl_secs",
            "must be between 60 and 3600",
        );
        p.check(
            (300..=86_400).contains(&config.oauth_link_mail_ttl_secs),
            "oauth_link_mail_ttl_secs",
            "must be between 300 and 86400",
        );
        p.check(
            (100..=60_000).contains(&config.oauth_http_timeout_ms),
            "oauth_http_timeout_ms",
            "must be between 100 and 60000",
        );
        p.into_result()?;
        Ok(config)
    }

    /// The OpenID Connect providers with their secrets, checked.
    pub fn oidc(&self) -> Result<Vec<OidcProviderConfig>, ConfigError> {
        let mut providers: Vec<OidcProviderConfig> = if self.oidc_providers.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&self.oidc_providers).map_err(|e| {
                ConfigError::new(format!(
                    "oidc_providers (PAYCHAT_OIDC_PROVIDERS): must be a JSON list of \
                     {{\"id\", \"name\", \"issuer\", \"client_id\"}}: {e}"
                ))
            })?
        };
        let mut secrets: HashMap<&str, &str> = HashMap::new();
        for pair in split_list(self.oidc_client_secrets.expose_secret()) {
            let (id, secret) = pair.split_once('=').ok_or_else(|| {
                ConfigError::new(
                    "oidc_client_secrets (PAYCHAT_OIDC_CLIENT_SECRETS): must be comma-separated id=secret",
                )
            })?;
            secrets.insert(id.trim(), secret.trim());
        }
        let mut p = Problems::default();
        let mut seen = std::collections::HashSet::new();
        for provider in &mut providers {
            p.check(
                valid_id(&provider.id) && !RESERVED_IDS.contains(&provider.id.as_str()),
                "oidc_providers",
                "each id must be 1-32 of a-z, 0-9 and -, and not github, email or password",
            );
            p.check(
                seen.insert(provider.id.clone()),
                "oidc_providers",
                "ids must differ",
            );
            p.check(
                openidconnect::IssuerUrl::new(provider.issuer.clone()).is_ok(),
                "oidc_providers",
                "each issuer must be a URL",
            );
            p.check(
                !provider.client_id.is_empty(),
                "oidc_providers",
                "each needs a client_id",
            );
            match secrets.get(provider.id.as_str()) {
                Some(secret) => provider.client_secret = SecretString::from((*secret).to_owned()),
                None => p.check(
                    false,
                    "oidc_client_secrets",
                    "needs a secret for every provider of oidc_providers",
                ),
            }
        }
        p.into_result()?;
        Ok(providers)
    }

    pub fn state_ttl(&self) -> Duration {
        Duration::from_secs(self.oauth_state_ttl_secs)
    }

    pub fn ticket_ttl(&self) -> Duration {
        Duration::from_secs(self.oauth_ticket_ttl_secs)
    }

    pub fn link_ttl(&self) -> Duration {
        Duration::from_secs(self.oauth_link_ttl_secs)
    }

    pub fn link_mail_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.oauth_link_mail_ttl_secs).unwrap_or(86_400))
    }
}
