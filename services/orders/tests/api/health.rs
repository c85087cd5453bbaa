use crate::helpers::spawn_app;

#[tokio::test]
async fn health_ready_metrics_and_openapi_answer() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/metrics", "/api-docs/openapi.json"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{path}: {body}");
    }
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/orders",
        "/api/products",
        "/api/exchange-codes/redeem",
        "/api/admin/products",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}
