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
    /// Upstream keys, comma-separated: imported into the database on the
    /// first start (the console manages them from then on); may be empty.
    pub llm_api_keys: SecretString,
    /// Models offered by `GET /api/chat/models` and accepted by completions.
    pub llm_models: String,
    pub llm_default_model: String,
    pub llm_connect_timeout_ms: u64,
    /// Longest wait for the upstream's response headers and its first event.
    /// The headers are awaited inside the request, so that wait is cut short
    /// to end within `request_timeout_ms` (see [`Self::header_wait`]).
    pub llm_first_byte_timeout_ms: u64,
    /// Longest silence between two upstream events once streaming.
    pub llm_idle_timeout_ms: u64,
    /// Extra CA certificates (PEM) trusted for an https upstream; empty: none.
    pub llm_ca_file: String,
    /// An HTTP proxy the upstream is reached through (CONNECT); empty: none.
    pub llm_proxy_url: String,
    /// How long a key that answered 401/429 is left out of the rotation.
    pub llm_key_rest_secs: u64,
    /// Seals the upstream keys kept in the database (base64 of 32 bytes).
    pub llm_key_encryption_key: SecretString,
    /// How often each copy checks whether the keys or models changed.
    pub llm_keys_reload_ms: u64,
    /// Earlier messages sent as context, at most.
    pub context_max_messages: u32,
    /// Token budget of the context (history plus the prompt), counted with cl100k.
    pub context_max_tokens: u32,
    pub prompt_max_chars: u32,
    /// Completions a user may start per minute.
    pub chat_requests_per_minute: u32,
    /// Streams a user may have open at once.
    pub chat_max_streams_per_user: u32,
    /// Longest a stream may last from the request on; also how long its slot
    /// outlives a copy that died holding it.
    pub chat_stream_max_secs: u64,
    /// Keep-alive comment after this much silence towards the browser.
    pub chat_keepalive_secs: u64,
    /// After the first delta, the browser gets what arrived at most once per
    /// this window (0: every upstream event as it comes).
    pub chat_flush_ms: u64,
    /// How often each copy checks whether the sensitive words changed.
    pub sensitive_reload_ms: u64,
    /// The shared request timeout, which the wait for upstream headers must fit in.
    pub request_timeout_ms: u64,
}

/// How long past its longest possible stream a slot is kept: the time to save
/// the exchange and give the slot back.
const SLOT_MARGIN: Duration = Duration::from_secs(30);

/// The part of the request timeout kept for what happens around the handler
/// (reading the session and the body before it, writing the answer after).
fn headroom(request_timeout: Duration) -> Duration {
    (request_timeout / 10).min(Duration::from_millis(500))
}

