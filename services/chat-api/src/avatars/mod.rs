//! Avatars (API.md's "avatars" rows): an upload is checked by its content,
//! re-encoded as a 256×256 WebP, kept in S3-compatible storage under its
//! version, and `chat_user.avatar_version` moves so `user.avatar_url` changes.
//!
//! - `image_check.rs`: what is taken and the re-encoding (the `image` crate)
//! - `store.rs`: the objects (`object_store`, S3 API); `config.rs`: its keys
//! - `handlers.rs`: upload and serve; `queries.rs`: the version's SQL

pub mod config;
pub mod handlers;
pub mod image_check;
pub mod queries;
pub mod store;

use axum::extract::DefaultBodyLimit;
use tokio::sync::Semaphore;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// What the avatar handlers need beyond the shared state.
pub struct Avatars {
    pub store: store::AvatarStore,
    pub config: config::AvatarConfig,
    /// Bounds the decoding (CPU and up to a few hundred MB each) to a few at once.
    pub decoding: Semaphore,
}

impl Avatars {
    pub fn new(config: &config::AvatarConfig) -> anyhow::Result<Self> {
        Ok(Self {
            store: store::AvatarStore::new(config)?,
            decoding: Semaphore::new(config.avatar_decode_concurrency),
            config: config.clone(),
        })
    }
}

/// The upload route's path: the one route allowed a body above the shared
/// 64 KiB limit.
pub const UPLOAD_PATH: &str = "/api/users/me/avatar";

/// The largest request body of an upload: the file and the form around it.
pub const UPLOAD_BODY_LIMIT: usize = image_check::MAX_BYTES + 64 * 1024;

/// The versioned URL of a user's avatar, `None` before the first upload.
pub fn url(user_id: i64, version: i32) -> Option<String> {
    (version > 0).then(|| format!("/api/users/{user_id}/avatar?v={version}"))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::upload))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
        .merge(OpenApiRouter::new().routes(routes!(handlers::get)))
}
