//! RabbitMQ connection set-up: lapin 4 on tokio, with a connect timeout.

use std::time::Duration;

use anyhow::Context;
use lapin::{Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};

pub async fn connect(url: &SecretString, timeout: Duration) -> anyhow::Result<Connection> {
    tokio::time::timeout(
        timeout,
        Connection::connect(url.expose_secret(), ConnectionProperties::default()),
    )
    .await
    .context("connecting to RabbitMQ timed out")?
    .context("connecting to RabbitMQ")
}