/// Whether `base_url` is a stand-in LLM: on this machine, or the compose
/// file's `sandbox-llm`. Only such an upstream may run with the published
/// sandbox encryption key.
fn is_sandbox_upstream(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost" || name == "sandbox-llm",
        None => false,
    }
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
            s.llm_ca_file.is_empty() || std::path::Path::new(&s.llm_ca_file).is_file(),
            "llm_ca_file",
            "must be empty or a readable PEM file of CA certificates",
        );
        p.check(
            s.llm_proxy_url.is_empty() || super::upstream_conn::is_proxy_url(&s.llm_proxy_url),
            "llm_proxy_url",
            "must be empty or an http:// URL such as http://proxy.internal:3128",
        );
        // No key check: the keys live in the database (see crate::llm_keys);
        // these are only imported on the first start, and may be left empty
        // once the console holds the keys.
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
            s.chat_stream_max_secs > 0,
            "chat_stream_max_secs",
            "must be positive",
        );
        p.check(
            s.llm_first_byte_timeout_ms > 0,
            "llm_first_byte_timeout_ms",
            "must be positive",
        );
        p.check(
            s.chat_keepalive_secs > 0,
            "chat_keepalive_secs",
            "must be positive",
        );
        p.check(
            s.chat_flush_ms <= 1000,
            "chat_flush_ms",
            "must be at most 1000 (an answer should keep moving)",
        );
        p.check(
            crate::llm_keys::sealing::decode_key(s.llm_key_encryption_key.expose_secret())
                .is_some(),
            "llm_key_encryption_key",
            "must be 32 random bytes in base64 (openssl rand -base64 32)",
        );
        p.check(
            s.llm_key_encryption_key.expose_secret().trim()
                != crate::llm_keys::sealing::SANDBOX_ENCRYPTION_KEY
                || is_sandbox_upstream(&s.llm_base_url),
            "llm_key_encryption_key",
            "is the published sandbox value; set PAYCHAT_LLM_KEY_ENCRYPTION_KEY for a real upstream",
        );
        p.check(
            s.llm_keys_reload_ms > 0,
            "llm_keys_reload_ms",
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

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// How long a request that has run for `elapsed` may still wait for the
    /// upstream's headers: the first-byte timeout, cut short so that the
    /// relay, not the request timeout, ends the wait, and answers 503 with the
    /// chat time given back.
    pub fn header_wait(&self, elapsed: Duration) -> Duration {
        let request = self.request_timeout();
        let budget = request.saturating_sub(headroom(request) + elapsed);
        self.first_byte_timeout().min(budget)
    }

    pub fn flush_window(&self) -> Duration {
        Duration::from_millis(self.chat_flush_ms)
    }

    pub fn stream_max(&self) -> Duration {
        Duration::from_secs(self.chat_stream_max_secs)
    }

    /// How long a stream slot lasts when nobody gives it back: the wait for
    /// headers (within the request timeout), the longest stream, and the
    /// margin to save it.
    pub fn slot_lifetime(&self) -> Duration {
        self.request_timeout() + self.stream_max() + SLOT_MARGIN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(first_byte_ms: u64, request_ms: u64) -> RelaySettings {
        let overrides = [
            ("llm_first_byte_timeout_ms", first_byte_ms.to_string()),
            ("request_timeout_ms", request_ms.to_string()),
        ];
        let defaults = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.toml");
        paychat_common::config::load_from(Some(std::path::Path::new(defaults)), &overrides)
            .expect("the defaults load")
    }

    #[test]
    fn the_header_wait_ends_before_the_request_timeout() {
        let s = settings(30_000, 15_000);
        assert_eq!(s.header_wait(Duration::ZERO), Duration::from_millis(14_500));
        assert_eq!(
            s.header_wait(Duration::from_secs(4)),
            Duration::from_millis(10_500)
        );
        assert_eq!(s.header_wait(Duration::from_secs(20)), Duration::ZERO);
        // A short request timeout keeps a tenth of itself.
        let s = settings(2_500, 1_500);
        assert_eq!(s.header_wait(Duration::ZERO), Duration::from_millis(1_350));
    }

    #[test]
    fn a_short_first_byte_timeout_is_kept() {
        let s = settings(2_000, 15_000);
        assert_eq!(
            s.header_wait(Duration::from_secs(1)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn the_sandbox_encryption_key_is_for_a_sandbox_upstream_only() {
        assert!(is_sandbox_upstream("http://127.0.0.1:8091/v1"));
        assert!(is_sandbox_upstream("http://sandbox-llm:8091/v1"));
        assert!(!is_sandbox_upstream("https://api.openai.com/v1"));
        let defaults = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.toml");
        let load = |extra: &[(&str, &str)]| {
            let mut overrides = vec![("config_file", defaults.to_owned())];
            overrides.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
            RelaySettings::load(&overrides).map(|_| ())
        };
        assert!(load(&[]).is_ok());
        assert!(load(&[("llm_base_url", "https://api.openai.com/v1")]).is_err());
        let own_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert!(
            load(&[
                ("llm_base_url", "https://api.openai.com/v1"),
                ("llm_key_encryption_key", own_key),
            ])
            .is_ok()
        );
        assert!(load(&[("llm_key_encryption_key", "c2hvcnQ=")]).is_err());
        // The database holds the keys; the configuration may have none.
        assert!(load(&[("llm_api_keys", "")]).is_ok());
        // Extra roots for a private upstream: a file that is there, or none.
        assert!(load(&[("llm_ca_file", "/nonexistent/ca.pem")]).is_err());
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
        assert!(load(&[("llm_ca_file", ca)]).is_ok());
        assert!(load(&[("llm_proxy_url", "socks5://proxy:1080")]).is_err());
        assert!(load(&[("llm_proxy_url", "http://user:pw@proxy:3128")]).is_ok());
    }

    #[test]
    fn a_slot_outlives_the_longest_stream() {
        let s = settings(30_000, 15_000);
        assert!(s.slot_lifetime() > s.stream_max() + s.request_timeout());
        assert!(s.slot_lifetime() < Duration::from_secs(3600));
    }
}
