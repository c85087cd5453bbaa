//! The keys and models this copy uses, kept in step with `llm_key` and
//! `llm_model` on every copy the way the sensitive words are: a change bumps
//! a version counter in Redis, and each copy compares it with the version it
//! loaded every `llm_keys_reload_ms` (2 s by default), reloading when it moved.
//!
//! The configuration is the bootstrap: while `llm_key` has never held a row,
//! the keys of `llm_api_keys` are sealed and imported (once; deleting them
//! all in the console does not bring them back), and every model of
//! `llm_models` gets a row, enabled. From then on the database decides.

use std::sync::Arc;
use std::time::Duration;

use paychat_common::ids::IdGenerator;
use paychat_common::redis::{Keys, Redis};
use paychat_common::rkey;
use secrecy::ExposeSecret;
use sqlx::MySqlPool;

use super::queries::{self, NewKey};
use super::sealing::{Sealer, mask};
use crate::chat::settings::RelaySettings;
use crate::chat::upstream::{Key, fingerprint};
use crate::replicated::{Loader, Replicated};

/// What the relay may use right now.
#[derive(Default)]
pub struct Live {
    /// Enabled keys, oldest first.
    pub keys: Vec<Arc<Key>>,
    /// Enabled models, in the configuration's order.
    pub models: Vec<String>,
}

#[derive(Clone)]
pub struct Catalog {
    live: Replicated<Source>,
}

/// Reads and opens the keys, and the enabled models.
struct Source {
    db: MySqlPool,
    sealer: Sealer,
    /// The models of `llm_models`: the only ones that can be offered.
    configured: Vec<String>,
}

impl Loader for Source {
    type Value = Live;
    const WHAT: &'static str = "upstream keys and models";

    async fn load(&self) -> anyhow::Result<Live> {
        let mut conn = self.db.acquire().await?;
        let sealed = queries::usable_keys(&mut conn).await?;
        let models = queries::model_rows(&mut conn).await?;
        drop(conn);
        let mut keys = Vec::with_capacity(sealed.len());
        for (id, sealed) in sealed {
            match self.sealer.open(id, &sealed) {
                Ok(secret) => keys.push(Arc::new(Key::new(id, secret))),
                // Sealed under another encryption key: unusable, and said so.
                Err(error) => tracing::error!(key_id = id, error = %error, "upstream key skipped"),
            }
        }
        let models: Vec<String> = self
            .configured
            .iter()
            .filter(|name| models.iter().any(|m| &m.name == *name && m.enabled))
            .cloned()
            .collect();
        if keys.is_empty() {
            // Chat answers 503 until a key is added in the console.
            tracing::warn!("no usable upstream key: add one under the console's upstream keys");
        }
        tracing::info!(
            keys = keys.len(),
            models = models.len(),
            "upstream keys and models loaded"
        );
        Ok(Live { keys, models })
    }
}

impl Source {
    async fn bootstrap(&self, settings: &RelaySettings, ids: &IdGenerator) -> anyhow::Result<()> {
        let mut conn = self.db.acquire().await?;
        let names: Vec<&str> = self.configured.iter().map(String::as_str).collect();
        queries::add_models(&mut conn, &names).await?;
        if queries::any_key_ever(&mut conn).await? {
            return Ok(());
        }
        let mut imported = 0;
        for (n, secret) in settings.api_keys().iter().enumerate() {
            let secret = secret.expose_secret();
            let id = ids.next();
            let sealed = self.sealer.seal(id, secret)?;
            let label = format!("configuration #{}", n + 1);
            let key = NewKey {
                id,
                label: &label,
                sealed: &sealed,
                fingerprint: &fingerprint(secret),
                masked: &mask(secret),
                enabled: true,
            };
            // Another copy importing at the same moment makes this a no-op.
            if queries::insert_key(&mut conn, &key).await? {
                imported += 1;
            }
        }
        tracing::info!(imported, "upstream keys imported from the configuration");
        Ok(())
    }
}

impl Catalog {
    /// Imports the configuration if needed, loads, and starts watching.
    pub async fn start(
        settings: &RelaySettings,
        db: MySqlPool,
        redis: Redis,
        keys: &Keys,
        ids: &IdGenerator,
    ) -> anyhow::Result<Self> {
        let source = Source {
            db,
            sealer: Sealer::new(&settings.llm_key_encryption_key)?,
            configured: settings.models().into_iter().map(str::to_owned).collect(),
        };
        source.bootstrap(settings, ids).await?;
        let live = Replicated::start(
            source,
            redis,
            rkey!(keys, "llm_keys:version"),
            Duration::from_millis(settings.llm_keys_reload_ms),
        )
        .await?;
        Ok(Self { live })
    }

    pub fn sealer(&self) -> &Sealer {
        &self.live.loader().sealer
    }

    /// The configured models, in order.
    pub fn configured_models(&self) -> &[String] {
        &self.live.loader().configured
    }

    pub fn current(&self) -> Arc<Live> {
        self.live.current()
    }

    pub fn offers(&self, model: &str) -> bool {
        self.current().models.iter().any(|m| m == model)
    }

    /// Keeps (or, with `None`, clears) why the upstream last refused a key.
    pub async fn note_error(&self, fingerprint: &str, error: Option<&str>) {
        let noted = async {
            let mut conn = self.live.loader().db.acquire().await?;
            queries::set_last_error(&mut conn, fingerprint, error).await
        }
        .await;
        if let Err(error) = noted {
            tracing::warn!(error = %error, "noting an upstream key's error failed");
        }
    }

    /// After a change: tell the other copies, and reload here at once.
    pub async fn changed(&self) -> anyhow::Result<()> {
        self.live.changed().await
    }
}
