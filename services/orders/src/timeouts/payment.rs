//! The payment side as the timeout logic sees it. The service uses the
//! gateway (`payments::gateway::GatewayPayment`: sealed trade query/close);
//! [`NoPayment`], for tests that need no gateway, reports that no trade
//! exists, which is what Alipay answers before a buyer scans the QR code.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    /// No trade at the provider (the QR code was never scanned): `ACQ.TRADE_NOT_EXIST`.
    NotExist,
    /// Scanned, not paid yet.
    WaitingForPayment,
    /// Paid: the order must be fulfilled, never closed.
    Paid {
        amount: Decimal,
        paid_at: DateTime<Utc>,
        buyer_account: Option<String>,
    },
    /// Closed at the provider.
    Closed,
}

#[async_trait]
pub trait PaymentPort: Send + Sync + 'static {
    /// The state of the order's trade(s) at the provider.
    async fn query_trade(&self, order_id: i64) -> anyhow::Result<TradeState>;
    /// Closes the order's trade so it can no longer be paid.
    async fn close_trade(&self, order_id: i64) -> anyhow::Result<()>;
}

/// No payment provider wired in: no trade ever exists, closing is a no-op.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPayment;

#[async_trait]
impl PaymentPort for NoPayment {
    async fn query_trade(&self, _order_id: i64) -> anyhow::Result<TradeState> {
        Ok(TradeState::NotExist)
    }

    async fn close_trade(&self, _order_id: i64) -> anyhow::Result<()> {
        Ok(())
    }
}
