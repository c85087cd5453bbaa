//! The gateway's integration tests: the real service on a free port against a
//! fresh database, Redis under a fresh prefix, the test vhost of RabbitMQ and
//! the sandbox Alipay as a process (`cargo build -p paychat-sandbox-alipay`).

#![allow(clippy::unwrap_used)]

mod alipay_client;
mod helpers;
mod notify;
mod sealed;
