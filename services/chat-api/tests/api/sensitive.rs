//! The sensitive-word filter and its admin endpoints.

use std::time::{Duration, Instant};

use paychat_chat_api::app::Application;
use paychat_common::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::chat_support::{ChatTest, User, marker, spawn_chat_with};

/// `POST /api/admin/sensitive-words` with `word`, as `user`.
async fn post_word(t: &ChatTest, user: &User, word: &str) -> reqwest::Response {
    t.request(Method::POST, user, "/api/admin/sensitive-words")
        .json(&json!({ "word": word }))
        .send()
        .await
        .unwrap()
}

/// `DELETE /api/admin/sensitive-words/{id}`, as `user`.
async fn delete_word(t: &ChatTest, user: &User, id: &str) -> reqwest::Response {
    t.request(
        Method::DELETE,
        user,
        &format!("/api/admin/sensitive-words/{id}"),
    )
    .send()
    .await
    .unwrap()
}

async fn add_word(t: &ChatTest, admin: &User, word: &str) -> Value {
    let res = post_word(t, admin, word).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

#[tokio::test]
async fn disguised_sensitive_words_are_refused_without_taking_a_time() {
    let t = spawn_chat_with(1, &[]).await;
    let admin = t.user_with(0, Role::Admin).await;
    let user = t.user(2).await;
    let latin = add_word(&t, &admin, "Forbidden").await;
    add_word(&t, &admin, "违禁词").await;

    for prompt in [
        "this is forbidden",
        "this is F o r b i d d e n!",
        "ＦＯＲＢＩＤＤＥＮ words",
        "for\u{200B}bidden",
        "这是违禁词吗",
        "这是违 禁 词吗",
        "违\u{3000}禁\t词",
    ] {
        let tagged = format!("{prompt} {}", marker("s"));
        let s = t.stream(&user, json!({ "prompt": tagged })).await;
        assert_eq!(s.status, 400, "{prompt}");
        assert_eq!(s.body["error"]["code"], "sensitive_content", "{prompt}");
        assert!(t.llm.received(&tagged).await.is_empty());
    }
    assert_eq!(t.times(&user).await, 2);
    assert_eq!(t.message_count(&user).await, 0);

    let spaced = t
        .stream(&user, json!({ "prompt": "for bid den? no" }))
        .await;
    assert_eq!(spaced.status, 400, "spaces are folded away");
    let clean = t
        .stream(&user, json!({ "prompt": "a perfectly fine question" }))
        .await;
    assert_eq!(clean.status, 200);
    assert_eq!(t.times(&user).await, 1);

    // Listing, and deleting lets the word through again.
    let list = t.get_json(&admin, "/api/admin/sensitive-words").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let id = latin["id"].as_str().unwrap();
    let del = delete_word(&t, &admin, id).await;
    assert_eq!(del.status(), 204);
    let flag: i32 = sqlx::query_scalar("SELECT is_deleted FROM chat_sensitive_word WHERE id = ?")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(&t.app.db)
        .await
        .unwrap();
    assert_eq!(flag, 1);
    let again = delete_word(&t, &admin, id).await;
    assert_eq!(again.status(), 404);
    let s = t
        .stream(&user, json!({ "prompt": "this is forbidden" }))
        .await;
    assert_eq!(s.status, 200);
}

#[tokio::test]
async fn only_admins_manage_words_and_words_are_checked() {
    let t = spawn_chat_with(1, &[]).await;
    let admin = t.user_with(0, Role::Admin).await;
    let user = t.user(0).await;
    let res = post_word(&t, &user, "x").await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        t.get(&user, "/api/admin/sensitive-words")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let blank = post_word(&t, &admin, " \u{200B} ").await;
    assert_eq!(blank.status(), 400);
    add_word(&t, &admin, "dup").await;
    let dup = post_word(&t, &admin, "dup").await;
    assert_eq!(dup.status(), 409);
}

#[tokio::test]
async fn another_copy_of_the_service_sees_a_change_within_seconds() {
    let t = spawn_chat_with(1, &[("sensitive_reload_ms", "500".into())]).await;
    // A second copy on the same database and Redis.
    let mut config = t.app.config.clone();
    config.common.run_migrations = false;
    let copy = Application::build(config).await.unwrap();
    let copy_url = format!("http://127.0.0.1:{}/api/chat/completions", copy.port());
    tokio::spawn(copy.run_until_stopped());

    let admin = t.user_with(0, Role::Admin).await;
    let user = t.user(0).await;
    add_word(&t, &admin, "blocked").await;
    let started = Instant::now();
    loop {
        // No chat times: 402 means the filter let it through, 400 that it caught it.
        let res = t
            .app
            .client
            .post(&copy_url)
            .bearer_auth(&user.token)
            .json(&json!({ "prompt": "b l o c k e d" }))
            .send()
            .await
            .unwrap();
        if res.status() == 400 {
            break;
        }
        assert_eq!(res.status(), 402);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the copy never reloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
