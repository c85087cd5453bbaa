//! Trace export: with `otlp_endpoint` set, spans reach an OTLP/HTTP receiver
//! as protobuf. The receiver here is a plain HTTP server standing in for a collector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use paychat_common::config::{CommonConfig, load_from};
use paychat_common::telemetry;

#[tokio::test(flavor = "multi_thread")]
async fn spans_are_exported_over_otlp_http() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Bytes)>(16);
    let receiver = Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send((kind, body)).await;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let defaults = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
    let config: CommonConfig = load_from(
        Some(&defaults),
        &[(
            "otlp_endpoint",
            format!("http://127.0.0.1:{port}/v1/traces"),
        )],
    )
    .unwrap();
    config.validate().unwrap();
    telemetry::init_logging(&config);

    tracing::info_span!("checkout_span", order_id = 7).in_scope(|| tracing::info!("inside"));
    tokio::task::spawn_blocking(telemetry::shutdown)
        .await
        .unwrap();

    let (kind, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no export within 10 s")
        .expect("receiver closed");
    assert_eq!(kind, "application/x-protobuf");
    let name = b"checkout_span";
    assert!(
        body.windows(name.len()).any(|w| w == name),
        "the exported batch does not carry the span"
    );
}

#[test]
fn a_bad_endpoint_is_named_at_start() {
    let defaults = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
    let config: CommonConfig = load_from(
        Some(&defaults),
        &[("otlp_endpoint", "collector:4318".into())],
    )
    .unwrap();
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("PAYCHAT_OTLP_ENDPOINT"), "{err}");
}
