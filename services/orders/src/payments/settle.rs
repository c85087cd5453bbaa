//! Settling an unpaid order against the payment side before it closes (its
//! timeout, the sweeper, the buyer's close): a trade paid at Alipay is
//! fulfilled, a scanned one is closed there, and only then is the order closed.

use super::fulfil::fulfil;
use super::gateway::TradeState;
use crate::orders::close::{Closed, close_order};
use crate::state::AppState;

/// What became of an unpaid order after asking the payment side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Closed(Closed),
    /// Paid at the provider: fulfilment settles it, it is never closed.
    Paid,
}

/// Asks the payment side first: a trade paid at the provider but not here
/// yet is fulfilled (so the order completes instead of closing), a waiting
/// one is closed there, and then the order is closed.
pub async fn settle_with_payment(
    state: &AppState,
    order_id: i64,
    reason: &str,
) -> anyhow::Result<Settled> {
    match state.payment.query_trade(order_id).await? {
        TradeState::Paid(payment) => {
            let outcome = fulfil(state, &payment).await?;
            tracing::warn!(
                order_id,
                outcome = ?outcome,
                "order paid at the provider but not here yet; fulfilled while settling"
            );
            return Ok(Settled::Paid);
        }
        TradeState::WaitingForPayment => state.payment.close_trade(order_id).await?,
        TradeState::NotExist | TradeState::Closed => {}
    }
    Ok(Settled::Closed(close_order(state, order_id, reason).await?))
}
