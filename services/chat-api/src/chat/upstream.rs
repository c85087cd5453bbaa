//! The OpenAI-compatible upstream: one pooled HTTP client, the keys used in
//! turn, and opening a streamed chat completion.
//!
//! A key that answers 401/403/429 is rested for `llm_key_rest_secs`. The rest
//! is kept in Redis (`llm_key_rest:<fingerprint>` with a TTL), so every copy of
//! the service skips the same key; only key fingerprints ever reach Redis.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::settings::RelaySettings;

/// What is stored instead of a key: `sha256:` and 12 hex digits of its hash.
pub fn fingerprint(key: &str) -> String {
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    format!("sha256:{}", &hash[..12])
}

/// One upstream key; only its fingerprint ever leaves this module.
pub struct Key {
    secret: SecretString,
    fingerprint: String,
}

pub struct Upstream {
    client: reqwest::Client,
    url: String,
    keys: Vec<Key>,
    next: AtomicUsize,
    redis: Redis,
    redis_keys: Keys,
    rest: Duration,
}

/// An upstream that accepted the request: status 2xx, body not read yet.
pub struct Opened {
    pub response: reqwest::Response,
    pub fingerprint: String,
}

/// Why no upstream could be opened; for logs and `response_error_data`.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("every upstream key is resting after 401/429 answers")]
    AllKeysResting,
    #[error("upstream answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("upstream request failed: {0}")]
    Transport(String),
    #[error("upstream sent no headers within {0:?}")]
    Timeout(Duration),
}

impl Upstream {
    pub fn new(settings: &RelaySettings, redis: Redis, redis_keys: Keys) -> anyhow::Result<Self> {
        // One client for the whole process: its pool keeps the connections to
        // the upstream open between streams. HTTP/1.1, one stream per
        // connection, so a slow stream never holds up another one's frames.
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout())
            .pool_idle_timeout(Duration::from_secs(30))
            .http1_only()
            .tcp_nodelay(true)
            .build()
            .context("building the upstream HTTP client")?;
        let keys = settings
            .api_keys()
            .into_iter()
            .map(|secret| Key {
                fingerprint: fingerprint(secret.expose_secret()),
                secret,
            })
            .collect();
        Ok(Self {
            client,
            url: format!(
                "{}/chat/completions",
                settings.llm_base_url.trim_end_matches('/')
            ),
            keys,
            next: AtomicUsize::new(0),
            redis,
            redis_keys,
            rest: Duration::from_secs(settings.llm_key_rest_secs),
        })
    }

    fn rest_key(&self, fingerprint: &str) -> String {
        rkey!(self.redis_keys, "llm_key_rest:{fingerprint}")
    }

    /// Keys in turn from the next position, the resting ones left out; ask
    /// for them alongside the other checks of a request, then [`Self::open`].
    pub async fn candidates(&self) -> Vec<&Key> {
        let n = self.keys.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        let order: Vec<&Key> = (0..n).map(|i| &self.keys[(start + i) % n]).collect();
        let names: Vec<String> = order
            .iter()
            .map(|k| self.rest_key(&k.fingerprint))
            .collect();
        let mut conn = self.redis.clone();
        let resting: Vec<Option<String>> =
            match redis::cmd("MGET").arg(&names).query_async(&mut conn).await {
                Ok(values) => values,
                Err(error) => {
                    // Without Redis every key is worth a try.
                    tracing::warn!(error = %error, "reading upstream key rests failed");
                    vec![None; n]
                }
            };
        order
            .into_iter()
            .zip(resting)
            .filter(|(_, rest)| rest.is_none())
            .map(|(key, _)| key)
            .collect()
    }

    async fn rest_for_a_while(&self, key: &Key, status: StatusCode) {
        tracing::warn!(
            key = key.fingerprint,
            status = status.as_u16(),
            rest_secs = self.rest.as_secs(),
            "upstream refused the key; resting it"
        );
        let mut conn = self.redis.clone();
        let ms = u64::try_from(self.rest.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.rest_key(&key.fingerprint))
            .arg(status.as_u16())
            .arg("PX")
            .arg(ms)
            .query_async(&mut conn)
            .await;
        if let Err(error) = set {
            tracing::warn!(error = %error, "storing an upstream key rest failed");
        }
    }

    /// Starts a streamed completion, trying the next key after a 401/403/429,
    /// all within `header_wait` (the request must answer before its deadline).
    pub async fn open(
        &self,
        candidates: Vec<&Key>,
        body: &impl Serialize,
        header_wait: Duration,
    ) -> Result<Opened, OpenError> {
        let deadline = tokio::time::Instant::now() + header_wait;
        let mut last = OpenError::AllKeysResting;
        for key in candidates {
            let request = self
                .client
                .post(&self.url)
                .bearer_auth(key.secret.expose_secret())
                .header(reqwest::header::ACCEPT, "text/event-stream")
                .json(body)
                .send();
            let response = match tokio::time::timeout_at(deadline, request).await {
                Err(_) => return Err(OpenError::Timeout(header_wait)),
                Ok(Err(error)) => {
                    return Err(OpenError::Transport(error.without_url().to_string()));
                }
                Ok(Ok(response)) => response,
            };
            let status = response.status();
            if status.is_success() {
                return Ok(Opened {
                    response,
                    fingerprint: key.fingerprint.clone(),
                });
            }
            let text = tokio::time::timeout_at(deadline, response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let error = OpenError::Status {
                status: status.as_u16(),
                body: text.chars().take(500).collect(),
            };
            if matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
            ) {
                self.rest_for_a_while(key, status).await;
                last = error;
                continue;
            }
            return Err(error);
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_hides_the_key() {
        let fp = fingerprint("sk-secret-value");
        assert!(fp.starts_with("sha256:"));
        assert_eq!(fp.len(), 19);
        assert!(!fp.contains("secret"));
        assert_ne!(fp, fingerprint("sk-secret-valuf"));
    }
}
