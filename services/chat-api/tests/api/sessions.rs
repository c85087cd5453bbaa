//! The sessions page: each sign-in listed with where it began, the current
//! one marked; ending another session (one, or all others) makes that
//! session's next request 401 while the caller's goes on.

use paychat_common::auth::hash_token;
use serde_json::Value;

use crate::accounts_support::{PASSWORD, email, expect_error, spawn_accounts_app};
use crate::helpers::TestApp;

async fn login_as(app: &TestApp, address: &str, user_agent: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("user-agent", user_agent)
        .json(&serde_json::json!({ "email": address, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app
        .client
        .get(app.url("/api/users/me/sessions"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sessions_are_listed_with_where_they_began() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("sessions");
    let (_, first) = app.signed_up(&address, PASSWORD).await;
    let laptop = login_as(&app, &address, "Laptop Browser/1.0").await;
    let items = sessions(&app, &laptop).await;
    assert_eq!(items.len(), 2, "{items:?}");
    let current = &items[0];
    assert_eq!(current["current"], true);
    assert_eq!(current["user_agent"], "Laptop Browser/1.0");
    assert_eq!(current["ip"], "127.0.0.1");
    assert!(current["created_at"].is_string());
    assert!(current["last_seen_at"].is_string());
    assert_eq!(items[1]["current"], false);
    for item in &items {
        let id = item["id"].as_str().unwrap();
        for token in [&first, &laptop] {
            assert!(
                !token.contains(id) && id != hash_token(token),
                "the id gives the token away"
            );
        }
    }
    assert_eq!(app.me(&first).await.status(), 200);
}

#[tokio::test]
async fn signing_out_another_session_ends_its_next_request() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("signout");
    let (_, phone) = app.signed_up(&address, PASSWORD).await;
    let laptop = login_as(&app, &address, "Laptop").await;
    let other = sessions(&app, &laptop)
        .await
        .into_iter()
        .find(|s| s["current"] == false)
        .unwrap();
    let id = other["id"].as_str().unwrap();
    assert_eq!(
        delete(&app, &format!("/api/users/me/sessions/{id}"), &laptop)
            .await
            .status(),
        204
    );
    expect_error(app.me(&phone).await, 401, "unauthorized").await;
    assert_eq!(app.me(&laptop).await.status(), 200);
    assert_eq!(sessions(&app, &laptop).await.len(), 1);
    // Gone, or never the caller's: not found.
    expect_error(
        delete(&app, &format!("/api/users/me/sessions/{id}"), &laptop).await,
        404,
        "session_not_found",
    )
    .await;

    // Another user cannot end this user's sessions by id.
    let stranger_address = email("stranger");
    let (_, stranger) = app.signed_up(&stranger_address, PASSWORD).await;
    let mine = sessions(&app, &laptop).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect_error(
        delete(&app, &format!("/api/users/me/sessions/{mine}"), &stranger).await,
        404,
        "session_not_found",
    )
    .await;
    assert_eq!(app.me(&laptop).await.status(), 200);
}

#[tokio::test]
async fn signing_out_every_other_session_keeps_this_one() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("others");
    let (_, a) = app.signed_up(&address, PASSWORD).await;
    let b = login_as(&app, &address, "B").await;
    let c = login_as(&app, &address, "C").await;
    expect_error(
        delete(&app, "/api/users/me/sessions", &c).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(
        delete(&app, "/api/users/me/sessions?others=true", &c)
            .await
            .status(),
        204
    );
    expect_error(app.me(&a).await, 401, "unauthorized").await;
    expect_error(app.me(&b).await, 401, "unauthorized").await;
    assert_eq!(app.me(&c).await.status(), 200);
    let items = sessions(&app, &c).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["current"], true);
}
