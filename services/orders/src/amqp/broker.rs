//! The broker: one connection per process, opened lazily and reopened after a
//! failure, the order-timeout topology declared on it, and publishing. The
//! payment consumer reads its queue over the same connection.
//!
//! Two ways to delay a message, chosen at connect time:
//! - `delayed`: an `x-delayed-message` exchange (the plugin, as in
//!   docker-compose) holds each message for its `x-delay` header;
//! - `ttl`: one wait queue per fixed delay (normal and seckill windows) with
//!   `x-message-ttl` and a dead-letter exchange that routes expired messages to
//!   the timeout queue (Debian's RabbitMQ has no plugin). Per-message TTLs in one
//!   queue would block behind the head, hence a queue per delay.
//!
//! Declaring an unknown exchange type closes the whole connection, so the probe
//! runs on a throwaway connection. Every queue is durable and non-exclusive, so
//! `amqp_queue_type = "quorum"` declares them all as quorum queues, which keep
//! the wait queues' message TTL and dead-lettering (RabbitMQ 3.10+) and the
//! retries' republishing as they are. The connection goes to any node of
//! `amqp_urls`; after a failure the next use connects to one that answers.
//!
//! Longer than 300 lines: one connection's life, the topology of both delay
//! modes and publishing belong together (a reconnect declares it all again).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ExchangeKind, PublisherConfirm};
use secrecy::SecretString;
use tokio::sync::Mutex;

use paychat_common::config::QueueType;

use crate::config::{Config, OrderDelayMode};

pub const TIMEOUT_KEY: &str = "order.timeout";
pub const ATTEMPTS_HEADER: &str = "x-attempts";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayMode {
    Delayed,
    Ttl,
}

/// Exchange and queue names, all under the deployment's `amqp_prefix`.
#[derive(Debug, Clone)]
pub struct Names {
    pub delay_exchange: String,
    pub direct_exchange: String,
    pub timeout_queue: String,
    pub dead_queue: String,
    prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Self {
        Self {
            delay_exchange: format!("{prefix}.order.delay"),
            direct_exchange: format!("{prefix}.order.direct"),
            timeout_queue: format!("{prefix}.order.timeout"),
            dead_queue: format!("{prefix}.order.timeout.dead"),
            prefix: prefix.to_owned(),
        }
    }

    pub fn wait_queue(&self, window_secs: u64) -> String {
        format!("{}.order.wait.{window_secs}s", self.prefix)
    }
}

struct Live {
    conn: Connection,
    channel: Channel,
    mode: DelayMode,
}

struct Inner {
    urls: Vec<SecretString>,
    names: Names,
    connect_timeout: Duration,
    mode_setting: OrderDelayMode,
    queue_type: QueueType,
    /// The fixed delays that get a wait queue in TTL mode.
    windows: Vec<u64>,
    live: Mutex<Option<Live>>,
}

#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

fn s(text: &str) -> ShortString {
    text.into()
}

impl Broker {
    pub fn new(config: &Config) -> Self {
        let o = &config.orders;
        let mut windows = vec![o.payment_window_secs, o.seckill_payment_window_secs];
        windows.sort_unstable();
        windows.dedup();
        Self {
            inner: Arc::new(Inner {
                urls: paychat_common::amqp::urls(&config.common),
                names: Names::new(&config.common.amqp_prefix),
                connect_timeout: Duration::from_millis(o.amqp_connect_timeout_ms),
                mode_setting: o.order_delay_mode,
                queue_type: config.common.amqp_queue_type,
                windows,
                live: Mutex::new(None),
            }),
        }
    }

    pub fn names(&self) -> &Names {
        &self.inner.names
    }

    async fn connect(&self) -> anyhow::Result<Connection> {
        paychat_common::amqp::connect_any(&self.inner.urls, self.inner.connect_timeout).await
    }

    /// A fresh channel on the shared connection (the consumer's own).
    pub async fn channel(&self) -> anyhow::Result<(Channel, DelayMode)> {
        let mut live = self.inner.live.lock().await;
        let live = self.ensure(&mut live).await?;
        Ok((live.conn.create_channel().await?, live.mode))
    }

