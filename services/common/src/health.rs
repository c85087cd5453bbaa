//! `/healthz` (the process is up), `/readyz` (its dependencies answer),
//! `/metrics` (Prometheus text) and `/api-docs/openapi.json`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sqlx::MySqlPool;

use crate::telemetry;

type Check = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// The dependencies `/readyz` checks, each with a one-second budget.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(f()))));
        self
    }

    pub fn database(self, pool: MySqlPool) -> Self {
        self.check("database", move || {
            let pool = pool.clone();
            async move { crate::db::ping(&pool).await }
        })
    }

    pub fn redis(self, conn: crate::redis::Redis) -> Self {
        self.check("redis", move || {
            let mut conn = conn.clone();
            async move { crate::redis::ping(&mut conn).await }
        })
    }

    async fn run(&self) -> (bool, Map<String, Value>) {
        let results = futures::future::join_all(self.checks.iter().map(|(name, check)| {
            let fut = check();
            async move {
                let ok = matches!(
                    tokio::time::timeout(Duration::from_secs(1), fut).await,
                    Ok(Ok(()))
                );
                (*name, ok)
            }
        }))
        .await;
        let all = results.iter().all(|(_, ok)| *ok);
        let map = results
            .into_iter()
            .map(|(name, ok)| {
                (
                    name.to_owned(),
                    json!(if ok { "ok" } else { "unavailable" }),
                )
            })
            .collect();
        (all, map)
    }
}

#[derive(Clone)]
struct HealthState {
    readiness: Readiness,
    openapi: Arc<Value>,
}

pub fn router(readiness: Readiness, openapi: &utoipa::openapi::OpenApi) -> Router {
    let openapi = serde_json::to_value(openapi).unwrap_or_else(|_| json!({}));
    // The recorder must exist before the workers count anything: counters
    // recorded before it is installed are lost, not buffered.
    let metrics = telemetry::metrics();
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(move || async move { metrics.render() }))
        .route("/api-docs/openapi.json", get(openapi_json))
        .with_state(HealthState {
            readiness,
            openapi: Arc::new(openapi),
        })
}

async fn readyz(State(state): State<HealthState>) -> Response {
    let (ok, checks) = state.readiness.run().await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({"status": if ok { "ready" } else { "unavailable" }, "checks": checks});
    (status, axum::Json(body)).into_response()
}

async fn openapi_json(State(state): State<HealthState>) -> axum::Json<Value> {
    axum::Json((*state.openapi).clone())
}
