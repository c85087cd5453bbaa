//! RabbitMQ connection set-up: lapin 4 on tokio, with a connect timeout, and
//! the queue arguments every durable queue is declared with.
//!
//! A deployment names one broker (`amqp_url`) or the nodes of a cluster
//! (`amqp_urls`); a connection goes to the first node that answers, starting
//! at a random one so copies spread over the nodes. When a node goes away its
//! connections fail, and the next connect lands on another node. Quorum queues
//! (`amqp_queue_type = "quorum"`) keep their messages on a majority of nodes,
//! so a stopped node loses none.

use std::time::Duration;

use anyhow::Context;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{CommonConfig, QueueType};

pub async fn connect(url: &SecretString, timeout: Duration) -> anyhow::Result<Connection> {
    tokio::time::timeout(
        timeout,
        Connection::connect(url.expose_secret(), ConnectionProperties::default()),
    )
    .await
    .context("connecting to RabbitMQ timed out")?
    .context("connecting to RabbitMQ")
}

/// Connects to the first of `urls` that answers, trying each once, from a
/// random start.
pub async fn connect_any(urls: &[SecretString], timeout: Duration) -> anyhow::Result<Connection> {
    anyhow::ensure!(!urls.is_empty(), "no RabbitMQ URL configured");
    let start = rand::random_range(0..urls.len());
    let mut last = None;
    for i in 0..urls.len() {
        match connect(&urls[(start + i) % urls.len()], timeout).await {
            Ok(conn) => return Ok(conn),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no RabbitMQ node answered")))
}

/// The broker nodes of a deployment: `amqp_urls` when set, else `amqp_url`.
pub fn urls(config: &CommonConfig) -> Vec<SecretString> {
    let listed = config.amqp_url_list();
    if listed.is_empty() {
        vec![config.amqp_url.clone()]
    } else {
        listed
    }
}

/// Arguments of a durable queue of this deployment, plus `extra` (TTL,
/// dead-lettering). Every declaration of one queue must pass the same ones,
/// or the broker refuses it (PRECONDITION_FAILED).
pub fn queue_args(queue_type: QueueType, extra: &[(&str, AMQPValue)]) -> FieldTable {
    let mut args = FieldTable::default();
    for (k, v) in extra {
        args.insert((*k).into(), v.clone());
    }
    if queue_type == QueueType::Quorum {
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
    }
    args
}
