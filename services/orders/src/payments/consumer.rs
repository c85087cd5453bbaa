//! Consumes "payment succeeded" events from the gateway: manual acks, prefetch
//! bounded, fulfilment idempotent (a redelivered or duplicated event finds the
//! order completed and is acked). A failure is published again after a pause
//! with its attempt count in a header; after `payment_max_attempts` the event
//! is parked in `chat_payment_failure` for the fulfilment retry job
//! (`retry`). An event is acked only once fulfilled, refunded, parked
//! or published again, so a payment is never dropped; an event we cannot read
//! is logged and acked, so poison never loops (the gateway's notify log and
//! reconciliation still know the trade).

use std::time::Duration;

use lapin::message::Delivery;
use paychat_common::payment::{PaymentSucceeded, succeeded_queue};

use super::fulfil::{Payment, fulfil};
use super::queries;
use crate::amqp::attempts;
use crate::amqp::queue::{self, Consumer};
use crate::state::AppState;

/// Runs for the life of the process, reconnecting after broker failures.
pub async fn run(state: AppState) {
    let consumer = Consumer {
        name: "payment",
        queue: succeeded_queue(&state.config.common.amqp_prefix),
        declare: true,
        prefetch: state.config.payments.payment_consumer_prefetch,
    };
    let broker = state.broker.clone();
    queue::run(&broker, state, consumer, |state, delivery| async move {
        handle(&state, delivery).await
    })
    .await
}

/// Reads an event into a payment.
pub fn parse(data: &[u8]) -> Result<Payment, String> {
    let event: PaymentSucceeded = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    let order_id = event
        .order_id
        .parse::<i64>()
        .map_err(|_| "order_id is not a number".to_owned())?;
    Ok(Payment {
        order_id,
        out_trade_no: event.out_trade_no,
        trade_no: event.trade_no,
        amount: event.amount,
        buyer_account: event.buyer_account,
    })
}

async fn handle(state: &AppState, delivery: Delivery) {
    let payment = match parse(&delivery.data) {
        Ok(p) => p,
        Err(error) => {
            tracing::error!(
                error,
                payload = %String::from_utf8_lossy(&delivery.data),
                "unreadable payment event dropped"
            );
            ack(&delivery).await;
            return;
        }
    };
    match fulfil(state, &payment).await {
        Ok(outcome) => {
            tracing::info!(order_id = payment.order_id, outcome = ?outcome, "payment event handled");
            ack(&delivery).await;
        }
        Err(e) => failed(state, &delivery, &payment, &format!("{e:#}")).await,
    }
}

/// A failed attempt: published again for a later one, or parked after the last.
async fn failed(state: &AppState, delivery: &Delivery, payment: &Payment, error: &str) {
    let order_id = payment.order_id;
    let attempt = attempts(&delivery.properties).saturating_add(1);
    metrics::counter!("fulfilment_failures_total", "path" => "event").increment(1);
    if attempt >= state.config.orders.payment_max_attempts {
        match queries::park(
            &state.db,
            state.ids.next(),
            payment,
            &delivery.data,
            error,
            attempt,
        )
        .await
        {
            Ok(()) => {
                tracing::error!(
                    order_id,
                    attempt,
                    error,
                    "payment event failed; parked for the fulfilment retry job"
                );
                metrics::counter!("payment_events_parked_total").increment(1);
                ack(delivery).await;
            }
            Err(pe) => {
                // Not parked, so not acked: the broker keeps it.
                tracing::error!(order_id, error = %pe, "could not park a failed payment event; requeued");
                requeue(delivery).await;
            }
        }
        return;
    }
    tracing::warn!(order_id, attempt, error, "payment event failed; retried");
    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
    let queue = succeeded_queue(&state.config.common.amqp_prefix);
    match state
        .broker
        .publish_raw("", &queue, &delivery.data, attempt)
        .await
    {
        // The copy carries the count; the original can go.
        Ok(()) => ack(delivery).await,
        Err(pe) => {
            tracing::warn!(order_id, error = %pe, "could not publish a failed payment event again; requeued");
            requeue(delivery).await;
        }
    }
}

/// Back to the queue as it is, after a pause so a broken dependency is not
/// hammered.
async fn requeue(delivery: &Delivery) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    queue::requeue(delivery).await;
}

async fn ack(delivery: &Delivery) {
    // The broker redelivers it; fulfilment is idempotent.
    queue::ack(delivery, "payment event").await;
}
