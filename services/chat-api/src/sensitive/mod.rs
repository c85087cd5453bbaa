//! Sensitive words: the filter every prompt passes (see [`filter`]), kept in
//! step with the `chat_sensitive_word` table on every copy of the service, and
//! the admin endpoints that change the list.
//!
//! Copies agree through a version counter in Redis: a change bumps it, and each
//! copy compares it with the version it loaded every `sensitive_reload_ms`
//! (2 s by default), reloading from the database when it moved.

pub mod filter;
mod handlers;
mod queries;

use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;
use redis::AsyncCommands;
use sqlx::MySqlPool;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use filter::Matcher;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::list, handlers::create))
        .routes(routes!(handlers::delete))
}

/// The live word list of this copy.
#[derive(Clone)]
pub struct SensitiveWords {
    inner: Arc<Inner>,
}

struct Inner {
    matcher: RwLock<Arc<Matcher>>,
    /// The Redis version the loaded list belongs to.
    seen: Mutex<Option<i64>>,
    db: MySqlPool,
    redis: Redis,
    version_key: String,
}

impl SensitiveWords {
    /// Loads the list and starts watching for changes.
    pub async fn start(
        db: MySqlPool,
        redis: Redis,
        keys: &Keys,
        every: Duration,
    ) -> anyhow::Result<Self> {
        let words = Self {
            inner: Arc::new(Inner {
                matcher: RwLock::new(Arc::new(Matcher::empty())),
                seen: Mutex::new(None),
                db,
                redis,
                version_key: rkey!(keys, "sensitive_words:version"),
            }),
        };
        let version = words.version().await.unwrap_or(None);
        words.reload(version).await?;
        tokio::spawn(watch(Arc::downgrade(&words.inner), every));
        Ok(words)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.current().is_match(text)
    }

    fn current(&self) -> Arc<Matcher> {
        self.inner
            .matcher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn version(&self) -> redis::RedisResult<Option<i64>> {
        let mut conn = self.inner.redis.clone();
        conn.get(&self.inner.version_key).await
    }

    async fn reload(&self, version: Option<i64>) -> anyhow::Result<()> {
        let mut conn = self.inner.db.acquire().await?;
        let rows = queries::enabled_words(&mut conn).await?;
        let matcher = Matcher::new(rows.iter().map(String::as_str))?;
        tracing::info!(words = matcher.len(), ?version, "sensitive words loaded");
        *self
            .inner
            .matcher
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(matcher);
        *self.inner.seen.lock().unwrap_or_else(|p| p.into_inner()) = version;
        Ok(())
    }

    /// After a change: tell the other copies, and reload here at once.
    pub async fn changed(&self) -> anyhow::Result<()> {
        let mut conn = self.inner.redis.clone();
        let version: i64 = conn.incr(&self.inner.version_key, 1).await?;
        self.reload(Some(version)).await
    }

    async fn check(&self) -> anyhow::Result<()> {
        let version = self.version().await?;
        let seen = *self.inner.seen.lock().unwrap_or_else(|p| p.into_inner());
        if version != seen {
            self.reload(version).await?;
        }
        Ok(())
    }
}

/// Runs until the service (the last strong reference) is gone.
async fn watch(inner: Weak<Inner>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let words = SensitiveWords { inner };
        if let Err(error) = words.check().await {
            tracing::warn!(
                error = format!("{error:#}"),
                "checking sensitive words failed"
            );
        }
    }
}
