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

/// The override that names the defaults file (as `PAYCHAT_CONFIG_FILE` does),
/// so tests and tools load it from any working directory.
pub const CONFIG_FILE_KEY: &str = "config_file";

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
/// (used by tests and tools that start a service in-process). The defaults
/// file is the [`CONFIG_FILE_KEY`] override, else `PAYCHAT_CONFIG_FILE`, else
/// [`DEFAULT_FILE`].
pub fn load<T: DeserializeOwned>(overrides: &[(&str, String)]) -> Result<T, ConfigError> {
    let file = overrides
        .iter()
        .rev()
        .find(|(key, _)| *key == CONFIG_FILE_KEY)
        .map(|(_, path)| PathBuf::from(path))
        .or_else(|| std::env::var_os("PAYCHAT_CONFIG_FILE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    load_from(Some(&file), overrides)
}

/// Loads `T` as [`load`] does, then checks it with `validate`.
pub fn load_validated<T: DeserializeOwned>(
    overrides: &[(&str, String)],
    validate: impl FnOnce(&T) -> Result<(), ConfigError>,
) -> Result<T, ConfigError> {
    let config: T = load(overrides)?;
    validate(&config)?;
    Ok(config)
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

/// Declares a configuration mode: a fieldless enum read from one of a fixed set
/// of strings. A value outside the set fails at start with a message naming
/// the value and every allowed one (the loader adds the key and its variable).
#[macro_export]
macro_rules! config_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value the key accepts, as written in the configuration.
            pub const ALLOWED: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::string::String;

            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(
                        "`{other}` is not allowed (one of: {})",
                        Self::ALLOWED.join(", ")
                    )),
                }
            }
        }

        impl<'de> $crate::config::__serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::config::__serde::Deserializer<'de>,
            {
                let text = <::std::string::String as $crate::config::__serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                text.parse()
                    .map_err(<D::Error as $crate::config::__serde::de::Error>::custom)
            }
        }
    };
}

#[doc(hidden)]
pub use serde as __serde;

config_enum! {
    /// How log lines are written (`log_format`).
    pub enum LogFormat {
        /// One JSON object per line.
        Json = "json",
        /// Human-readable, for a terminal.
        Pretty = "pretty",
    }
}

config_enum! {
    /// How durable queues are declared (`amqp_queue_type`).
    pub enum QueueType {
        Classic = "classic",
        /// Replicated over a RabbitMQ cluster's nodes (Raft); needs RabbitMQ 3.10+
        /// for message TTLs on the wait queues.
        Quorum = "quorum",
    }
}

config_enum! {
    /// How outgoing mail reaches the SMTP server (`smtp_tls`).
    pub enum SmtpTls {
        /// Plain SMTP (the sandbox mail sink only).
        None = "none",
        /// A plain connection upgraded with STARTTLS.
        Starttls = "starttls",
        /// Implicit TLS.
        Tls = "tls",
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
    /// Seed nodes of a Redis Cluster (`redis://` URLs, comma-separated); empty:
    /// the single node at `redis_url`.
    #[serde(default)]
    pub redis_cluster_nodes: SecretString,
    /// Prefix of every Redis key, so several deployments (or tests) share one Redis.
    pub redis_prefix: String,
    pub amqp_url: SecretString,
    /// The nodes of a RabbitMQ cluster (`amqp://` URLs with the vhost,
    /// comma-separated); empty: `amqp_url` alone.
    #[serde(default)]
    pub amqp_urls: SecretString,
    /// How durable queues are declared: `classic` or `quorum` (a cluster).
    pub amqp_queue_type: QueueType,
    /// Prefix of every exchange and queue name.
    pub amqp_prefix: String,
    pub session_ttl_secs: u64,
    /// Peers whose `X-Forwarded-For` is believed (the edge proxy): addresses or
    /// CIDR ranges, comma-separated.
    pub trusted_proxies: String,
    pub request_timeout_ms: u64,
    pub log_level: String,
    /// `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`); empty: no export.
    #[serde(default)]
    pub otlp_endpoint: String,
}

impl CommonConfig {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        load_validated(overrides, Self::validate)
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
            self.redis_cluster_node_list()
                .iter()
                .all(|n| n.expose_secret().starts_with("redis://")),
            "redis_cluster_nodes",
            "must be empty or comma-separated redis:// URLs",
        );
        // A brace in the prefix would become every key's hash tag: one slot for all.
        p.check(
            !self.redis_prefix.contains(['{', '}']),
            "redis_prefix",
            "must not contain { or } (they make Redis Cluster hash tags)",
        );
        p.check(
            self.amqp_url.expose_secret().starts_with("amqp://"),
            "amqp_url",
            "must be an amqp:// URL",
        );
        p.check(
            self.amqp_url_list()
                .iter()
                .all(|n| n.expose_secret().starts_with("amqp://")),
            "amqp_urls",
            "must be empty or comma-separated amqp:// URLs",
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
            self.otlp_endpoint.is_empty() || self.otlp_endpoint.starts_with("http"),
            "otlp_endpoint",
            "must be empty or an http(s):// URL",
        );
        p.into_result()
    }

    /// The RabbitMQ cluster's nodes; empty for `amqp_url` alone.
    pub fn amqp_url_list(&self) -> Vec<SecretString> {
        use secrecy::ExposeSecret;
        split_list(self.amqp_urls.expose_secret())
            .map(|n| SecretString::from(n.to_owned()))
            .collect()
    }

    /// The Redis Cluster seed nodes; empty for a single node.
    pub fn redis_cluster_node_list(&self) -> Vec<SecretString> {
        use secrecy::ExposeSecret;
        split_list(self.redis_cluster_nodes.expose_secret())
            .map(|n| SecretString::from(n.to_owned()))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Modes {
        smtp_tls: SmtpTls,
        log_format: LogFormat,
    }

    #[test]
    fn modes_parse_into_their_enums() -> Result<(), ConfigError> {
        let m: Modes = load_from(
            None,
            &[
                ("smtp_tls", "starttls".into()),
                ("log_format", "pretty".into()),
            ],
        )?;
        assert_eq!(m.smtp_tls, SmtpTls::Starttls);
        assert_eq!(m.log_format, LogFormat::Pretty);
        Ok(())
    }

    #[test]
    fn a_bad_mode_names_the_key_and_the_allowed_values() {
        let Err(e) = load_from::<Modes>(
            None,
            &[("smtp_tls", "ssl".into()), ("log_format", "json".into())],
        ) else {
            panic!("accepted smtp_tls = ssl");
        };
        let e = e.to_string();
        assert!(e.contains("smtp_tls"), "{e}");
        assert!(e.contains("PAYCHAT_SMTP_TLS"), "{e}");
        assert!(
            e.contains("`ssl` is not allowed (one of: none, starttls, tls)"),
            "{e}"
        );
    }
}
