//! Reconciliation: the trades of orders Alipay may have been paid for without
//! a notify reaching us are looked up at Alipay, and every one it reports paid
//! is fulfilled or refunded. That covers orders awaiting confirmation whose QR
//! code is older than `reconcile_after_secs`, and closed (or completed) orders
//! while one of their QR codes can still be paid at Alipay: a buyer may scan a
//! code after the order closed, or pay a second attempt's code.

use std::time::Duration;

use paychat_common::payment::Reply;

use super::fulfil::{Fulfilled, Payment, fulfil};
use super::queries;
use crate::state::AppState;

/// Orders read per page; a pass goes through every page, so closed orders
/// waiting out their QR codes never crowd newer ones out.
const BATCH: u32 = 200;

/// Runs for the life of the process.
pub async fn run(state: AppState) {
    let interval = Duration::from_secs(state.config.payments.reconcile_interval_secs);
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = reconcile(&state).await {
            tracing::warn!(error = format!("{e:#}"), "payment reconciliation failed");
        }
    }
}

/// One pass; returns how many orders it completed.
pub async fn reconcile(state: &AppState) -> anyhow::Result<usize> {
    let config = &state.config.payments;
    let mut completed = 0;
    let mut after = 0;
    loop {
        let page = queries::to_reconcile(
            &state.db,
            config.reconcile_after_secs,
            config.reconcile_closed_grace_secs,
            after,
            BATCH,
        )
        .await?;
        for &order_id in &page {
            match settle_order(state, order_id).await {
                Ok(n) => completed += n,
                Err(e) => {
                    metrics::counter!("fulfilment_failures_total", "path" => "reconcile")
                        .increment(1);
                    tracing::warn!(
                        order_id,
                        error = format!("{e:#}"),
                        "could not reconcile an order"
                    );
                }
            }
        }
        match page.last() {
            Some(&last) if page.len() == BATCH as usize => after = last,
            _ => break,
        }
    }
    if completed > 0 {
        metrics::counter!("orders_reconciled_total").increment(completed as u64);
    }
    Ok(completed)
}

/// Settles every trade of the order Alipay reports paid, not only the first:
/// a second attempt's payment must be refunded too. Returns 1 if this
/// completed the order.
async fn settle_order(state: &AppState, order_id: i64) -> anyhow::Result<usize> {
    let gateway = &state.payments.gateway;
    let mut completed = 0;
    for out_trade_no in queries::attempts(&state.db, order_id).await? {
        let trade = match gateway.query(&out_trade_no).await? {
            Reply::Ok { result } if result.is_paid() => result,
            Reply::Ok { .. } | Reply::TradeNotExist | Reply::TradeStatusError => continue,
            Reply::Unknown { message } | Reply::Refused { message, .. } => {
                anyhow::bail!("querying {out_trade_no}: {message}")
            }
        };
        let payment = Payment {
            order_id,
            out_trade_no: trade.out_trade_no,
            trade_no: trade.trade_no,
            amount: trade.total_amount,
            buyer_account: trade.buyer_account,
        };
        match fulfil(state, &payment).await? {
            Fulfilled::Now => {
                completed = 1;
                finding("paid_without_notify");
                tracing::warn!(
                    order_id,
                    out_trade_no,
                    "order paid at Alipay without a notify; fulfilled by reconciliation"
                );
            }
            Fulfilled::Refunded => {
                finding("refunded");
                tracing::warn!(
                    order_id,
                    out_trade_no,
                    "payment Alipay reported without a notify could not be honoured; refunded"
                );
            }
            Fulfilled::Already | Fulfilled::UnknownOrder => {}
        }
    }
    Ok(completed)
}

/// `reconcile_findings_total`: a payment Alipay reported that no notify had
/// brought, by what was done about it (`paid_without_notify`: the order was
/// fulfilled; `refunded`: it could not be honoured and the money went back).
fn finding(kind: &'static str) {
    metrics::counter!("reconcile_findings_total", "finding" => kind).increment(1);
}
