//! The HTTP plumbing every service mounts: request ids, a span per request,
//! the client's IP (X-Forwarded-For believed only from trusted proxies: the
//! right-most hop that is not itself a trusted proxy), the
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

/// An address or CIDR range of proxies whose forwarding headers are believed
/// (`trusted_proxies`: `127.0.0.1`, `::1`, `172.28.0.0/16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedNet {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR range: {0:?}")]
pub struct InvalidNet(pub String);

impl std::str::FromStr for TrustedNet {
    type Err = InvalidNet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidNet(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr = addr
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| invalid())?
            .to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| invalid())?,
            None => max,
        };
        if prefix > max {
            return Err(invalid());
        }
        Ok(Self { addr, prefix })
    }
}

impl TrustedNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[derive(Clone)]
pub struct HttpOptions {
    pub trusted_proxies: Arc<Vec<TrustedNet>>,
    /// Time allowed until the response headers; streaming bodies may run longer.
    pub request_timeout: Duration,
    /// Exact paths allowed a larger body than [`BODY_LIMIT`], with their limit
    /// (an upload route; its handler sets the same limit on its extractor).
    pub large_bodies: Arc<Vec<(&'static str, usize)>>,
}

/// Wraps a service's router with the shared layers.
pub fn layers(router: Router, options: HttpOptions) -> Router {
    let timeout = options.request_timeout;
    let trusted = options.trusted_proxies.clone();
    let large_bodies = options.large_bodies.clone();
    router
        .fallback(|| async { ApiError::not_found("not_found") })
        .layer(middleware::from_fn(move |req, next| {
            with_timeout(timeout, req, next)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(move |req, next| {
            reject_large_bodies(large_bodies.clone(), req, next)
        }))
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

async fn reject_large_bodies(
    large_bodies: Arc<Vec<(&'static str, usize)>>,
    req: Request,
    next: Next,
) -> Response {
    let limit = large_bodies
        .iter()
        .find(|(path, _)| *path == req.uri().path())
        .map_or(BODY_LIMIT, |(_, limit)| *limit);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(req).await
}

async fn client_ip(trusted: Arc<Vec<TrustedNet>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = match peer {
        Some(peer) => client_ip_of(peer, req.headers(), &trusted),
        None => IpAddr::from([127, 0, 0, 1]),
    };
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then
/// X-Forwarded-For read from the right, skipping trusted proxies, up to the
/// first hop that is not one (everything left of it is the client's to forge).
/// Without X-Forwarded-For, a trusted peer's X-Real-IP. A hop that does not
/// parse ends the walk at the last trusted address.
pub fn client_ip_of(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[TrustedNet],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    if hops.is_empty() {
        return headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .map_or(peer, |ip| ip.to_canonical());
    }
    let mut last = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            return last;
        };
        let ip = ip.to_canonical();
        if !is_trusted(ip) {
            return ip;
        }
        last = ip;
    }
    last
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn nets(list: &str) -> Vec<TrustedNet> {
        list.split(',').map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn nets_parse_addresses_and_ranges() {
        let n = nets("127.0.0.1,::1,172.28.0.0/16,10.0.0.0/8");
        assert!(n[0].contains(ip("127.0.0.1")));
        assert!(!n[0].contains(ip("127.0.0.2")));
        assert!(n[1].contains(ip("::1")));
        assert!(n[2].contains(ip("172.28.5.9")));
        assert!(!n[2].contains(ip("172.29.0.1")));
        assert!(n[3].contains(ip("::ffff:10.1.2.3")));
        for bad in ["", "1.2.3.4/33", "::1/129", "host", "1.2.3.4/x"] {
            assert!(bad.parse::<TrustedNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_trusted_peer_passes_on_the_client_it_forwards_for() {
        let trusted = nets("172.28.0.0/16");
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(
            client_ip_of(ip("172.28.0.10"), &h, &trusted),
            ip("203.0.113.7")
        );
        // X-Real-IP when there is no X-Forwarded-For.
        let h = headers(&[("x-real-ip", "203.0.113.8")]);
        assert_eq!(
            client_ip_of(ip("172.28.0.10"), &h, &trusted),
            ip("203.0.113.8")
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = nets("127.0.0.1,172.28.0.0/16");
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-real-ip", "2.2.2.2")]);
        assert_eq!(
            client_ip_of(ip("198.51.100.4"), &h, &trusted),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets("127.0.0.1,10.0.0.0/8");
        // The client forged the left part; our proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(
            client_ip_of(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.7")
        );
        // Split over several header lines, in order.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
        ]);
        assert_eq!(
            client_ip_of(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.7")
        );
        // Garbage stops the walk at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, junk, 10.0.0.2")]);
        assert_eq!(client_ip_of(ip("127.0.0.1"), &h, &trusted), ip("10.0.0.2"));
        // A mapped IPv4 peer is the IPv4 address.
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            client_ip_of(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
    }
}
