use std::time::Duration;

use paychat_common::testing::eventually;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_ready_metrics_and_openapi_answer() {
    let app = spawn_app().await;
    for path in ["/healthz", "/metrics", "/api-docs/openapi.json"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let ready = eventually(Duration::from_secs(5), || async {
        let res = app.client.get(app.url("/readyz")).send().await;
        res.is_ok_and(|r| r.status() == 200)
    })
    .await;
    assert!(ready, "/readyz never answered 200 with every dependency up");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}
