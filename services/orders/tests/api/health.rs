use crate::helpers::spawn_app;

#[tokio::test]
async fn health_ready_metrics_and_openapi_answer() {
    let app = spawn_app().await;
    for path in ["/healthz", "/metrics", "/api-docs/openapi.json"] {
        let res = app.get_anonymous(path).await;
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{path}: {body}");
    }
    let ready = app.becomes_ready().await;
    assert!(ready, "/readyz never answered 200 with every dependency up");
    let doc: serde_json::Value = app
        .get_anonymous("/api-docs/openapi.json")
        .await
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
