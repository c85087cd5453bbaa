//! Configuration: one defaults file (`config/default.toml`, flat snake_case keys)
//! overridden by `PAYCHAT_<KEY>` environment variables. Each service reads the
//! keys it needs into its own struct; [`CommonConfig`] holds the shared ones.
//! Every problem is reported at start, naming the key and its variable.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Where the defaults file is looked for when `PAYCHAT_CONFIG_FILE` is not set.
pub const DEFAULT_FILE: &str = "config/default.toml";

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The environment variable that overrides `key`.
pub fn env_name(key: &str) -> String {
    format!("PAYCHAT_{}", key.to_ascii_uppercase())
}

/// Loads `T` from the defaults file and the environment, then from `overrides`
/// (used by tests and tools that start a service in-process).
pub fn load<T: DeserializeOwned>(overrides: &[(&str, String)]) -> Result<T, ConfigError> {
    let file = std::env::var("PAYCHAT_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(DEFAULT_FILE));
    load_from(Some(&file), overrides)
}

pub fn load_from<T: DeserializeOwned>(
    file: Option<&Path>,
    overrides: &[(&str, String)],
) -> Result<T, ConfigError> {
    let mut builder = config::Config::builder();
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError::new(format!(
                "defaults file {} not found (set PAYCHAT_CONFIG_FILE or run from the repository root)",
                file.display()
            )));
        }
        builder = builder.add_source(config::File::from(file));
    }
    builder = builder.add_source(
        config::Environment::with_prefix("PAYCHAT")
            .prefix_separator("_")
            .ignore_empty(true),
    );
    for (key, value) in overrides {
        builder = builder
            .set_override(*key, value.as_str())
            .map_err(|e| ConfigError::new(e.to_string()))?;
    }
    let raw = builder
        .build()
        .map_err(|e| ConfigError::new(e.to_string()))?;
    raw.try_deserialize::<T>().map_err(|e| {
        let text = e.to_string();
        // config names the key in lower case; add the variable that sets it.
        match text.rsplit_once("for key `") {
            Some((_, rest)) => {
                let key = rest.trim_end_matches('`');
                ConfigError::new(format!("{text} (set {})", env_name(key)))
            }
            None => ConfigError::new(text),
        }
    })
}

/// Collects every semantic problem, so one start reports them all.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn check(&mut self, ok: bool, key: &str, what: &str) {
        if !ok {
            self.0.push(format!("{key} ({}): {what}", env_name(key)));
        }
    }

    pub fn into_result(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::new(self.0.join("; ")))
        }
    }
}

/// Keys every service shares.
#[derive(Debug, Clone, Deserialize)]
pub struct CommonConfig {
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub database_connect_timeout_ms: u64,
    pub run_migrations: bool,
    pub redis_url: SecretString,
    /// Prefix of every Redis key, so several deployments (or tests) share one Redis.
    pub redis_prefix: String,
    pub amqp_url: SecretString,
    /// Prefix of every exchange and queue name.
    pub amqp_prefix: String,
    pub session_ttl_secs: u64,
    /// Peers whose `X-Forwarded-For` is believed (the edge proxy): addresses or
    /// CIDR ranges, comma-separated.
    pub trusted_proxies: String,
    pub request_timeout_ms: u64,
    pub log_level: String,
    /// `json` (default) or `pretty`.
    pub log_format: String,
    /// OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`); empty: no export.
    #[serde(default)]
    pub otlp_endpoint: String,
}

impl CommonConfig {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let config: Self = load(overrides)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        use secrecy::ExposeSecret;
        let mut p = Problems::default();
        p.check(
            self.database_url.expose_secret().starts_with("mysql://"),
            "database_url",
            "must be a mysql:// URL",
        );
        p.check(
            (1..=1000).contains(&self.database_max_connections),
            "database_max_connections",
            "must be 1..=1000",
        );
        p.check(
            self.redis_url.expose_secret().starts_with("redis://"),
            "redis_url",
            "must be a redis:// URL",
        );
        p.check(
            self.amqp_url.expose_secret().starts_with("amqp://"),
            "amqp_url",
            "must be an amqp:// URL",
        );
        p.check(
            self.session_ttl_secs >= 60,
            "session_ttl_secs",
            "must be at least 60",
        );
        p.check(
            self.trusted_proxy_list().is_ok(),
            "trusted_proxies",
            "must be a comma-separated list of IP addresses or CIDR ranges",
        );
        p.check(
            matches!(self.log_format.as_str(), "json" | "pretty"),
            "log_format",
            "must be json or pretty",
        );
        p.check(
            self.otlp_endpoint.is_empty() || self.otlp_endpoint.starts_with("http"),
            "otlp_endpoint",
            "must be empty or an http(s):// URL",
        );
        p.into_result()
    }

    pub fn trusted_proxy_list(
        &self,
    ) -> Result<Vec<crate::http::TrustedNet>, crate::http::InvalidNet> {
        split_list(&self.trusted_proxies)
            .map(|s| s.parse())
            .collect()
    }
}

/// Splits a comma-separated value, trimming blanks.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}
