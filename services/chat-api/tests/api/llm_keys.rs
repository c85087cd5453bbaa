//! The operator console's upstream keys and models: keys sealed in the
//! database and never answered unmasked, a key added in the console used by
//! another copy within seconds, testing a key against the sandbox LLM,
//! models switched off and refused, every action audited, admins only.

use std::time::{Duration, Instant};

use paychat_chat_api::app::Application;
use paychat_common::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::chat_support::{ChatTest, User, marker, spawn_chat_with};

const SECRET: &str = "sk-console-secret-0123456789wxyz";

async fn send(
    t: &ChatTest,
    who: &User,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, String) {
    let mut req = t.request(method, who, path);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn add_key(t: &ChatTest, admin: &User, key: &str, label: &str) -> Value {
    let (status, text) = send(
        t,
        admin,
        Method::POST,
        "/api/admin/llm-keys",
        Some(json!({ "key": key, "label": label })),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn audit_rows(t: &ChatTest) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT action, target, COALESCE(before_json, ''), COALESCE(after_json, '') \
         FROM sys_audit_log ORDER BY id",
    )
    .fetch_all(&t.app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn keys_are_sealed_and_never_answered_unmasked() {
    let t = spawn_chat_with(1, &[]).await;
    let admin = t.user_with(0, Role::Admin).await;

    // The configuration's key was imported on first start, masked.
    let (status, listed) = send(&t, &admin, Method::GET, "/api/admin/llm-keys", None).await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["label"], "configuration #1");
    assert_eq!(list["items"][0]["key"], "sk…od");
    assert!(!listed.contains("sk-test-good"), "{listed}");

    let mut bodies = vec![listed];
    let created = add_key(&t, &admin, SECRET, "main account").await;
    assert_eq!(created["key"], "sk-…wxyz");
    assert_eq!(created["enabled"], true);
    let id = created["id"].as_str().unwrap().to_owned();
    bodies.push(created.to_string());
    for (method, path, body) in [
        (Method::GET, "/api/admin/llm-keys".to_owned(), None),
        (
            Method::PATCH,
            format!("/api/admin/llm-keys/{id}"),
            Some(json!({ "label": "renamed", "enabled": false })),
        ),
        (Method::POST, format!("/api/admin/llm-keys/{id}/test"), None),
        (Method::GET, "/api/admin/audit-log".to_owned(), None),
    ] {
        let (status, text) = send(&t, &admin, method, &path, body).await;
        assert_eq!(status, 200, "{path}: {text}");
        bodies.push(text);
    }
    for body in &bodies {
        assert!(
            !body.contains("0123456789"),
            "a response held the key: {body}"
        );
    }
    // The same key twice is refused.
    let (status, _) = send(
        &t,
        &admin,
        Method::POST,
        "/api/admin/llm-keys",
        Some(json!({ "key": SECRET })),
    )
    .await;
    assert_eq!(status, 409);

    // In the database: sealed, not the key; the audit rows masked.
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar("SELECT secret_sealed FROM llm_key")
        .fetch_all(&t.app.db)
        .await
        .unwrap();
    for row in &sealed {
        assert!(!row.windows(10).any(|w| w == b"0123456789"));
        assert!(!row.windows(12).any(|w| w == b"sk-test-good"));
    }
    let audit = audit_rows(&t).await;
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        ["llm_key.create", "llm_key.update", "llm_key.test"]
    );
    assert_eq!(audit[0].1, format!("llm_key:{id}"));
    let before: Value = serde_json::from_str(&audit[1].2).unwrap();
    let after: Value = serde_json::from_str(&audit[1].3).unwrap();
    assert_eq!(before["label"], "main account");
    assert_eq!(after["enabled"], false);
    assert_eq!(after["key"], "sk-…wxyz");
    for row in &audit {
        assert!(!format!("{row:?}").contains("0123456789"));
    }
}

#[tokio::test]
async fn testing_a_refused_key_rests_it_and_says_why() {
    let t = spawn_chat_with(1, &[]).await;
    let admin = t.user_with(0, Role::Admin).await;
    let bad = add_key(&t, &admin, "sk-bad-refused-000001", "refused").await;
    let good = add_key(&t, &admin, "sk-fine-accepted-00001", "fine").await;
    let id = bad["id"].as_str().unwrap();

    let (status, text) = send(
        &t,
        &admin,
        Method::POST,
        &format!("/api/admin/llm-keys/{id}/test"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let result: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(result["ok"], false);
    assert_eq!(result["status"], 401);
    // A real call reached the sandbox with the key itself.
    let seen = t.llm.received("ping").await;
    assert!(
        seen.iter().any(|r| r["key"] == "sk-bad-refused-000001"),
        "{seen:?}"
    );
    let key = &result["llm_key"];
    assert!(key["resting_until"].is_string(), "{key}");
    assert!(
        key["resting_reason"].as_str().unwrap().starts_with("401"),
        "{key}"
    );
    assert!(
        key["last_error"].as_str().unwrap().starts_with("401"),
        "{key}"
    );

    let id = good["id"].as_str().unwrap();
    let (_, text) = send(
        &t,
        &admin,
        Method::POST,
        &format!("/api/admin/llm-keys/{id}/test"),
        None,
    )
    .await;
    let result: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["status"], 200);
    assert!(result["llm_key"]["resting_until"].is_null());

    let (status, _) = send(
        &t,
        &admin,
        Method::POST,
        "/api/admin/llm-keys/42/test",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_key_added_in_the_console_is_used_by_another_copy_within_seconds() {
    let t = spawn_chat_with(1, &[("llm_keys_reload_ms", "300".into())]).await;
    // A second copy on the same database and Redis.
    let mut config = t.app.config.clone();
    config.common.run_migrations = false;
    let copy = Application::build(config).await.unwrap();
    let copy_url = format!("http://127.0.0.1:{}/api/chat/completions", copy.port());
    tokio::spawn(copy.run_until_stopped());

    let admin = t.user_with(0, Role::Admin).await;
    let user = t.user(50).await;
    let list: Value = serde_json::from_str(
        &send(&t, &admin, Method::GET, "/api/admin/llm-keys", None)
            .await
            .1,
    )
    .unwrap();
    let boot_id = list["items"][0]["id"].as_str().unwrap().to_owned();
    // Through the first copy: a new key in, the configuration's key off.
    add_key(&t, &admin, "sk-added-in-console-0001", "new").await;
    let (status, _) = send(
        &t,
        &admin,
        Method::PATCH,
        &format!("/api/admin/llm-keys/{boot_id}"),
        Some(json!({ "enabled": false })),
    )
    .await;
    assert_eq!(status, 200);

    let started = Instant::now();
    loop {
        let mark = marker("newkey");
        let res = t
            .app
            .client
            .post(&copy_url)
            .bearer_auth(&user.token)
            .json(&json!({ "prompt": mark }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let _ = res.text().await.unwrap();
        let keys: Vec<Value> = t
            .llm
            .received(&mark)
            .await
            .into_iter()
            .map(|r| r["key"].clone())
            .collect();
        if keys == [json!("sk-added-in-console-0001")] {
            break;
        }
        assert_eq!(keys, [json!("sk-test-good")]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the copy never picked up the new key"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_model_switched_off_is_refused_on_every_copy() {
    let t = spawn_chat_with(1, &[("llm_keys_reload_ms", "300".into())]).await;
    let admin = t.user_with(0, Role::Admin).await;
    let user = t.user(5).await;
    let (status, text) = send(&t, &admin, Method::GET, "/api/admin/llm-models", None).await;
    assert_eq!(status, 200);
    let models: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(models["items"][0]["name"], "sandbox-chat");
    assert_eq!(models["items"][0]["default"], true);
    assert!(
        models["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["enabled"] == true)
    );

    let (status, text) = send(
        &t,
        &admin,
        Method::PATCH,
        "/api/admin/llm-models/fault-cut-after-2",
        Some(json!({ "enabled": false })),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let refused = t
        .stream(
            &user,
            json!({ "prompt": "hi", "model": "fault-cut-after-2" }),
        )
        .await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(t.times(&user).await, 5);
    let offered = t.get_json(&user, "/api/chat/models").await;
    assert!(!offered.to_string().contains("fault-cut-after-2"));
    assert!(offered.to_string().contains("sandbox-chat"));

    // The default model stays on; unknown models are not found.
    let (status, _) = send(
        &t,
        &admin,
        Method::PATCH,
        "/api/admin/llm-models/sandbox-chat",
        Some(json!({ "enabled": false })),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = send(
        &t,
        &admin,
        Method::PATCH,
        "/api/admin/llm-models/nope",
        Some(json!({ "enabled": true })),
    )
    .await;
    assert_eq!(status, 404);

    let (status, _) = send(
        &t,
        &admin,
        Method::PATCH,
        "/api/admin/llm-models/fault-cut-after-2",
        Some(json!({ "enabled": true })),
    )
    .await;
    assert_eq!(status, 200);
    let back = t
        .stream(
            &user,
            json!({ "prompt": "hi", "model": "fault-cut-after-2" }),
        )
        .await;
    assert_eq!(back.status, 200, "{back:?}");
    let actions: Vec<String> = audit_rows(&t).await.into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["llm_model.disable", "llm_model.enable"]);
}

#[tokio::test]
async fn the_key_and_model_endpoints_are_for_admins_only() {
    let t = spawn_chat_with(1, &[]).await;
    let user = t.user(0).await;
    let endpoints = [
        (Method::GET, "/api/admin/llm-keys"),
        (Method::POST, "/api/admin/llm-keys"),
        (Method::PATCH, "/api/admin/llm-keys/1"),
        (Method::DELETE, "/api/admin/llm-keys/1"),
        (Method::POST, "/api/admin/llm-keys/1/test"),
        (Method::GET, "/api/admin/llm-models"),
        (Method::PATCH, "/api/admin/llm-models/sandbox-chat"),
    ];
    for (method, path) in endpoints {
        let body = json!({ "key": SECRET, "enabled": true });
        let nobody = t
            .app
            .client
            .request(method.clone(), t.app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(nobody.status(), 401, "{method} {path}");
        let (status, _) = send(&t, &user, method.clone(), path, Some(body)).await;
        assert_eq!(status, 403, "{method} {path}");
    }
    // And every one of them is in the OpenAPI document.
    let doc = t.app.get_public_json("/api-docs/openapi.json").await;
    for path in [
        "/api/admin/llm-keys",
        "/api/admin/llm-keys/{id}",
        "/api/admin/llm-keys/{id}/test",
        "/api/admin/llm-models",
        "/api/admin/llm-models/{name}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM llm_key")
        .fetch_one(&t.app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
