//! Redis connection set-up and key naming. Every key carries the deployment's
//! prefix so that several deployments, or parallel tests, can share one Redis.
//!
//! A deployment runs against one Redis node (`redis_url`) or a Redis Cluster
//! (`redis_cluster_nodes`, a list of seed nodes). Either way services hold a
//! [`Redis`], which every `query_async` and script call takes as it is. On a
//! cluster a script, a `MULTI` transaction or a pipeline must keep all its keys
//! in one slot: their names share a hash tag (`stock:{stock}:7`,
//! `chat_slots:{42}`). Single commands over many keys (`MGET`, `DEL`) are split
//! by slot by the cluster client.

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use secrecy::{ExposeSecret, SecretString};

use crate::config::CommonConfig;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

/// The Redis handle every service holds. Code outside this module names this
/// type, never the driver's, so the connection kind is chosen in one place.
/// Cloning is cheap: clones share the connection(s).
#[derive(Clone)]
pub enum Redis {
    /// One node, through a self-reconnecting multiplexed connection.
    Single(ConnectionManager),
    /// A Redis Cluster: commands go to the master of their key's slot, and the
    /// slot map is refreshed when a node answers MOVED (a failover).
    Cluster(ClusterConnection),
}

impl ConnectionLike for Redis {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl Redis {
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// The deployment's Redis: a cluster when `redis_cluster_nodes` lists seed
/// nodes, else the single node at `redis_url`. Neither connects yet.
pub fn open(config: &CommonConfig) -> anyhow::Result<Redis> {
    let nodes = config.redis_cluster_node_list();
    if nodes.is_empty() {
        connect(&config.redis_url)
    } else {
        connect_cluster(&nodes)
    }
}

/// A lazily connecting, self-reconnecting handle: a service starts (and answers
/// `/readyz` with 503) while Redis is down, and recovers when it is back.
pub fn connect(url: &SecretString) -> anyhow::Result<Redis> {
    let client = redis::Client::open(url.expose_secret()).context("parsing redis_url")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    Ok(Redis::Single(ConnectionManager::new_lazy_with_config(
        client, config,
    )?))
}

/// A cluster handle from seed node URLs. Like [`connect`] it connects in the
/// background, so a service starts while the cluster is unreachable. Retries
/// span a failover: a master's replica takes over within the cluster's node
/// timeout, and meanwhile its slots answer CLUSTERDOWN or fail to connect.
pub fn connect_cluster(nodes: &[SecretString]) -> anyhow::Result<Redis> {
    let urls: Vec<&str> = nodes.iter().map(ExposeSecret::expose_secret).collect();
    let client = ClusterClientBuilder::new(urls)
        // Waits of 50 ms doubling up to 1 s: about 8 s in all, past the 3-4 s
        // a failover takes with a 2 s cluster-node-timeout.
        .retries(12)
        .min_retry_wait(50)
        .max_retry_wait(1000)
        .build()
        .context("parsing redis_cluster_nodes")?;
    let config = ClusterConfig::new()
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT);
    Ok(Redis::Cluster(
        client.get_pending_async_connection_with_config(config),
    ))
}

/// Builds prefixed key names.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// `rkey!(keys, "session:{}", hash)` → `<prefix>session:<hash>`.
#[macro_export]
macro_rules! rkey {
    ($keys:expr, $($arg:tt)*) => { $keys.key(&format!($($arg)*)) };
}

pub async fn ping(conn: &mut Redis) -> anyhow::Result<()> {
    let _: String = redis::cmd("PING").query_async(conn).await?;
    Ok(())
}
