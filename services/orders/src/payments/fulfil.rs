//! Fulfilment of a paid order, idempotent: one transaction flips the order to
//! completed with a conditional update (only one fulfiller wins), writes the
//! paid history row, sells the stock (`stock` down, `sale` up) and binds
//! `exchange_num` free codes per item to the buyer; after commit the codes are
//! emailed. A payment for an order already closed re-takes its stock in Redis
//! and is fulfilled the same way, or — no stock left — refunded through the
//! gateway and recorded on the order's history. No payment is ever dropped.
//!
//! Longer than 300 lines: the decision loop, its transaction, the re-take of
//! a closed order's stock and the refund are one invariant (every payment
//! ends fulfilled or refunded), read best in one file.

use anyhow::Context;
use paychat_common::payment::{RefundRequest, Reply};
use rust_decimal::Decimal;

use super::mail::BoughtCode;
use super::queries::{self, PaidHistory};
use crate::codes::code::RedemptionCode;
use crate::orders::queries as order_queries;
use crate::orders::types::{ItemRow, OrderRow};
use crate::state::AppState;
use crate::states::{OrderStatus, PayStatus};
use crate::stock::Reservation;

/// A payment Alipay confirmed (notify event or query).
#[derive(Debug, Clone)]
pub struct Payment {
    pub order_id: i64,
    pub out_trade_no: String,
    pub trade_no: String,
    pub amount: Decimal,
    pub buyer_account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfilled {
    /// This call completed the order.
    Now,
    /// Completed before (another delivery of the same payment).
    Already,
    /// Paid after it closed with no stock left: the money went back.
    Refunded,
    /// No such order: nothing to do but log it.
    UnknownOrder,
}

/// An order moves on at most twice (unpaid → closed → completed), so a few
/// fresh reads always reach a state this payment can be settled against.
const MAX_DECISIONS: usize = 4;

/// Fulfils or refunds `payment`. When the order changed between our read and
/// our conditional update (a close, or another attempt's payment, committed in
/// between), the decision is taken again from a fresh read: never acked as
/// done without knowing which payment did it.
pub async fn fulfil(state: &AppState, payment: &Payment) -> anyhow::Result<Fulfilled> {
    for _ in 0..MAX_DECISIONS {
        if let Some(outcome) = decide(state, payment).await? {
            return Ok(outcome);
        }
        tracing::info!(
            order_id = payment.order_id,
            out_trade_no = %payment.out_trade_no,
            "order changed while fulfilling; deciding again"
        );
    }
    anyhow::bail!(
        "order {} kept changing while fulfilling {}",
        payment.order_id,
        payment.out_trade_no
    )
}

/// One decision from one read; None when the order changed under it.
async fn decide(state: &AppState, payment: &Payment) -> anyhow::Result<Option<Fulfilled>> {
    let order_id = payment.order_id;
    let Some(order) = order_queries::find(&state.db, order_id).await? else {
        tracing::error!(order_id, out_trade_no = %payment.out_trade_no, "payment for an unknown order");
        return Ok(Some(Fulfilled::UnknownOrder));
    };
    let status = order.status();
    if status == OrderStatus::Completed {
        // The same payment again, or a second payment through another attempt's
        // QR code (the buyer paid twice): that one goes back.
        if queries::paid_by(&state.db, order_id, &payment.out_trade_no).await? {
            return Ok(Some(Fulfilled::Already));
        }
        if queries::refunded(&state.db, &payment.out_trade_no).await? {
            return Ok(Some(Fulfilled::Refunded));
        }
        return refund(
            state,
            &order,
            payment,
            "order already paid through another QR code",
        )
        .await
        .map(Some);
    }
    if payment.amount != order.total_amount {
        // The gateway checks amounts, so this is a bug or tampering upstream.
        // Retrying cannot fix it and the buyer's money must not vanish: refund.
        tracing::error!(
            order_id,
            paid = %payment.amount,
            expected = %order.total_amount,
            "payment of the wrong amount; refunding"
        );
        if queries::refunded(&state.db, &payment.out_trade_no).await? {
            return Ok(Some(Fulfilled::Refunded));
        }
        return refund(state, &order, payment, "paid amount differs from the order")
            .await
            .map(Some);
    }
    let items = order_queries::items(&state.db, &[order_id]).await?;
    let units: Vec<(i64, i32)> = items
        .iter()
        .map(|i| (i.product_id, i.exchange_num))
        .collect();
    let from_closed = !status.is_unpaid();
    if from_closed {
        if queries::refunded(&state.db, &payment.out_trade_no).await? {
            return Ok(Some(Fulfilled::Refunded));
        }
        // Its stock went back when it closed: take it again, or give the money back.
        match retake(state, &units).await? {
            Reservation::Reserved => {}
            _ => {
                return refund(state, &order, payment, "order closed and out of stock")
                    .await
                    .map(Some);
            }
        }
    }
    match complete(state, &order, &items, payment, from_closed).await {
        Ok(Some(codes)) => {
            metrics::counter!("orders_paid_total").increment(1);
            tracing::info!(
                order_id,
                user_id = order.user_id,
                from_closed,
                "order paid and fulfilled"
            );
            crate::stats::ledger::order_completed(state, order_id).await;
            send_codes(state, order.user_id, order_id, &codes).await;
            Ok(Some(Fulfilled::Now))
        }
        Ok(None) => {
            if from_closed {
                undo_retake(state, &units).await;
            }
            // Our update matched nothing: the order is not in the state we read.
            Ok(None)
        }
        Err(e) => {
            if from_closed {
                undo_retake(state, &units).await;
            }
            Err(e)
        }
    }
}

/// Reserves the units of a closed order again. A count missing from Redis is
/// loaded from the database first: a lost key is not a sold-out product.
async fn retake(state: &AppState, units: &[(i64, i32)]) -> anyhow::Result<Reservation> {
    let first = state.stock.reserve(units).await?;
    if !matches!(first, Reservation::NotLoaded { .. }) {
        return Ok(first);
    }
    let ids: Vec<i64> = units.iter().map(|(p, _)| *p).collect();
    crate::stock::reconcile::load_missing(&state.db, &state.stock, &ids).await?;
    Ok(state.stock.reserve(units).await?)
}

async fn undo_retake(state: &AppState, units: &[(i64, i32)]) {
    for (product_id, n) in units {
        if let Err(e) = state.stock.add(*product_id, i64::from(*n)).await {
            crate::stock::giveback_failed("fulfil_retake");
            tracing::error!(product_id, error = %e, "could not give re-taken stock back; reconciliation repairs it");
        }
    }
}

/// The transaction; None when another fulfiller got there first.
async fn complete(
    state: &AppState,
    order: &OrderRow,
    items: &[ItemRow],
    payment: &Payment,
    from_closed: bool,
) -> anyhow::Result<Option<Vec<BoughtCode>>> {
    let mut tx = state.db.begin().await?;
    if !queries::mark_paid(&mut tx, order.id, payment.amount, from_closed).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let mut bought = Vec::new();
    for item in items {
        queries::sell(&mut tx, item.product_id, item.exchange_num).await?;
        let codes = queries::free_codes(&mut tx, item.product_id, item.exchange_num).await?;
        if codes.len() < usize::try_from(item.exchange_num).unwrap_or(0) {
            // Rolled back and retried: codes are generated with the stock, so
            // this means codes were disabled or deleted by hand.
            anyhow::bail!(
                "order {}: product {} has {} free codes, {} needed",
                order.id,
                item.product_id,
                codes.len(),
                item.exchange_num
            );
        }
        let ids: Vec<i64> = codes.iter().map(|(id, _)| *id).collect();
        queries::bind_codes(&mut tx, &ids, order.user_id, order.id).await?;
        bought.extend(codes.into_iter().map(|(_, code)| BoughtCode {
            product_name: item.product_name.clone(),
            // The grouped form the buyer also sees in the app (XXXX-XXXX-...).
            code: RedemptionCode::parse(&code).map_or(code, |c| c.display()),
        }));
    }
    queries::insert_paid_history(
        &mut *tx,
        &PaidHistory {
            id: state.ids.next(),
            user_id: order.user_id,
            order_id: order.id,
            order_status: OrderStatus::Completed,
            pay_status: PayStatus::Paid,
            amount: payment.amount,
            pay_account: payment.buyer_account.as_deref(),
            out_trade_no: &payment.out_trade_no,
            trade_no: &payment.trade_no,
            remark: if from_closed {
                "paid after closing; stock re-taken"
            } else {
                "paid"
            },
        },
    )
    .await?;
    tx.commit().await.context("committing fulfilment")?;
    Ok(Some(bought))
}

async fn send_codes(state: &AppState, user_id: i64, order_id: i64, codes: &[BoughtCode]) {
    let to = match queries::buyer_email(&state.db, user_id).await {
        Ok(Some(to)) => to,
        Ok(None) => {
            tracing::warn!(
                order_id,
                user_id,
                "buyer has no email address; codes not emailed"
            );
            return;
        }
        Err(e) => {
            tracing::error!(order_id, error = %e, "could not read the buyer's email address");
            return;
        }
    };
    if let Err(e) = state
        .payments
        .mailer
        .send_codes(&state.db, &state.ids, &to, user_id, order_id, codes)
        .await
    {
        tracing::error!(
            order_id,
            error = format!("{e:#}"),
            "could not log the codes email"
        );
    }
}

/// Gives the money back for a payment we cannot honour, and records it.
async fn refund(
    state: &AppState,
    order: &OrderRow,
    payment: &Payment,
    reason: &str,
) -> anyhow::Result<Fulfilled> {
    let req = RefundRequest {
        out_trade_no: payment.out_trade_no.clone(),
        refund_amount: payment.amount,
        // The same value on every retry, so Alipay refunds once.
        out_request_no: payment.out_trade_no.clone(),
        reason: reason.to_owned(),
    };
    match state.payments.gateway.refund(&req).await? {
        Reply::Ok { .. } => {}
        Reply::Unknown { message } | Reply::Refused { message, .. } => {
            anyhow::bail!("refund of {} failed: {message}", payment.out_trade_no)
        }
        other => anyhow::bail!("refund of {} failed: {other:?}", payment.out_trade_no),
    }
    queries::insert_paid_history(
        &state.db,
        &PaidHistory {
            id: state.ids.next(),
            user_id: order.user_id,
            order_id: order.id,
            order_status: order.status(),
            pay_status: PayStatus::Refunded,
            amount: payment.amount,
            pay_account: payment.buyer_account.as_deref(),
            out_trade_no: &payment.out_trade_no,
            trade_no: &payment.trade_no,
            remark: &format!("refunded: {reason}"),
        },
    )
    .await?;
    super::mail::send_refund_notice(state, order, payment.amount).await;
    metrics::counter!("orders_refunded_total").increment(1);
    tracing::warn!(
        order_id = order.id,
        "payment after closing refunded: no stock left"
    );
    Ok(Fulfilled::Refunded)
}
