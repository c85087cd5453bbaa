//! The operator console's Users panel: searching and reading users, adjusting
//! chat times with a ledger row, disabling and enabling an account, and the
//! audit log every one of those actions writes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts_support::{PASSWORD, email, expect_error, spawn_accounts_app};
use crate::helpers::TestApp;

struct Console {
    app: TestApp,
    admin: String,
    admin_id: String,
    user_email: String,
    user_id: String,
    user: String,
}

/// An app with one admin and one user, both signed in.
async fn console() -> Console {
    let boss = email("boss");
    let app = spawn_accounts_app(&[("admin_emails", boss.clone())]).await;
    let (admin_id, admin) = app.signed_up(&boss, PASSWORD).await;
    let user_email = email("customer");
    let (user_id, user) = app.signed_up(&user_email, PASSWORD).await;
    Console {
        app,
        admin,
        admin_id,
        user_email,
        user_id,
        user,
    }
}

impl Console {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    async fn admin_get(&self, path: &str) -> Value {
        let res = self.send(Method::GET, path, Some(&self.admin), None).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json().await.unwrap()
    }

    async fn admin_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, path, Some(&self.admin), Some(body))
            .await
    }

    async fn adjust(&self, delta: i64, reason: &str) -> reqwest::Response {
        self.admin_post(
            &format!("/api/admin/users/{}/chat-times", self.user_id),
            json!({ "delta": delta, "reason": reason }),
        )
        .await
    }

    async fn balance(&self) -> i64 {
        sqlx::query_scalar::<_, i32>("SELECT can_conversation_times FROM chat_user WHERE id = ?")
            .bind(self.user_id.parse::<i64>().unwrap())
            .fetch_one(&self.app.db)
            .await
            .unwrap()
            .into()
    }

    async fn ledger_rows(&self) -> i64 {
        self.app
            .count("SELECT COUNT(*) FROM chat_times_adjustment")
            .await
    }

    async fn audit_rows(&self) -> Vec<(i64, String, String)> {
        sqlx::query_as("SELECT actor_id, action, target FROM sys_audit_log ORDER BY id")
            .fetch_all(&self.app.db)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn an_adjustment_writes_one_ledger_row_and_the_history_shows_it() {
    let c = console().await;
    let before = c.balance().await;
    let res = c.adjust(5, "goodwill for the outage").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["can_conversation_times"], before + 5);
    assert_eq!(c.balance().await, before + 5);
    assert_eq!(c.ledger_rows().await, 1);
    let (delta, reason, actor): (i32, String, i64) =
        sqlx::query_as("SELECT delta, reason, actor_id FROM chat_times_adjustment")
            .fetch_one(&c.app.db)
            .await
            .unwrap();
    assert_eq!(delta, 5);
    assert_eq!(reason, "goodwill for the outage");
    assert_eq!(actor.to_string(), c.admin_id);

    let history = c
        .app
        .read_json(
            c.app
                .client
                .get(c.app.url("/api/users/me/times-history"))
                .bearer_auth(&c.user),
        )
        .await;
    let items = history["items"].as_array().unwrap();
    let adjusted: Vec<&Value> = items.iter().filter(|i| i["kind"] == "adjusted").collect();
    assert_eq!(adjusted.len(), 1, "{history}");
    assert_eq!(adjusted[0]["times"], 5);
    assert_eq!(adjusted[0]["label"], "goodwill for the outage");

    let audit = c.audit_rows().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0.to_string(), c.admin_id);
    assert_eq!(audit[0].1, "user.chat_times");
    assert_eq!(audit[0].2, format!("user:{}", c.user_id));
}

