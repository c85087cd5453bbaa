//! What every handler can reach.

use std::sync::Arc;

use paychat_common::envelope::{EnvelopePrivateKey, EnvelopePublicKey};
use paychat_common::ids::IdGenerator;
use paychat_common::ratelimit::RateLimiter;
use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use sqlx::MySqlPool;

use crate::alipay::AlipayClient;
use crate::config::Config;
use crate::events::Events;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: MySqlPool,
    pub redis: Redis,
    pub keys: Keys,
    pub limiter: RateLimiter,
    pub ids: Arc<IdGenerator>,
    pub alipay: Arc<AlipayClient>,
    /// The gateway's own envelope key.
    pub envelope_key: Arc<EnvelopePrivateKey>,
    /// The orders service's envelope public key.
    pub orders_key: EnvelopePublicKey,
    pub events: Events,
}
