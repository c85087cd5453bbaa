//! Redis connection set-up and key naming. Every key carries the deployment's
//! prefix so that several deployments, or parallel tests, can share one Redis.

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

/// The Redis handle every service holds. Code outside this module names this
/// type, never the driver's, so the connection kind can change in one place.
pub type Redis = ConnectionManager;

/// A lazily connecting, self-reconnecting handle: a service starts (and answers
/// `/readyz` with 503) while Redis is down, and recovers when it is back.
pub fn connect(url: &SecretString) -> anyhow::Result<Redis> {
    let client = redis::Client::open(url.expose_secret()).context("parsing redis_url")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(3)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    Ok(ConnectionManager::new_lazy_with_config(client, config)?)
}

/// Builds prefixed key names.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// `rkey!(keys, "session:{}", hash)` → `<prefix>session:<hash>`.
#[macro_export]
macro_rules! rkey {
    ($keys:expr, $($arg:tt)*) => { $keys.key(&format!($($arg)*)) };
}

pub async fn ping(conn: &mut Redis) -> anyhow::Result<()> {
    let _: String = redis::cmd("PING").query_async(conn).await?;
    Ok(())
}
