//! The avatar pictures in S3-compatible storage (s3s-fs locally, MinIO in
//! docker-compose, S3 or any compatible service in production), one object
//! per user and version: `avatars/<user id>/<version>.webp`. A new version is
//! a new object, so a cached URL never shows a different picture.

use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use secrecy::ExposeSecret;

use super::config::AvatarConfig;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such avatar")]
    NotFound,
    #[error("object storage: {0}")]
    Failed(#[source] object_store::Error),
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            e => Self::Failed(e),
        }
    }
}

pub struct AvatarStore {
    s3: AmazonS3,
}

fn key(user_id: i64, version: i32) -> Path {
    Path::from(format!("avatars/{user_id}/{version}.webp"))
}

impl AvatarStore {
    pub fn new(config: &AvatarConfig) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(config.avatar_s3_timeout_ms);
        let s3 = AmazonS3Builder::new()
            .with_endpoint(config.avatar_s3_endpoint.trim_end_matches('/'))
            .with_bucket_name(&config.avatar_s3_bucket)
            .with_region(&config.avatar_s3_region)
            .with_access_key_id(&config.avatar_s3_access_key)
            .with_secret_access_key(config.avatar_s3_secret_key.expose_secret())
            // Path-style (`endpoint/bucket/key`): what MinIO and s3s-fs serve.
            .with_virtual_hosted_style_request(false)
            // The client options carry allow_http too: set it on them.
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(true)
                    .with_timeout(timeout)
                    .with_connect_timeout(timeout),
            )
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: timeout * 2,
                ..RetryConfig::default()
            })
            .build()?;
        Ok(Self { s3 })
    }

    pub async fn put(&self, user_id: i64, version: i32, webp: Vec<u8>) -> Result<(), StoreError> {
        self.s3
            .put(&key(user_id, version), PutPayload::from(webp))
            .await?;
        Ok(())
    }

    pub async fn get(&self, user_id: i64, version: i32) -> Result<Bytes, StoreError> {
        Ok(self.s3.get(&key(user_id, version)).await?.bytes().await?)
    }

    /// Removes an older version; a failure only leaves an unreferenced object.
    pub async fn delete(&self, user_id: i64, version: i32) {
        if let Err(e) = self.s3.delete(&key(user_id, version)).await {
            tracing::warn!(user_id, version, error = %e, "could not remove an old avatar");
        }
    }
}
