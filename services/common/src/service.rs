//! Starting a service, the part every PayChat service shares: the connections
//! ([`Infra`]), the final router around the service's own routes
//! ([`router`]), the bound listener ([`Server::bind`]) and serving HTTP beside
//! the service's background workers until one of them stops ([`Server::run`]).
//! What differs between services (their state, their routes, their extra
//! readiness checks, their workers) stays in each service's `app.rs`.

use std::sync::Arc;
use std::time::Duration;

use crate::redis::Redis;
use anyhow::Context;
use axum::Router;
use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::MySqlPool;
use tokio::net::TcpListener;

use crate::auth::Sessions;
use crate::config::CommonConfig;
use crate::health::{self, Readiness};
use crate::http::{self, HttpOptions};
use crate::ids::IdGenerator;
use crate::ratelimit::RateLimiter;
use crate::redis::Keys;

/// The connections and shared handles every service starts with.
pub struct Infra {
    pub db: MySqlPool,
    pub redis: Redis,
    pub keys: Keys,
    pub ids: Arc<IdGenerator>,
    pub sessions: Sessions,
    pub limiter: RateLimiter,
}

impl Infra {
    /// Opens the (lazy) pool, applies the migrations when `run_migrations` is
    /// set, opens Redis and leases an id worker number.
    pub async fn connect(config: &CommonConfig) -> anyhow::Result<Self> {
        let db = crate::db::pool(config)?;
        if config.run_migrations {
            crate::db::migrate(&db).await?;
        }
        let redis = crate::redis::open(config)?;
        let keys = Keys::new(config.redis_prefix.clone());
        let ids = IdGenerator::lease(redis.clone(), &keys).await?;
        Ok(Self {
            sessions: Sessions::new(
                redis.clone(),
                keys.clone(),
                Duration::from_secs(config.session_ttl_secs),
            ),
            limiter: RateLimiter::new(redis.clone(), keys.clone()),
            ids: Arc::new(ids),
            db,
            redis,
            keys,
        })
    }

    /// The `/readyz` checks every service has (database, Redis); a service
    /// adds its own (e.g. the broker) to what this returns.
    pub fn readiness(&self) -> Readiness {
        Readiness::new()
            .database(self.db.clone())
            .redis(self.redis.clone())
    }
}

/// The HTTP options of the shared layers, from the common configuration.
pub fn http_options(config: &CommonConfig) -> anyhow::Result<HttpOptions> {
    Ok(HttpOptions {
        trusted_proxies: Arc::new(config.trusted_proxy_list().context("trusted_proxies")?),
        request_timeout: Duration::from_millis(config.request_timeout_ms),
        large_bodies: Arc::new(Vec::new()),
    })
}

/// The service's routes (the output of `OpenApiRouter::split_for_parts`) with
/// its state, plus `/healthz`, `/readyz`, `/metrics` and the OpenAPI document,
/// all inside the shared layers.
pub fn router<S>(
    (api, openapi): (Router<S>, utoipa::openapi::OpenApi),
    state: S,
    readiness: Readiness,
    options: HttpOptions,
) -> Router
where
    S: Clone + Send + Sync + 'static,
{
    let router = api
        .with_state(state)
        .merge(health::router(readiness, &openapi));
    http::layers(router, options)
}

/// A background task that runs as long as the service does, named for the log
/// line that says it stopped.
pub struct Worker {
    name: &'static str,
    task: BoxFuture<'static, ()>,
}

impl Worker {
    pub fn new(name: &'static str, task: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            name,
            task: task.boxed(),
        }
    }
}

/// The bound listener and the router it will serve.
pub struct Server {
    listener: TcpListener,
    router: Router,
    port: u16,
    tcp_nodelay: bool,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port, as the tests do).
    pub async fn bind(addr: &str, router: Router) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let port = listener
            .local_addr()
            .with_context(|| format!("reading the port bound at {addr}"))?
            .port();
        Ok(Self {
            listener,
            router,
            port,
            tcp_nodelay: false,
        })
    }

    /// Sets TCP_NODELAY on every connection, for services whose responses
    /// stream small writes (see [`http::serve_with`]).
    pub fn with_tcp_nodelay(mut self) -> Self {
        self.tcp_nodelay = true;
        self
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves HTTP and runs `workers` side by side. Returns when the server
    /// stops (a shutdown signal: in-flight requests finish first) or when any
    /// worker ends, which they never should; logs which one it was and why.
    pub async fn run(self, service: &str, workers: Vec<Worker>) -> anyhow::Result<()> {
        let server = http::serve_with(
            self.listener,
            self.router,
            http::shutdown_signal(),
            self.tcp_nodelay,
        );
        let result = tokio::select! {
            r = server => r.context("serving HTTP"),
            e = first_to_stop(workers) => Err(e),
        };
        match &result {
            Ok(()) => tracing::info!(service, "{service} stopped: HTTP server shut down"),
            Err(e) => tracing::error!(service, error = format!("{e:#}"), "{service} stopped"),
        }
        result
    }
}

/// Spawns the workers and resolves, with the reason, when the first one ends;
/// never resolves when there are none.
async fn first_to_stop(workers: Vec<Worker>) -> anyhow::Error {
    if workers.is_empty() {
        return std::future::pending().await;
    }
    let running = workers.into_iter().map(|w| {
        let handle = tokio::spawn(w.task);
        async move { (w.name, handle.await) }.boxed()
    });
    let ((name, outcome), _, _) = futures::future::select_all(running).await;
    match outcome {
        Ok(()) => anyhow::anyhow!("the {name} stopped"),
        Err(e) => anyhow::anyhow!("the {name} stopped: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_worker_that_ends_is_named() {
        let workers = vec![
            Worker::new("sweeper", std::future::pending()),
            Worker::new("outbox relay", async {}),
        ];
        let e = first_to_stop(workers).await;
        assert_eq!(e.to_string(), "the outbox relay stopped");
    }

    #[tokio::test]
    async fn a_panicking_worker_is_named_with_its_panic() {
        let workers = vec![Worker::new("timeout consumer", async {
            panic!("lost the channel");
        })];
        let e = first_to_stop(workers).await.to_string();
        assert!(e.starts_with("the timeout consumer stopped: "), "{e}");
        assert!(e.contains("lost the channel"), "{e}");
    }

    #[tokio::test]
    async fn binding_a_bad_address_says_which() {
        let Err(e) = Server::bind("not an address", Router::new()).await else {
            panic!("bound a bad address");
        };
        assert!(e.to_string().contains("binding not an address"), "{e}");
    }
}
