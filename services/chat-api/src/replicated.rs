//! A value every copy of the service keeps in step with the database: a change
//! bumps a version counter in Redis, and each copy compares it with the
//! version it loaded every so often, reloading from the database when it
//! moved. The sensitive words and the upstream keys are kept this way.

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use anyhow::Context;
use paychat_common::redis::Redis;
use redis::AsyncCommands;

/// Loads the value from the database.
pub trait Loader: Send + Sync + 'static {
    type Value: Send + Sync + 'static;
    /// What the value is, for log lines.
    const WHAT: &'static str;

    fn load(&self) -> impl Future<Output = anyhow::Result<Self::Value>> + Send;
}

/// This copy's current value, replaced whole on every reload.
pub struct Replicated<L: Loader> {
    inner: Arc<Inner<L>>,
}

impl<L: Loader> Clone for Replicated<L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<L: Loader> {
    loader: L,
    live: RwLock<Arc<L::Value>>,
    /// The Redis version the live value belongs to.
    seen: Mutex<Option<i64>>,
    redis: Redis,
    version_key: String,
}

impl<L: Loader> Replicated<L> {
    /// Loads the value and checks for changes every `every` until the last
    /// handle is dropped. A Redis that is down at start only delays the first
    /// check; the database must answer.
    pub async fn start(
        loader: L,
        redis: Redis,
        version_key: String,
        every: Duration,
    ) -> anyhow::Result<Self> {
        let mut conn = redis.clone();
        let version: Option<i64> = conn.get(&version_key).await.unwrap_or(None);
        let value = loader.load().await?;
        let replicated = Self {
            inner: Arc::new(Inner {
                loader,
                live: RwLock::new(Arc::new(value)),
                seen: Mutex::new(version),
                redis,
                version_key,
            }),
        };
        tokio::spawn(watch(Arc::downgrade(&replicated.inner), every));
        Ok(replicated)
    }

    pub fn current(&self) -> Arc<L::Value> {
        self.inner
            .live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn loader(&self) -> &L {
        &self.inner.loader
    }

    /// After a change: tell the other copies, and reload here at once.
    pub async fn changed(&self) -> anyhow::Result<()> {
        let mut conn = self.inner.redis.clone();
        let version: i64 = conn
            .incr(&self.inner.version_key, 1)
            .await
            .with_context(|| format!("bumping the version of the {}", L::WHAT))?;
        self.reload(Some(version)).await
    }

    async fn reload(&self, version: Option<i64>) -> anyhow::Result<()> {
        let value = self.inner.loader.load().await?;
        *self.inner.live.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
        *self.inner.seen.lock().unwrap_or_else(|p| p.into_inner()) = version;
        tracing::info!(what = L::WHAT, ?version, "reloaded");
        Ok(())
    }

    async fn check(&self) -> anyhow::Result<()> {
        let mut conn = self.inner.redis.clone();
        let version: Option<i64> = conn.get(&self.inner.version_key).await?;
        let seen = *self.inner.seen.lock().unwrap_or_else(|p| p.into_inner());
        if version != seen {
            self.reload(version).await?;
        }
        Ok(())
    }
}

/// Runs until the service (the last strong reference) is gone.
async fn watch<L: Loader>(inner: Weak<Inner<L>>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Err(error) = (Replicated { inner }).check().await {
            tracing::warn!(
                what = L::WHAT,
                error = format!("{error:#}"),
                "checking for changes failed"
            );
        }
    }
}
