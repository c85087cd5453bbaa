//! The OpenAI-compatible upstream: one pooled HTTP client, the keys used in
//! turn, and opening a streamed chat completion.
//!
//! The keys come from the console's catalog ([`crate::llm_keys::catalog`]),
//! which every copy keeps in step with the database.
//!
//! A key that answers 401/403/429 is rested for `llm_key_rest_secs`. The rest
//! is kept in Redis (`llm_key_rest:{llm}:<fingerprint>` with a TTL, its value the
//! reason), so every copy of the service skips the same key; only key
//! fingerprints ever reach Redis. The reason is also kept on the key's row,
//! where the console shows it after the rest is over.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::StatusCode;
use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::settings::RelaySettings;
use super::upstream_conn::{Answer, Client, Post, Reach};
use crate::llm_keys::catalog::Catalog;

/// What is stored instead of a key: `sha256:` and 12 hex digits of its hash.
pub fn fingerprint(key: &str) -> String {
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    format!("sha256:{}", &hash[..12])
}

/// One upstream key; only its fingerprint ever leaves this module.
pub struct Key {
    pub id: i64,
    secret: SecretString,
    fingerprint: String,
}

impl Key {
    pub fn new(id: i64, secret: SecretString) -> Self {
        Self {
            id,
            fingerprint: fingerprint(secret.expose_secret()),
            secret,
        }
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Whether a key is resting, until when, and why.
#[derive(Debug, Clone)]
pub struct Rest {
    pub remaining: Duration,
    pub reason: String,
}

/// What testing a key found.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The upstream's HTTP status, none when it could not be reached.
    pub status: Option<u16>,
    pub ok: bool,
    pub latency: Duration,
    /// Why it failed, without the key.
    pub error: Option<String>,
}

/// The most of an error answer that is read (its message is kept, cut short).
const ERROR_BODY_MAX: usize = 16 * 1024;

pub struct Upstream {
    client: Arc<Client>,
    catalog: Catalog,
    next: AtomicUsize,
    redis: Redis,
    redis_keys: Keys,
    rest: Duration,
}

/// An upstream that accepted the request: status 2xx, body not read yet.
pub struct Opened {
    pub response: Answer,
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
    pub fn new(
        settings: &RelaySettings,
        catalog: Catalog,
        redis: Redis,
        redis_keys: Keys,
    ) -> anyhow::Result<Self> {
        // HTTP/1.1, one stream per connection, so a slow stream never holds up
        // another one's frames; connections are kept between streams.
        let url = format!(
            "{}/chat/completions",
            settings.llm_base_url.trim_end_matches('/')
        );
        let extra_roots = match settings.llm_ca_file.as_str() {
            "" => None,
            path => {
                Some(std::fs::read(path).with_context(|| format!("reading llm_ca_file {path}"))?)
            }
        };
        let proxy = Some(settings.llm_proxy_url.as_str()).filter(|url| !url.is_empty());
        let client = Client::new(
            &url,
            Reach {
                connect_timeout: settings.connect_timeout(),
                extra_roots_pem: extra_roots.as_deref(),
                proxy,
            },
        )?;
        Ok(Self {
            client,
            catalog,
            next: AtomicUsize::new(0),
            redis,
            redis_keys,
            rest: Duration::from_secs(settings.llm_key_rest_secs),
        })
    }

