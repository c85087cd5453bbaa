//! Hands "payment succeeded" events to orders through RabbitMQ: one connection
//! per process, opened lazily and reopened after a failure, a confirm-mode
//! channel, a durable queue and persistent messages. `publish` returns only
//! once the broker has confirmed the message, so the notify handler can answer
//! Alipay `success` knowing the event is durably accepted. The connection goes
//! to any node of the deployment's RabbitMQ (`amqp_urls`); a publish that fails
//! drops it, and the next one connects to a node that answers. With
//! `amqp_queue_type = "quorum"` the queue is a quorum queue, confirmed only once
//! a majority of nodes hold the event.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::{BasicProperties, Channel, Connection};
use paychat_common::config::QueueType;
use paychat_common::payment::{PaymentSucceeded, succeeded_queue};
use secrecy::SecretString;
use tokio::sync::Mutex;

/// Tries at a payment event, 400 ms apart: about 4 s, longer than a quorum
/// queue's leader election, well within Alipay's wait for our answer.
const PUBLISH_ATTEMPTS: u32 = 10;
const PUBLISH_RETRY_PAUSE: Duration = Duration::from_millis(400);

struct Live {
    conn: Connection,
    channel: Channel,
}

struct Inner {
    urls: Vec<SecretString>,
    queue: String,
    queue_type: QueueType,
    connect_timeout: Duration,
    live: Mutex<Option<Live>>,
}

#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

impl Events {
    pub fn new(
        urls: Vec<SecretString>,
        amqp_prefix: &str,
        queue_type: QueueType,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                urls,
                queue: succeeded_queue(amqp_prefix),
                queue_type,
                connect_timeout,
                live: Mutex::new(None),
            }),
        }
    }

    pub fn queue(&self) -> &str {
        &self.inner.queue
    }

    async fn ensure<'a>(&self, slot: &'a mut Option<Live>) -> anyhow::Result<&'a Live> {
        let healthy = slot
            .as_ref()
            .is_some_and(|l| l.conn.status().connected() && l.channel.status().connected());
        if !healthy {
            *slot = None;
            let conn =
                paychat_common::amqp::connect_any(&self.inner.urls, self.inner.connect_timeout)
                    .await?;
            let channel = conn.create_channel().await?;
            channel
                .queue_declare(
                    self.inner.queue.as_str().into(),
                    QueueDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    paychat_common::amqp::queue_args(self.inner.queue_type, &[]),
                )
                .await
                .context("declaring the payment queue")?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            *slot = Some(Live { conn, channel });
        }
        slot.as_ref().context("no broker connection")
    }

    /// Publishes and waits for the broker's confirm. A refusal (nack) or a
    /// lost connection is tried again for a few seconds: a quorum queue
    /// refuses messages while it elects a new leader (a node went away), and
    /// a second event for one payment is harmless (fulfilment is idempotent).
    pub async fn publish(&self, event: &PaymentSucceeded) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(event)?;
        let mut attempt = 1;
        loop {
            match self.publish_once(&payload).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < PUBLISH_ATTEMPTS => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        attempt,
                        "payment event not confirmed; trying again"
                    );
                    attempt += 1;
                    tokio::time::sleep(PUBLISH_RETRY_PAUSE).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn publish_once(&self, payload: &[u8]) -> anyhow::Result<()> {
        let confirm = {
            let mut live = self.inner.live.lock().await;
            let channel = self.ensure(&mut live).await?.channel.clone();
            let published = channel
                .basic_publish(
                    "".into(),
                    self.inner.queue.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    payload,
                    BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("application/json".into()),
                )
                .await;
            match published {
                Ok(c) => c,
                Err(e) => {
                    *live = None;
                    return Err(e).context("publishing the payment event");
                }
            }
        };
        let confirmation = confirm.await.context("waiting for the broker's confirm")?;
        if !confirmation.is_ack() {
            anyhow::bail!("the broker refused the payment event");
        }
        if confirmation.take_message().is_some() {
            anyhow::bail!("the payment event could not be routed to its queue");
        }
        Ok(())
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut live = self.inner.live.lock().await;
        self.ensure(&mut live).await.map(|_| ())
    }
}