#[tokio::test]
async fn a_negative_delta_past_zero_is_refused_and_changes_nothing() {
    let c = console().await;
    assert_eq!(c.adjust(3, "trial").await.status(), 200);
    expect_error(c.adjust(-4, "too much").await, 409, "insufficient_times").await;
    assert_eq!(c.balance().await, 3);
    assert_eq!(c.ledger_rows().await, 1);
    assert_eq!(c.audit_rows().await.len(), 1);

    // Down to exactly zero is allowed.
    let res = c.adjust(-3, "trial over").await;
    assert_eq!(res.status(), 200);
    assert_eq!(c.balance().await, 0);
    assert_eq!(c.ledger_rows().await, 2);

    for (delta, reason) in [(0, "nothing"), (100_001, "too big"), (1, ""), (1, "   ")] {
        let res = c.adjust(delta, reason).await;
        assert_eq!(res.status(), 400, "{delta} {reason:?}");
    }
    let long = "x".repeat(201);
    assert_eq!(c.adjust(1, &long).await.status(), 400);
    assert_eq!(c.ledger_rows().await, 2);
    let missing = c
        .admin_post(
            &format!("/api/admin/users/{}/chat-times", c.user_id),
            json!({ "delta": 1 }),
        )
        .await;
    assert_eq!(missing.status(), 400);
    let unknown = c
        .admin_post(
            "/api/admin/users/1/chat-times",
            json!({"delta": 1, "reason": "x"}),
        )
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_and_cannot_sign_in_until_enabled() {
    let c = console().await;
    assert_eq!(c.app.me(&c.user).await.status(), 200);
    let res = c
        .admin_post(
            &format!("/api/admin/users/{}/disable", c.user_id),
            json!({ "reason": "chargeback fraud" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["disabled"], true);
    assert_eq!(body["id"], c.user_id);

    assert_eq!(c.app.me(&c.user).await.status(), 401);
    expect_error(
        c.app.login(&c.user_email, PASSWORD).await,
        403,
        "account_disabled",
    )
    .await;
    // A wrong password still says only that.
    expect_error(
        c.app.login(&c.user_email, "wrong password!").await,
        401,
        "invalid_credentials",
    )
    .await;
    let missing_reason = c
        .admin_post(
            &format!("/api/admin/users/{}/enable", c.user_id),
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(missing_reason.status(), 400);

    let res = c
        .admin_post(
            &format!("/api/admin/users/{}/enable", c.user_id),
            json!({ "reason": "cleared by support" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["disabled"], false);
    let token = c.app.login_token(&c.user_email, PASSWORD).await;
    assert_eq!(c.app.me(&token).await.status(), 200);

    let actions: Vec<String> = c.audit_rows().await.into_iter().map(|r| r.1).collect();
    assert_eq!(actions, ["user.disable", "user.enable"]);
    let (before, after): (Value, Value) = sqlx::query_as(
        "SELECT CAST(before_json AS CHAR), CAST(after_json AS CHAR) FROM sys_audit_log \
         WHERE action = 'user.disable'",
    )
    .fetch_one(&c.app.db)
    .await
    .map(|(b, a): (String, String)| {
        (
            serde_json::from_str(&b).unwrap(),
            serde_json::from_str(&a).unwrap(),
        )
    })
    .unwrap();
    assert_eq!(before["disabled"], false);
    assert_eq!(after["disabled"], true);
    assert_eq!(after["reason"], "chargeback fraud");
}

#[tokio::test]
async fn users_are_searched_and_read_with_their_orders_and_ledger() {
    let c = console().await;
    let user_id: i64 = c.user_id.parse().unwrap();
    sqlx::query(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, expire_time) \
         VALUES (?, ?, 9.90, 9.90, 2, NOW(3)), (?, ?, 5.00, 5.00, 4, NOW(3))",
    )
    .bind(user_id + 1000)
    .bind(user_id)
    .bind(user_id + 1001)
    .bind(user_id)
    .execute(&c.app.db)
    .await
    .unwrap();
    assert_eq!(c.adjust(2, "welcome").await.status(), 200);

    let local = c.user_email.split('@').next().unwrap();
    let list = c
        .admin_get(&format!("/api/admin/users?q={}", &local[2..]))
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let found = &items[0];
    assert_eq!(found["id"], c.user_id);
    assert_eq!(found["email"], c.user_email);
    assert_eq!(found["disabled"], false);
    assert_eq!(found["orders"], 2);
    assert_eq!(found["paid_total"], "9.90");
    assert_eq!(found["can_conversation_times"], 2);

    let by_id = c
        .admin_get(&format!("/api/admin/users?q={}", c.user_id))
        .await;
    assert_eq!(by_id["items"].as_array().unwrap().len(), 1);
    let all = c.admin_get("/api/admin/users?limit=1").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let cursor = all["next_cursor"].as_str().unwrap();
    let next = c
        .admin_get(&format!("/api/admin/users?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_ne!(next["items"][0]["id"], all["items"][0]["id"]);

    let detail = c
        .admin_get(&format!("/api/admin/users/{}", c.user_id))
        .await;
    assert_eq!(detail["id"], c.user_id);
    assert_eq!(detail["orders"], 2);
    assert_eq!(detail["bindings"][0]["kind"], "email");
    assert_eq!(detail["bindings"][0]["verified"], true);
    assert!(!detail["recent_logins"].as_array().unwrap().is_empty());
    assert_eq!(detail["recent_logins"][0]["success"], true);
    assert_eq!(detail["recent_orders"].as_array().unwrap().len(), 2);
    assert_eq!(detail["times_ledger"][0]["delta"], 2);
    assert_eq!(detail["times_ledger"][0]["reason"], "welcome");
    assert_eq!(detail["times_ledger"][0]["actor_id"], c.admin_id);

    let res = c
        .send(Method::GET, "/api/admin/users/1", Some(&c.admin), None)
        .await;
    expect_error(res, 404, "user_not_found").await;
}

#[tokio::test]
async fn the_audit_log_lists_admin_actions_newest_first_with_filters() {
    let c = console().await;
    assert_eq!(c.adjust(4, "first").await.status(), 200);
    let res = c
        .admin_post(
            &format!("/api/admin/users/{}/disable", c.user_id),
            json!({ "reason": "abuse" }),
        )
        .await;
    assert_eq!(res.status(), 200);

    let log = c.admin_get("/api/admin/audit-log").await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    assert_eq!(items[0]["action"], "user.disable");
    assert_eq!(items[0]["actor_id"], c.admin_id);
    assert_eq!(items[0]["target"], format!("user:{}", c.user_id));
    assert_eq!(items[0]["before"]["disabled"], false);
    assert_eq!(items[0]["after"]["disabled"], true);
    assert_eq!(items[0]["ip"], "127.0.0.1");
    assert!(items[0]["created_at"].is_string());
    assert_eq!(items[1]["action"], "user.chat_times");
    assert_eq!(items[1]["before"]["can_conversation_times"], 0);
    assert_eq!(items[1]["after"]["can_conversation_times"], 4);

    let only = c
        .admin_get("/api/admin/audit-log?action=user.chat_times")
        .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    let by_actor = c
        .admin_get(&format!("/api/admin/audit-log?actor={}", c.user_id))
        .await;
    assert!(by_actor["items"].as_array().unwrap().is_empty());
    let page = c.admin_get("/api/admin/audit-log?limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = c
        .admin_get(&format!("/api/admin/audit-log?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"][0]["action"], "user.chat_times");
}

#[tokio::test]
async fn every_console_endpoint_is_for_admins_only() {
    let c = console().await;
    let id = &c.user_id;
    let endpoints = [
        (Method::GET, "/api/admin/users".to_owned(), None),
        (Method::GET, format!("/api/admin/users/{id}"), None),
        (
            Method::POST,
            format!("/api/admin/users/{id}/chat-times"),
            Some(json!({"delta": 1, "reason": "x"})),
        ),
        (
            Method::POST,
            format!("/api/admin/users/{id}/disable"),
            Some(json!({"reason": "x"})),
        ),
        (
            Method::POST,
            format!("/api/admin/users/{id}/enable"),
            Some(json!({"reason": "x"})),
        ),
        (Method::GET, "/api/admin/audit-log".to_owned(), None),
    ];
    for (method, path, body) in endpoints {
        let res = c.send(method.clone(), &path, None, body.clone()).await;
        assert_eq!(res.status(), 401, "{method} {path} without a session");
        let res = c.send(method.clone(), &path, Some(&c.user), body).await;
        assert_eq!(res.status(), 403, "{method} {path} as a user");
    }
    assert_eq!(c.balance().await, 0);
    assert!(c.audit_rows().await.is_empty());
    assert_eq!(c.app.me(&c.user).await.status(), 200);
}
