//! Consumes due timeout messages: manual acks, prefetch bounded. A message
//! that fails is retried with an attempt count in its headers; after
//! `timeout_max_attempts` it goes to the dead-letter queue and a row in
//! `chat_order_delay_failure_record`. A message we cannot even read is recorded
//! and acked at once, so poison never loops.

use std::time::Duration;

use chrono::Utc;
use lapin::message::Delivery;

use super::queries;
use crate::amqp::attempts;
use crate::amqp::broker::TIMEOUT_KEY;
use crate::amqp::queue::{self, Consumer};
use crate::orders::queries as order_queries;
use crate::orders::timeout_message::TimeoutMessage;
use crate::payments::settle::settle_with_payment;
use crate::state::AppState;

/// Runs for the life of the process, reconnecting after broker failures.
pub async fn run(state: AppState) {
    let consumer = Consumer {
        name: "timeout",
        queue: state.broker.names().timeout_queue.clone(),
        declare: false,
        prefetch: state.config.orders.consumer_prefetch,
    };
    let broker = state.broker.clone();
    queue::run(&broker, state, consumer, |state, delivery| async move {
        handle(&state, delivery).await
    })
    .await
}

async fn handle(state: &AppState, delivery: Delivery) {
    let previous = attempts(&delivery.properties);
    let message = match TimeoutMessage::parse(&delivery.data) {
        Ok(m) => m,
        Err(error) => {
            tracing::error!(error, "poison timeout message recorded and dropped");
            record_failure(state, &delivery.data, &error, previous).await;
            ack(&delivery).await;
            return;
        }
    };
    let order_id = message.order_id;
    match on_timeout(state, &message).await {
        Ok(()) => ack(&delivery).await,
        Err(e) => {
            let attempt = previous + 1;
            let error = format!("{e:#}");
            tracing::warn!(order_id, attempt, error, "timeout message failed");
            if attempt >= state.config.orders.timeout_max_attempts {
                let names = state.broker.names();
                if let Err(pe) = state
                    .broker
                    .publish_raw("", &names.dead_queue, &delivery.data, attempt)
                    .await
                {
                    tracing::error!(order_id, error = %pe, "could not dead-letter a timeout message");
                }
                record_failure(state, &delivery.data, &error, attempt).await;
                metrics::counter!("order_timeouts_dead_lettered_total").increment(1);
                ack(&delivery).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            let direct = state.broker.names().direct_exchange.clone();
            match state
                .broker
                .publish_raw(&direct, TIMEOUT_KEY, &delivery.data, attempt)
                .await
            {
                Ok(()) => ack(&delivery).await,
                Err(pe) => {
                    tracing::warn!(order_id, error = %pe, "could not requeue a timeout message; the broker redelivers it");
                    queue::requeue(&delivery).await;
                }
            }
        }
    }
}

/// A due timeout message: an order still unpaid past its window is settled
/// with the payment side, then closed.
pub async fn on_timeout(state: &AppState, message: &TimeoutMessage) -> anyhow::Result<()> {
    let order_id = message.order_id;
    let Some(order) = order_queries::find(&state.db, order_id).await? else {
        tracing::warn!(order_id, "timeout for an unknown order ignored");
        return Ok(());
    };
    if !order.status().is_unpaid() {
        return Ok(());
    }
    // A message early by more than clock skew (the window was changed): leave
    // the order to the sweeper rather than cut its window short.
    if order.expire_time.and_utc() > Utc::now() + chrono::Duration::seconds(2) {
        tracing::info!(
            order_id,
            "timeout message arrived before the window ended; left to the sweeper"
        );
        return Ok(());
    }
    settle_with_payment(state, order_id, "payment window expired").await?;
    Ok(())
}

async fn ack(delivery: &Delivery) {
    queue::ack(delivery, "timeout message").await;
}

async fn record_failure(state: &AppState, payload: &[u8], error: &str, retries: u32) {
    if let Err(e) =
        queries::record_failure(&state.db, state.ids.next(), error, payload, retries).await
    {
        tracing::error!(error = %e, "could not record a failed timeout message");
    }
}
