//! The chat relay's configuration keys (flat keys in `config/default.toml`,
//! overridden by `PAYCHAT_<KEY>`), checked once at start.

use std::time::Duration;

use paychat_common::config::{ConfigError, Problems, load, split_list};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct RelaySettings {
    /// OpenAI-compatible base URL, ending before `/chat/completions`.
    pub llm_base_url: String,
    /// Upstream keys, comma-separated; used in turn.
    pub llm_api_keys: SecretString,
    /// Models offered by `GET /api/chat/models` and accepted by completions.
    pub llm_models: String,
    pub llm_default_model: String,
    pub llm_connect_timeout_ms: u64,
    /// Longest wait for the upstream's response headers and its first event.
    pub llm_first_byte_timeout_ms: u64,
    /// Longest silence between two upstream events once streaming.
    pub llm_idle_timeout_ms: u64,
    /// How long a key that answered 401/429 is left out of the rotation.
    pub llm_key_rest_secs: u64,
    /// Earlier messages sent as context, at most.
    pub context_max_messages: u32,
    /// Token budget of the context (history plus the prompt), counted with cl100k.
    pub context_max_tokens: u32,
    pub prompt_max_chars: u32,
    /// Completions a user may start per minute.
    pub chat_requests_per_minute: u32,
    /// Streams a user may have open at once.
    pub chat_max_streams_per_user: u32,
    /// Keep-alive comment after this much silence towards the browser.
    pub chat_keepalive_secs: u64,
    /// How often each copy checks whether the sensitive words changed.
    pub sensitive_reload_ms: u64,
}

impl RelaySettings {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let s: Self = load(overrides)?;
        let mut p = Problems::default();
        p.check(
            s.llm_base_url.starts_with("http://") || s.llm_base_url.starts_with("https://"),
            "llm_base_url",
            "must be an http(s) URL such as http://127.0.0.1:8091/v1",
        );
        p.check(
            !s.api_keys().is_empty(),
            "llm_api_keys",
            "needs at least one key",
        );
        p.check(
            !s.models().is_empty(),
            "llm_models",
            "needs at least one model",
        );
        p.check(
            s.models().iter().any(|m| *m == s.llm_default_model),
            "llm_default_model",
            "must be one of llm_models",
        );
        p.check(
            s.prompt_max_chars > 0,
            "prompt_max_chars",
            "must be positive",
        );
        p.check(
            s.chat_max_streams_per_user > 0,
            "chat_max_streams_per_user",
            "must be positive",
        );
        p.check(
            s.chat_requests_per_minute > 0,
            "chat_requests_per_minute",
            "must be positive",
        );
        p.check(
            s.chat_keepalive_secs > 0,
            "chat_keepalive_secs",
            "must be positive",
        );
        p.check(
            s.sensitive_reload_ms > 0,
            "sensitive_reload_ms",
            "must be positive",
        );
        p.into_result()?;
        Ok(s)
    }

    pub fn api_keys(&self) -> Vec<SecretString> {
        split_list(self.llm_api_keys.expose_secret())
            .map(SecretString::from)
            .collect()
    }

    pub fn models(&self) -> Vec<&str> {
        split_list(&self.llm_models).collect()
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.llm_connect_timeout_ms)
    }

    pub fn first_byte_timeout(&self) -> Duration {
        Duration::from_millis(self.llm_first_byte_timeout_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.llm_idle_timeout_ms)
    }
}
