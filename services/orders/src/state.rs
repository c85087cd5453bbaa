//! What every handler and worker can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use paychat_common::auth::Sessions;
use paychat_common::ids::IdGenerator;
use paychat_common::ratelimit::RateLimiter;
use paychat_common::redis::Keys;
use paychat_common::redis::Redis;
use sqlx::MySqlPool;
use tokio::sync::Notify;

use crate::amqp::Broker;
use crate::config::Config;
use crate::orders::writer::OrderWriter;
use crate::payments::gateway::PaymentPort;
use crate::stock::Stock;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: MySqlPool,
    pub redis: Redis,
    pub keys: Keys,
    pub sessions: Sessions,
    pub limiter: RateLimiter,
    pub ids: Arc<IdGenerator>,
    pub stock: Stock,
    pub broker: Broker,
    /// Writes placed orders in batches (group commit).
    pub writer: OrderWriter,
    /// Wakes the outbox relay right after an order commits.
    pub outbox_wake: Arc<Notify>,
    /// The payment side, asked before an unpaid order is closed.
    pub payment: Arc<dyn PaymentPort>,
    /// The gateway client and the mailer of payment fulfilment.
    pub payments: Arc<crate::payments::Payments>,
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}
