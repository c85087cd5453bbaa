//! The HTTP plumbing every service mounts: request ids, a span per request,
//! the client's IP (X-Forwarded-For believed only from trusted proxies), the
//! 64 KiB body limit, a request timeout, panics and unknown routes in the API
//! error shape, request metrics, and graceful shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::ApiError;

pub const BODY_LIMIT: usize = 64 * 1024;
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The caller's address as far as we can trust it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(IpAddr::from([127, 0, 0, 1]))))
    }
}

#[derive(Clone)]
pub struct HttpOptions {
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    /// Time allowed until the response headers; streaming bodies may run longer.
    pub request_timeout: Duration,
}

/// Wraps a service's router with the shared layers.
pub fn layers(router: Router, options: HttpOptions) -> Router {
    let timeout = options.request_timeout;
    let trusted = options.trusted_proxies.clone();
    router
        .fallback(|| async { ApiError::not_found("not_found") })
        .layer(middleware::from_fn(move |req, next| {
            with_timeout(timeout, req, next)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(reject_large_bodies))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn(move |req, next| {
            client_ip(trusted.clone(), req, next)
        }))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let request_id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                request_id,
                method = %req.method(),
                path = req.uri().path(),
                user_id = tracing::field::Empty,
            )
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}

async fn with_timeout(timeout: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable {
            code: "timeout",
            message: "the request took too long".into(),
        }
        .into_response(),
    }
}

async fn reject_large_bodies(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(req).await
}

async fn client_ip(trusted: Arc<Vec<IpAddr>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = match peer {
        Some(peer) if trusted.contains(&peer) => forwarded_for(&req).unwrap_or(peer),
        Some(peer) => peer,
        None => IpAddr::from([127, 0, 0, 1]),
    };
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

/// The right-most address of X-Forwarded-For: the one our proxy saw.
fn forwarded_for(req: &Request) -> Option<IpAddr> {
    req.headers()
        .get("x-forwarded-for")?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, false).await
}

/// As [`serve`]; with `tcp_nodelay` every connection has TCP_NODELAY set.
/// Without it, a small write (a streamed delta) made while the peer has not
/// yet acknowledged the previous one waits for its delayed ACK (up to 40 ms).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    tcp_nodelay: bool,
) -> std::io::Result<()> {
    let listener = listener.tap_io(move |tcp| {
        if tcp_nodelay && let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(error = %error, "setting TCP_NODELAY failed");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    crate::telemetry::shutdown();
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received");
}
