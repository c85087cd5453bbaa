//! Every endpoint of the Payments and Codes panels: 401 without a session,
//! 403 for a user, and not 401/403 for an admin.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/api/admin/orders/1/refund"),
    ("POST", "/api/admin/orders/1/reconcile"),
    ("GET", "/api/admin/orders/1/notifies"),
    ("GET", "/api/admin/payment-failures"),
    ("POST", "/api/admin/payment-failures/1/retry"),
    ("GET", "/api/admin/codes"),
    ("POST", "/api/admin/codes/1/disable"),
    ("GET", "/api/admin/codes/export?product_id=1"),
];

#[tokio::test]
async fn console_payment_and_code_endpoints_are_for_admins_only() {
    let app = spawn_app().await;
    let user = app.user().await;
    let admin = app.admin().await;
    for (method, path) in ENDPOINTS {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let call = |token: Option<&str>| {
            let mut req = app
                .client
                .request(method.clone(), app.url(path))
                .json(&json!({"reason": "checking access"}));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send()
        };
        let nobody = call(None).await.unwrap();
        assert_eq!(nobody.status(), 401, "{method} {path} without a session");
        let as_user = call(Some(&user.token)).await.unwrap();
        assert_eq!(as_user.status(), 403, "{method} {path} as a user");
        let body: serde_json::Value = as_user.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!("forbidden"));
        let as_admin = call(Some(&admin.token)).await.unwrap().status();
        assert!(
            as_admin != 401 && as_admin != 403,
            "{method} {path} as an admin: {as_admin}"
        );
    }
    // Nothing was done, so nothing was audited.
    assert_eq!(app.count("SELECT COUNT(*) FROM sys_audit_log").await, 0);
}

#[tokio::test]
async fn the_openapi_document_has_every_payments_and_codes_endpoint() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .get_anonymous("/api-docs/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    for (method, path) in [
        ("post", "/api/admin/orders/{id}/refund"),
        ("post", "/api/admin/orders/{id}/reconcile"),
        ("get", "/api/admin/orders/{id}/notifies"),
        ("get", "/api/admin/payment-failures"),
        ("post", "/api/admin/payment-failures/{id}/retry"),
        ("get", "/api/admin/codes"),
        ("post", "/api/admin/codes/{id}/disable"),
        ("get", "/api/admin/codes/export"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let csv = &doc["paths"]["/api/admin/codes/export"]["get"]["responses"]["200"]["content"];
    assert!(csv["text/csv"].is_object(), "{csv}");
}
