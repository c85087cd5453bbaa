//! The "close order N if still unpaid" message an order writes to the outbox
//! with itself, for the timeout workers: a fixed kind and a version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const KIND: &str = "order_timeout";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutMessage {
    pub v: u32,
    pub kind: String,
    pub order_id: i64,
    /// The payment window the order was given; picks the wait queue in TTL mode.
    pub window_secs: u64,
    /// When the order's window ends.
    pub expire_at: DateTime<Utc>,
}

impl TimeoutMessage {
    pub fn new(order_id: i64, window_secs: u64, expire_at: DateTime<Utc>) -> Self {
        Self {
            v: VERSION,
            kind: KIND.into(),
            order_id,
            window_secs,
            expire_at,
        }
    }

    /// A message we can act on; anything else is poison.
    pub fn parse(data: &[u8]) -> Result<Self, String> {
        let m: Self = serde_json::from_slice(data).map_err(|e| format!("unparseable: {e}"))?;
        if m.kind != KIND || m.v != VERSION {
            return Err(format!("unknown message kind {} v{}", m.kind, m.v));
        }
        Ok(m)
    }
}
