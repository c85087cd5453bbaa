//! The avatar keys of `config/default.toml` (each overridable as
//! `PAYCHAT_<KEY>`): where the S3-compatible store is and how to sign in to it.

use std::time::Duration;

use paychat_common::config::{ConfigError, Problems, load};
use paychat_common::ratelimit::Limit;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AvatarConfig {
    /// The store's base URL, e.g. `http://127.0.0.1:8094` (path-style buckets).
    pub avatar_s3_endpoint: String,
    pub avatar_s3_bucket: String,
    pub avatar_s3_region: String,
    pub avatar_s3_access_key: String,
    pub avatar_s3_secret_key: SecretString,
    /// Time allowed for one call to the store.
    pub avatar_s3_timeout_ms: u64,
    /// Uploads one user may make per window (decoding is the costly part).
    pub avatar_upload_limit: u32,
    pub avatar_upload_window_secs: u64,
    /// Pictures decoded at once by this process; more wait their turn.
    pub avatar_decode_concurrency: usize,
}

impl AvatarConfig {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let config: Self = load(overrides)?;
        let mut p = Problems::default();
        p.check(
            url::Url::parse(&config.avatar_s3_endpoint)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
            "avatar_s3_endpoint",
            "must be an http(s) URL",
        );
        p.check(
            (3..=63).contains(&config.avatar_s3_bucket.len())
                && config.avatar_s3_bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                }),
            "avatar_s3_bucket",
            "must be a bucket name: 3-63 of a-z, 0-9, - and .",
        );
        p.check(
            !config.avatar_s3_region.is_empty(),
            "avatar_s3_region",
            "must not be empty",
        );
        p.check(
            !config.avatar_s3_access_key.is_empty(),
            "avatar_s3_access_key",
            "must not be empty",
        );
        p.check(
            (100..=60_000).contains(&config.avatar_s3_timeout_ms),
            "avatar_s3_timeout_ms",
            "must be between 100 and 60000",
        );
        p.check(
            config.avatar_upload_limit >= 1,
            "avatar_upload_limit",
            "must be at least 1",
        );
        p.check(
            (1..=86_400).contains(&config.avatar_upload_window_secs),
            "avatar_upload_window_secs",
            "must be between 1 and 86400",
        );
        p.check(
            (1..=64).contains(&config.avatar_decode_concurrency),
            "avatar_decode_concurrency",
            "must be between 1 and 64",
        );
        p.into_result()?;
        Ok(config)
    }

    pub fn upload_limit(&self) -> Limit {
        Limit::per(
            self.avatar_upload_limit,
            Duration::from_secs(self.avatar_upload_window_secs),
        )
    }
}
