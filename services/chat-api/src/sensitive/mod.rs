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

use std::time::Duration;

use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use paychat_common::rkey;
use sqlx::MySqlPool;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::replicated::{Loader, Replicated};
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
    words: Replicated<WordList>,
}

/// Loads the enabled words into a matcher.
struct WordList {
    db: MySqlPool,
}

impl Loader for WordList {
    type Value = Matcher;
    const WHAT: &'static str = "sensitive words";

    async fn load(&self) -> anyhow::Result<Matcher> {
        let mut conn = self.db.acquire().await?;
        let rows = queries::enabled_words(&mut conn).await?;
        let matcher = Matcher::new(rows.iter().map(String::as_str))?;
        tracing::info!(words = matcher.len(), "sensitive words loaded");
        Ok(matcher)
    }
}

impl SensitiveWords {
    /// Loads the list and starts watching for changes.
    pub async fn start(
        db: MySqlPool,
        redis: Redis,
        keys: &Keys,
        every: Duration,
    ) -> anyhow::Result<Self> {
        let words = Replicated::start(
            WordList { db },
            redis,
            rkey!(keys, "sensitive_words:version"),
            every,
        )
        .await?;
        Ok(Self { words })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.words.current().is_match(text)
    }

    /// After a change: tell the other copies, and reload here at once.
    pub async fn changed(&self) -> anyhow::Result<()> {
        self.words.changed().await
    }
}
