//! What every queue consumer here shares: the reconnect loop, bounded
//! prefetch, one task per delivery, manual acks and requeueing nacks. What
//! a delivery means, and what becomes of one that fails, stays with each
//! consumer.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;

use super::Broker;

/// One queue and how to read it.
pub struct Consumer {
    /// Names the consumer in logs and errors ("payment", "timeout").
    pub name: &'static str,
    pub queue: String,
    /// Declare the queue (durable) first, for queues another service fills.
    pub declare: bool,
    /// At most this many deliveries are unacked, and so handled, at once.
    pub prefetch: u16,
}

/// Runs for the life of the process, reconnecting after broker failures;
/// `handle` gets every delivery, with a clone of `state`, and must ack or nack it.
pub async fn run<S, H, F>(broker: &Broker, state: S, consumer: Consumer, handle: H)
where
    S: Clone,
    H: Fn(S, Delivery) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    loop {
        if let Err(e) = consume(broker, &state, &consumer, &handle).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "{} consumer stopped; reconnecting",
                consumer.name
            );
            broker.reset().await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn consume<S, H, F>(
    broker: &Broker,
    state: &S,
    consumer: &Consumer,
    handle: &H,
) -> anyhow::Result<()>
where
    S: Clone,
    H: Fn(S, Delivery) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let (channel, _) = broker.channel().await?;
    if consumer.declare {
        channel
            .queue_declare(
                consumer.queue.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                broker.queue_args(&[]),
            )
            .await?;
    }
    channel
        .basic_qos(consumer.prefetch, BasicQosOptions::default())
        .await?;
    let mut deliveries = channel
        .basic_consume(
            consumer.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        // Prefetch bounds how many of these run at once.
        tokio::spawn(handle(state.clone(), delivery));
    }
    anyhow::bail!("the {} consumer stream ended", consumer.name)
}

/// Acks a delivery; `what` names it in the warning if that fails.
pub async fn ack(delivery: &Delivery, what: &str) {
    if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
        // The broker redelivers it; handling is idempotent.
        tracing::warn!(error = %e, "could not ack a {what}");
    }
}

/// Back to the queue as it is.
pub async fn requeue(delivery: &Delivery) {
    let _ = delivery
        .nack(BasicNackOptions {
            requeue: true,
            ..Default::default()
        })
        .await;
}