    fn rest_key(&self, fingerprint: &str) -> String {
        // One hash tag for every key's rest: the console reads them all in one
        // pipeline, which on a Redis Cluster must stay within one slot.
        rkey!(self.redis_keys, "llm_key_rest:{{llm}}:{fingerprint}")
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Keys in turn from the next position, the resting ones left out; ask
    /// for them alongside the other checks of a request, then [`Self::open`].
    pub async fn candidates(&self) -> Vec<Arc<Key>> {
        let live = self.catalog.current();
        let n = live.keys.len();
        if n == 0 {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let order: Vec<Arc<Key>> = (0..n).map(|i| live.keys[(start + i) % n].clone()).collect();
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

    /// The rests of these fingerprints (none where the key is not resting).
    pub async fn rests(&self, fingerprints: &[String]) -> Vec<Option<Rest>> {
        let mut pipe = redis::pipe();
        for fp in fingerprints {
            let name = self.rest_key(fp);
            pipe.cmd("GET").arg(&name).cmd("PTTL").arg(&name);
        }
        let mut conn = self.redis.clone();
        let answers: Vec<(Option<String>, i64)> = if fingerprints.is_empty() {
            Vec::new()
        } else {
            match pipe.query_async::<Vec<redis::Value>>(&mut conn).await {
                Ok(values) => values
                    .chunks(2)
                    .map(|pair| {
                        let reason = redis::from_redis_value::<Option<String>>(pair[0].clone())
                            .unwrap_or(None);
                        let ttl = redis::from_redis_value::<i64>(pair[1].clone()).unwrap_or(-2);
                        (reason, ttl)
                    })
                    .collect(),
                Err(error) => {
                    tracing::warn!(error = %error, "reading upstream key rests failed");
                    vec![(None, -2); fingerprints.len()]
                }
            }
        };
        answers
            .into_iter()
            .map(|(reason, ttl)| {
                let reason = reason?;
                let remaining = Duration::from_millis(u64::try_from(ttl).ok()?);
                Some(Rest { remaining, reason })
            })
            .collect()
    }

    /// Ends a key's rest at once (a successful test showed it works again).
    pub async fn end_rest(&self, fingerprint: &str) {
        let mut conn = self.redis.clone();
        let done: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(self.rest_key(fingerprint))
            .query_async(&mut conn)
            .await;
        if let Err(error) = done {
            tracing::warn!(error = %error, "ending an upstream key rest failed");
        }
    }

    async fn rest_for_a_while(&self, fingerprint: &str, status: StatusCode, body: &str) {
        tracing::warn!(
            key = fingerprint,
            status = status.as_u16(),
            rest_secs = self.rest.as_secs(),
            "upstream refused the key; resting it"
        );
        let reason = refusal(status, body);
        let mut conn = self.redis.clone();
        let ms = u64::try_from(self.rest.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.rest_key(fingerprint))
            .arg(&reason)
            .arg("PX")
            .arg(ms)
            .query_async(&mut conn)
            .await;
        if let Err(error) = set {
            tracing::warn!(error = %error, "storing an upstream key rest failed");
        }
        self.catalog.note_error(fingerprint, Some(&reason)).await;
    }

    /// One small non-streamed completion with `secret`: does the upstream
    /// take this key? A refused key is rested as in chat; a working one has
    /// its rest and last error cleared.
    pub async fn probe(&self, secret: &SecretString, model: &str, wait: Duration) -> Probe {
        let started = Instant::now();
        let body = serde_json::json!({
            "model": model,
            "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1,
            "stream": false,
        });
        let request = self.client.post(Post {
            bearer: secret.expose_secret(),
            accept: "application/json",
            body: Bytes::from(body.to_string()),
        });
        let fp = fingerprint(secret.expose_secret());
        let response = match tokio::time::timeout(wait, request).await {
            Err(_) => {
                return Probe {
                    status: None,
                    ok: false,
                    latency: started.elapsed(),
                    error: Some(format!("no answer within {} ms", wait.as_millis())),
                };
            }
            Ok(Err(error)) => {
                return Probe {
                    status: None,
                    ok: false,
                    latency: started.elapsed(),
                    error: Some(error.to_string()),
                };
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let latency = started.elapsed();
        if status.is_success() {
            self.end_rest(&fp).await;
            self.catalog.note_error(&fp, None).await;
            return Probe {
                status: Some(status.as_u16()),
                ok: true,
                latency,
                error: None,
            };
        }
        let text = tokio::time::timeout(wait, response.text(ERROR_BODY_MAX))
            .await
            .unwrap_or_default();
        if matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        ) {
            self.rest_for_a_while(&fp, status, &text).await;
        }
        Probe {
            status: Some(status.as_u16()),
            ok: false,
            latency,
            error: Some(refusal(status, &text)),
        }
    }

    /// Starts a streamed completion, trying the next key after a 401/403/429,
    /// all within `header_wait` (the request must answer before its deadline).
    pub async fn open(
        &self,
        candidates: Vec<Arc<Key>>,
        model: &str,
        body: &impl Serialize,
        header_wait: Duration,
    ) -> Result<Opened, OpenError> {
        let deadline = tokio::time::Instant::now() + header_wait;
        let mut last = OpenError::AllKeysResting;
        let body = Bytes::from(
            serde_json::to_vec(body).map_err(|error| OpenError::Transport(error.to_string()))?,
        );
        for key in candidates {
            let request = self.client.post(Post {
                bearer: key.secret.expose_secret(),
                accept: "text/event-stream",
                body: body.clone(),
            });
            let response = match tokio::time::timeout_at(deadline, request).await {
                Err(_) => {
                    count_error(&key, model, "timeout");
                    return Err(OpenError::Timeout(header_wait));
                }
                Ok(Err(error)) => {
                    count_error(&key, model, "transport");
                    return Err(OpenError::Transport(error.to_string()));
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
            count_error(&key, model, status.as_str());
            let text = tokio::time::timeout_at(deadline, response.text(ERROR_BODY_MAX))
                .await
                .unwrap_or_default();
            let error = OpenError::Status {
                status: status.as_u16(),
                body: text.chars().take(500).collect(),
            };
            if matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
            ) {
                self.rest_for_a_while(&key.fingerprint, status, &text).await;
                last = error;
                continue;
            }
            return Err(error);
        }
        Err(last)
    }
}

/// `chat_upstream_errors_total`: by key (its fingerprint, never the key),
/// model and what went wrong (an HTTP status, `timeout` or `transport`).
fn count_error(key: &Key, model: &str, what: &str) {
    metrics::counter!(
        "chat_upstream_errors_total",
        "key" => key.fingerprint.clone(),
        "model" => model.to_owned(),
        "error" => what.to_owned()
    )
    .increment(1);
}

/// Why the upstream refused: the status and the upstream's own message
/// (OpenAI's `error.message` when it sent one), cut short.
fn refusal(status: StatusCode, body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned());
    // Upstreams quote the key they refused (OpenAI: "Incorrect API key
    // provided: sk-abc*****xyz"); no part of one is kept.
    let message: Vec<&str> = message
        .split_whitespace()
        .map(|word| {
            if word.starts_with("sk-") {
                "sk-…"
            } else {
                word
            }
        })
        .collect();
    let reason = format!("{} {}", status.as_u16(), message.join(" "));
    reason.trim().chars().take(300).collect()
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

    #[test]
    fn a_refusal_keeps_the_message_but_no_key() {
        let body =
            r#"{"error":{"message":"Incorrect API key provided: sk-bad-123456. Check it."}}"#;
        assert_eq!(
            refusal(StatusCode::UNAUTHORIZED, body),
            "401 Incorrect API key provided: sk-… Check it."
        );
        assert_eq!(refusal(StatusCode::TOO_MANY_REQUESTS, ""), "429");
    }
}
