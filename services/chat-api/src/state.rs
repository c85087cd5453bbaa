//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use paychat_common::auth::Sessions;
use paychat_common::ids::IdGenerator;
use paychat_common::ratelimit::RateLimiter;
use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use sqlx::MySqlPool;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: MySqlPool,
    pub redis: Redis,
    pub keys: Keys,
    pub sessions: Sessions,
    pub limiter: RateLimiter,
    pub ids: Arc<IdGenerator>,
    pub accounts: Arc<crate::accounts::Accounts>,
    pub oauth: Arc<crate::oauth::OAuth>,
    pub avatars: Arc<crate::avatars::Avatars>,
    pub sensitive: crate::sensitive::SensitiveWords,
    pub upstream: Arc<crate::chat::upstream::Upstream>,
    /// Group-commits the relay's chat times, exchanges and closes.
    pub chat_writer: crate::chat::writer::ChatWriter,
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}