    /// Whether the broker answers (for `/readyz`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut live = self.inner.live.lock().await;
        self.ensure(&mut live).await.map(|_| ())
    }

    /// Forgets the connection after a failure; the next use reconnects.
    pub async fn reset(&self) {
        let old = self.inner.live.lock().await.take();
        if let Some(old) = old {
            let _ = old.conn.close(200, s("reconnecting")).await;
        }
    }

    async fn ensure<'a>(&self, slot: &'a mut Option<Live>) -> anyhow::Result<&'a Live> {
        let healthy = slot
            .as_ref()
            .is_some_and(|l| l.conn.status().connected() && l.channel.status().connected());
        if !healthy {
            *slot = None;
            let mode = self.detect_mode().await?;
            let conn = self.connect().await?;
            let channel = conn.create_channel().await?;
            self.declare(&channel, mode).await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            tracing::info!(
                mode = ?mode,
                queue = self.inner.names.timeout_queue,
                "connected to RabbitMQ; order timeouts use {}",
                match mode {
                    DelayMode::Delayed => "the x-delayed-message exchange",
                    DelayMode::Ttl => "TTL wait queues with dead-lettering",
                }
            );
            *slot = Some(Live {
                conn,
                channel,
                mode,
            });
        }
        slot.as_ref().context("no broker connection")
    }

    async fn detect_mode(&self) -> anyhow::Result<DelayMode> {
        match self.inner.mode_setting {
            OrderDelayMode::Delayed => return Ok(DelayMode::Delayed),
            OrderDelayMode::Ttl => return Ok(DelayMode::Ttl),
            OrderDelayMode::Auto => {}
        }
        let probe = self.connect().await?;
        let channel = probe.create_channel().await?;
        let declared = channel
            .exchange_declare(
                s(&self.inner.names.delay_exchange),
                ExchangeKind::Custom("x-delayed-message".into()),
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                table(&[("x-delayed-type", AMQPValue::LongString("direct".into()))]),
            )
            .await;
        let _ = probe.close(200, s("probe done")).await;
        Ok(if declared.is_ok() {
            DelayMode::Delayed
        } else {
            tracing::info!(
                "the x-delayed-message exchange type is not available (no plugin); using TTL wait queues"
            );
            DelayMode::Ttl
        })
    }

    /// Arguments of a durable queue: the same on every declaration of it.
    pub fn queue_args(&self, extra: &[(&str, AMQPValue)]) -> FieldTable {
        paychat_common::amqp::queue_args(self.inner.queue_type, extra)
    }

    async fn declare(&self, ch: &Channel, mode: DelayMode) -> anyhow::Result<()> {
        let n = &self.inner.names;
        let durable = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        ch.exchange_declare(
            s(&n.direct_exchange),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
        ch.queue_declare(s(&n.timeout_queue), durable, self.queue_args(&[]))
            .await?;
        ch.queue_bind(
            s(&n.timeout_queue),
            s(&n.direct_exchange),
            s(TIMEOUT_KEY),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
        ch.queue_declare(s(&n.dead_queue), durable, self.queue_args(&[]))
            .await?;
        match mode {
            DelayMode::Delayed => {
                ch.exchange_declare(
                    s(&n.delay_exchange),
                    ExchangeKind::Custom("x-delayed-message".into()),
                    ExchangeDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    table(&[("x-delayed-type", AMQPValue::LongString("direct".into()))]),
                )
                .await?;
                ch.queue_bind(
                    s(&n.timeout_queue),
                    s(&n.delay_exchange),
                    s(TIMEOUT_KEY),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            }
            DelayMode::Ttl => {
                for window in &self.inner.windows {
                    let ttl_ms = i64::try_from(window.saturating_mul(1000)).unwrap_or(i64::MAX);
                    ch.queue_declare(
                        s(&n.wait_queue(*window)),
                        durable,
                        self.queue_args(&[
                            ("x-message-ttl", AMQPValue::LongLongInt(ttl_ms)),
                            (
                                "x-dead-letter-exchange",
                                AMQPValue::LongString(n.direct_exchange.as_str().into()),
                            ),
                            (
                                "x-dead-letter-routing-key",
                                AMQPValue::LongString(TIMEOUT_KEY.into()),
                            ),
                        ]),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Starts publishing a timeout message (`payload`) due at `expire_at`, for
    /// an order given `window_secs` to pay; await the returned confirm.
    pub async fn publish_timeout(
        &self,
        payload: &[u8],
        window_secs: u64,
        expire_at: DateTime<Utc>,
    ) -> anyhow::Result<PublisherConfirm> {
        let remaining_ms = (expire_at - Utc::now()).num_milliseconds();
        let mut live = self.inner.live.lock().await;
        let live = self.ensure(&mut live).await?;
        let n = &self.inner.names;
        let props = persistent();
        let (exchange, key, props) = if remaining_ms <= 0 {
            // Already due (the broker was away for a while): no waiting.
            (n.direct_exchange.clone(), TIMEOUT_KEY.to_owned(), props)
        } else {
            match live.mode {
                DelayMode::Delayed => (
                    n.delay_exchange.clone(),
                    TIMEOUT_KEY.to_owned(),
                    props.with_headers(table(&[("x-delay", AMQPValue::LongLongInt(remaining_ms))])),
                ),
                DelayMode::Ttl => {
                    // The wait queue of the order's own window; a window that is no
                    // longer configured falls back to the shortest one (the
                    // consumer leaves an early order alone and the sweeper closes it).
                    let window = if self.inner.windows.contains(&window_secs) {
                        window_secs
                    } else {
                        self.inner.windows.first().copied().unwrap_or(window_secs)
                    };
                    (String::new(), n.wait_queue(window), props)
                }
            }
        };
        Ok(live
            .channel
            .basic_publish(
                s(&exchange),
                s(&key),
                BasicPublishOptions::default(),
                payload,
                props,
            )
            .await?)
    }

    /// Publishes raw bytes (a retried or dead message) and waits for the confirm.
    pub async fn publish_raw(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        attempts: u32,
    ) -> anyhow::Result<()> {
        let confirm = {
            let mut live = self.inner.live.lock().await;
            let live = self.ensure(&mut live).await?;
            live.channel
                .basic_publish(
                    s(exchange),
                    s(routing_key),
                    BasicPublishOptions::default(),
                    payload,
                    persistent().with_headers(table(&[(
                        ATTEMPTS_HEADER,
                        AMQPValue::LongLongInt(i64::from(attempts)),
                    )])),
                )
                .await?
        };
        let confirmation = confirm.await?;
        anyhow::ensure!(confirmation.is_ack(), "the broker refused the message");
        Ok(())
    }
}

fn persistent() -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type(s("application/json"))
}

fn table(entries: &[(&str, AMQPValue)]) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in entries {
        t.insert(s(k), v.clone());
    }
    t
}

/// Reads the attempt count a message carries (0 when absent).
pub fn attempts(props: &BasicProperties) -> u32 {
    let value = props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPTS_HEADER).cloned());
    let n: i64 = match value {
        Some(AMQPValue::LongLongInt(n)) => n,
        Some(AMQPValue::LongInt(n)) => i64::from(n),
        Some(AMQPValue::ShortInt(n)) => i64::from(n),
        Some(AMQPValue::LongUInt(n)) => i64::from(n),
        _ => 0,
    };
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
