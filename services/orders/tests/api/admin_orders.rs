//! The admin order list narrowed to one buyer by email address.

use paychat_common::testing;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, spawn_app};

/// Binds a fresh email address to the user, as chat-api's registration does.
async fn with_email(app: &TestApp, user: &User) -> String {
    let email = format!("{}@example.com", testing::unique("buyer"));
    let email_id = app.state.ids.next();
    sqlx::query(
        "INSERT INTO chat_user_binding_email (id, username, password, verified) VALUES (?, ?, 'x', 1)",
    )
    .bind(email_id)
    .bind(&email)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO chat_user_binding (id, binding_type, user_binding_email_id, user_id) \
         VALUES (?, 'email', ?, ?)",
    )
    .bind(app.state.ids.next())
    .bind(email_id)
    .bind(user.id)
    .execute(&app.db)
    .await
    .unwrap();
    email
}

async fn admin_list(app: &TestApp, admin: &User, query: &str) -> Value {
    let res = app.get(admin, &format!("/api/admin/orders?{query}")).await;
    assert_eq!(res.status(), 200, "GET /api/admin/orders?{query}");
    res.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admin_orders_filter_by_the_buyers_email() {
    let app = spawn_app().await;
    let product = app.product(10, "1.00").await;
    let (alice, bob) = (app.user().await, app.user().await);
    let alice_email = with_email(&app, &alice).await;
    let bob_email = with_email(&app, &bob).await;
    let first = app.order_id(&alice, &product, 1).await;
    assert_eq!(app.close(&alice, &first).await.status(), 200);
    let second = app.order_id(&alice, &product, 1).await;
    let bobs = app.order_id(&bob, &product, 1).await;
    let admin = app.admin().await;

    // Case does not matter and surrounding spaces are ignored; pages follow next_cursor.
    let shouted = format!("%20{}%20", alice_email.to_uppercase());
    let page = admin_list(&app, &admin, &format!("email={shouted}&limit=1")).await;
    assert_eq!(ids(&page), vec![second.clone()]);
    assert_eq!(page["items"][0]["user_id"], alice.id.to_string());
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = admin_list(
        &app,
        &admin,
        &format!("email={shouted}&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&rest), vec![first]);
    assert_eq!(rest["next_cursor"], Value::Null);

    // With a status, and together with the same user's id.
    let open = admin_list(
        &app,
        &admin,
        &format!(
            "email={alice_email}&status=awaiting_payment&user_id={}",
            alice.id
        ),
    )
    .await;
    assert_eq!(ids(&open), vec![second]);
    assert_eq!(
        ids(&admin_list(&app, &admin, &format!("email={bob_email}")).await),
        vec![bobs]
    );

    // An unknown address, or one of another user than user_id, matches nothing.
    let none = admin_list(&app, &admin, "email=nobody%40example.com").await;
    assert_eq!(none, json!({"items": [], "next_cursor": null}));
    let mismatch = admin_list(
        &app,
        &admin,
        &format!("email={bob_email}&user_id={}", alice.id),
    )
    .await;
    assert_eq!(ids(&mismatch), Vec::<String>::new());

    // Others still may not look.
    let res = app
        .get(&alice, &format!("/api/admin/orders?email={alice_email}"))
        .await;
    assert_eq!(res.status(), 403);
}
