//! The signed-in user's own account: changing the password
//! (`POST /api/users/me/password`) and the history of chat times
//! (`GET /api/users/me/times-history`).

use serde_json::{Value, json};

use crate::accounts_support::*;
use crate::chat_support::{User, marker, spawn_chat};
use crate::helpers::TestApp;

const NEW_PASSWORD: &str = "a much newer passphrase";

impl TestApp {
    async fn change_password(&self, token: &str, current: &str, new: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/users/me/password"))
            .bearer_auth(token)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("chpw");
    let (_, here) = app.signed_up(&address, PASSWORD).await;
    let elsewhere = app.login_token(&address, PASSWORD).await;

    let res = app.change_password(&here, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());

    assert_eq!(app.me(&here).await.status(), 200);
    expect_error(app.me(&elsewhere).await, 401, "unauthorized").await;
    app.login_refused(&address, PASSWORD).await;
    assert_eq!(app.login(&address, NEW_PASSWORD).await.status(), 200);
    // Stored as an argon2id hash, never as the text.
    let (stored,): (String,) = sqlx::query_as("SELECT password FROM chat_user_binding_email")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
}

#[tokio::test]
async fn a_wrong_current_password_or_a_weak_new_one_changes_nothing() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("chpwbad");
    let (_, token) = app.signed_up(&address, PASSWORD).await;
    let other = app.login_token(&address, PASSWORD).await;

    let body = expect_error(
        app.change_password(&token, "not my password", NEW_PASSWORD)
            .await,
        403,
        "invalid_credentials",
    )
    .await;
    assert!(body["error"]["message"].is_string());
    let body = expect_error(
        app.change_password(&token, PASSWORD, "short").await,
        400,
        "weak_password",
    )
    .await;
    assert!(
        body["error"]["fields"]["new_password"].is_string(),
        "{body}"
    );

    // Nothing changed: both sessions live, the old password still signs in.
    assert_eq!(app.me(&token).await.status(), 200);
    assert_eq!(app.me(&other).await.status(), 200);
    assert_eq!(app.login(&address, PASSWORD).await.status(), 200);
    // The failed check is on record like a failed sign-in.
    let failures = app
        .count("SELECT COUNT(*) FROM chat_user_login_log WHERE login_status = 0")
        .await;
    assert_eq!(failures, 1);

    let res = app
        .client
        .post(app.url("/api/users/me/password"))
        .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_login_failure_limit() {
    let app = spawn_accounts_app(&[("login_fail_limit_email", "3".into())]).await;
    let address = email("chpwlimit");
    let (_, token) = app.signed_up(&address, PASSWORD).await;
    for _ in 0..3 {
        expect_error(
            app.change_password(&token, "guess again", NEW_PASSWORD)
                .await,
            403,
            "invalid_credentials",
        )
        .await;
    }
    // Even the right password waits now, here and at the login.
    expect_error(
        app.change_password(&token, PASSWORD, NEW_PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    expect_error(app.login(&address, PASSWORD).await, 429, "rate_limited").await;
}

async fn history(t: &crate::chat_support::ChatTest, user: &User, query: &str) -> Value {
    let res = t
        .get(user, &format!("/api/users/me/times-history{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A paid order of one code worth `times`, bought by the user and redeemed by them.
async fn buy_and_redeem(t: &crate::chat_support::ChatTest, user: &User, times: i32) {
    let db = &t.app.db;
    let order_id = user.id + 1;
    let exchange_id = user.id + 2;
    sqlx::query(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, pay_time, expire_time) \
         VALUES (?, ?, 9.90, 9.90, 2, UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE, UTC_TIMESTAMP(3))",
    )
    .bind(order_id)
    .bind(user.id)
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO chat_exchange (id, product_id, name, code, reward_use_times, price, is_used, \
         is_occupied, owner_user_id, order_id, activation_time) \
         VALUES (?, 1, 'Starter pack', ?, ?, 9.90, 1, 1, ?, ?, UTC_TIMESTAMP(3))",
    )
    .bind(exchange_id)
    .bind(format!("CODE{exchange_id}"))
    .bind(times)
    .bind(user.id)
    .bind(order_id)
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO chat_user_exchange_record (id, user_id, exchange_id, code, create_time) \
         VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE)",
    )
    .bind(user.id + 3)
    .bind(user.id)
    .bind(exchange_id)
    .bind(format!("CODE{exchange_id}"))
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + ? WHERE id = ?",
    )
    .bind(times)
    .bind(user.id)
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_times_history_lists_purchases_redemptions_answers_and_give_backs() {
    let t = spawn_chat().await;
    let user = t.user(0).await;
    let stranger = t.user(5).await;
    buy_and_redeem(&t, &user, 5).await;
    let answered = t.ask(&user, &marker("history"), None).await;
    let room = answered.event("meta")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = t
        .stream(
            &user,
            json!({ "prompt": marker("refunded"), "room_id": room, "model": "fault-cut-after-0" }),
        )
        .await;
    assert_eq!(failed.names(), ["meta", "error"], "{failed:?}");
    t.ask(&stranger, &marker("not mine"), None).await;
    assert_eq!(t.times(&user).await, 4);

    let page = history(&t, &user, "").await;
    let items = page["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    // Newest first.
    assert_eq!(
        kinds,
        ["returned", "spent", "spent", "redeemed", "bought"],
        "{page}"
    );
    let times: Vec<i64> = items.iter().map(|i| i["times"].as_i64().unwrap()).collect();
    assert_eq!(times, [1, -1, -1, 5, 5]);
    assert!(page["next_cursor"].is_null(), "{page}");
    // What changed the balance adds up to it (a purchase gives codes, not times).
    let balance: i64 = items
        .iter()
        .filter(|i| i["kind"] != "bought")
        .map(|i| i["times"].as_i64().unwrap())
        .sum();
    assert_eq!(balance, 4);
    for item in items {
        assert!(item["id"].is_string(), "{item}");
        assert!(
            chrono::DateTime::parse_from_rfc3339(item["created_at"].as_str().unwrap()).is_ok(),
            "{item}"
        );
    }
    assert_eq!(items[1]["room_id"], room.as_str());
    assert_eq!(items[1]["answer_id"], failed.event("meta")["answer_id"]);
    assert_eq!(items[3]["label"], "Starter pack");
    assert_eq!(items[4]["label"], "Starter pack");

    // Page by page, nothing lost or repeated.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = history(&t, &user, &query).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let all: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, all);

    let res = t
        .get(&user, "/api/users/me/times-history?cursor=nonsense")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_request").await;
    let res = t
        .app
        .client
        .get(t.app.url("/api/users/me/times-history"))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "unauthorized").await;
}
