//! orders integration tests: the real service over HTTP against the local
//! stack (MariaDB, Redis, RabbitMQ); each test has its own database, Redis
//! prefix and AMQP prefix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_orders;
mod codes;
mod console;
mod health;
mod helpers;
mod money_metrics;
mod orders;
mod pay_support;
mod payment;
mod payment_failures;
mod payment_mail;
mod products;
mod redis_cluster;
mod sold_out;
mod stats;
mod stock_repair;
mod timeouts;
