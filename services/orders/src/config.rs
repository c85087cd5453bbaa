//! orders configuration: the shared keys plus this service's own.

use paychat_common::config::{CommonConfig, ConfigError, Problems, load};
use paychat_common::config_enum;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub orders: OrdersConfig,
    pub payments: crate::payments::config::PaymentsConfig,
}

config_enum! {
    /// How timeout messages are delayed (`order_delay_mode`).
    pub enum OrderDelayMode {
        /// Probe for the x-delayed-message exchange type at connect.
        Auto = "auto",
        /// The delayed-message plugin's exchange.
        Delayed = "delayed",
        /// Wait queues with a message TTL and dead-lettering.
        Ttl = "ttl",
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrdersConfig {
    /// Address the service listens on, e.g. `127.0.0.1:8082` (port 0 in tests).
    pub orders_bind: String,
    /// How long a normal order waits for payment before it is closed.
    pub payment_window_secs: u64,
    /// The same for orders holding a seckill (flash sale) product.
    pub seckill_payment_window_secs: u64,
    /// How often the sweeper looks for overdue unpaid orders.
    pub sweeper_interval_secs: u64,
    /// How long past its window an order must be before the sweeper closes it,
    /// so the timeout message normally gets there first.
    pub sweeper_grace_secs: u64,
    /// How often the outbox relay looks for unsent messages (it is also woken
    /// right after each order commits).
    pub outbox_interval_ms: u64,
    /// Timeout messages handled at once by one consumer.
    pub consumer_prefetch: u16,
    /// How long the per-user order lock lives at most.
    pub order_lock_ms: u64,
    /// `auto` (probe for the x-delayed-message exchange type), `delayed` or `ttl`.
    pub order_delay_mode: OrderDelayMode,
    pub amqp_connect_timeout_ms: u64,
    /// Attempts at a timeout message before it goes to the dead-letter queue.
    pub timeout_max_attempts: u32,
    /// Attempts at fulfilling a payment event before it is parked in
    /// `chat_payment_failure` (and acked) for the fulfilment retry job.
    pub payment_max_attempts: u32,
    /// How often the fulfilment retry job tries parked payment events again.
    pub fulfilment_retry_interval_secs: u64,
    /// How often Redis stock is reconciled with the database (repairs counts
    /// a failed give-back or a lost order write left wrong).
    pub stock_reconcile_interval_secs: u64,
    /// Failed redemption attempts allowed per window, per user: what holds a
    /// guesser back.
    pub redeem_fail_limit_user: u32,
    /// The same per IP, for everyone behind it: a backstop sized for many
    /// users sharing one address (NAT), at least the per-user limit.
    pub redeem_fail_limit_ip: u32,
    pub redeem_fail_window_secs: u64,
    /// The shop's offset from UTC in minutes (480: Asia/Shanghai): where the
    /// sales dashboard's calendar days begin.
    pub shop_utc_offset_minutes: i32,
}

impl Config {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let common = CommonConfig::load(overrides)?;
        let orders: OrdersConfig = load(overrides)?;
        let mut p = Problems::default();
        p.check(
            orders.orders_bind.parse::<std::net::SocketAddr>().is_ok(),
            "orders_bind",
            "must be an address such as 127.0.0.1:8082",
        );
        // A QR code never lives past two hours at Alipay.
        p.check(
            (1..=7200).contains(&orders.payment_window_secs),
            "payment_window_secs",
            "must be 1..=7200",
        );
        p.check(
            (1..=7200).contains(&orders.seckill_payment_window_secs),
            "seckill_payment_window_secs",
            "must be 1..=7200",
        );
        p.check(
            orders.sweeper_interval_secs >= 1,
            "sweeper_interval_secs",
            "must be at least 1",
        );
        p.check(
            orders.outbox_interval_ms >= 10,
            "outbox_interval_ms",
            "must be at least 10",
        );
        p.check(
            orders.consumer_prefetch >= 1,
            "consumer_prefetch",
            "must be at least 1",
        );
        p.check(
            (100..=60_000).contains(&orders.order_lock_ms),
            "order_lock_ms",
            "must be 100..=60000",
        );
        p.check(
            orders.timeout_max_attempts >= 1,
            "timeout_max_attempts",
            "must be at least 1",
        );
        p.check(
            orders.payment_max_attempts >= 1,
            "payment_max_attempts",
            "must be at least 1",
        );
        p.check(
            orders.fulfilment_retry_interval_secs >= 1,
            "fulfilment_retry_interval_secs",
            "must be at least 1",
        );
        p.check(
            orders.stock_reconcile_interval_secs >= 1,
            "stock_reconcile_interval_secs",
            "must be at least 1",
        );
        p.check(
            orders.redeem_fail_limit_user >= 1,
            "redeem_fail_limit_user",
            "must be at least 1",
        );
        p.check(
            orders.redeem_fail_limit_ip >= orders.redeem_fail_limit_user,
            "redeem_fail_limit_ip",
            "must be at least redeem_fail_limit_user (it is shared by everyone behind one address)",
        );
        p.check(
            orders.redeem_fail_window_secs >= 1,
            "redeem_fail_window_secs",
            "must be at least 1",
        );
        p.check(
            (-840..=840).contains(&orders.shop_utc_offset_minutes),
            "shop_utc_offset_minutes",
            "must be -840..=840 (UTC-14:00 to UTC+14:00)",
        );
        p.into_result()?;
        let payments = crate::payments::config::PaymentsConfig::load(overrides)?;
        Ok(Self {
            common,
            orders,
            payments,
        })
    }
}
