use paychat_orders::codes::code::RedemptionCode;
use paychat_orders::states::{CodeStatus, OrderStatus};
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

async fn codes_of(app: &crate::helpers::TestApp, product: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT code FROM chat_exchange WHERE product_id = ? ORDER BY id")
        .bind(product.parse::<i64>().unwrap())
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// Sells codes to `owner` as fulfilment does: bound to a paid order of theirs.
async fn sell(app: &crate::helpers::TestApp, codes: &[&str], owner: i64) {
    let order_id = app.state.ids.next();
    sqlx::query(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, pay_time, expire_time) \
         VALUES (?, ?, 5.00, 5.00, 2, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
    )
    .bind(order_id)
    .bind(owner)
    .execute(&app.db)
    .await
    .unwrap();
    for code in codes {
        sqlx::query(
            "UPDATE chat_exchange SET owner_user_id = ?, order_id = ?, is_occupied = 1, \
             activation_time = UTC_TIMESTAMP(3) WHERE code = ?",
        )
        .bind(owner)
        .bind(order_id)
        .bind(code)
        .execute(&app.db)
        .await
        .unwrap();
    }
}

async fn times(app: &crate::helpers::TestApp, user_id: i64) -> i32 {
    sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn one_code_redeemed_twice_at_once_counts_once() {
    let app = spawn_app().await;
    let product = app.product(1, "5.00").await;
    let code = codes_of(&app, &product).await.remove(0);
    let display = RedemptionCode::parse(&code)
        .unwrap()
        .display()
        .to_lowercase();
    let user = app.user().await;
    sell(&app, &[&code], user.id).await;
    let (a, b) = tokio::join!(
        app.post(
            &user,
            "/api/exchange-codes/redeem",
            json!({"code": display})
        ),
        app.post(&user, "/api/exchange-codes/redeem", json!({"code": code}))
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(times(&app, user.id).await, 10);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_user_exchange_record")
            .await,
        1
    );

    // And by two different users at once: still one.
    let product = app.product(1, "5.00").await;
    let code = codes_of(&app, &product).await.remove(0);
    let (u1, u2) = (app.user().await, app.user().await);
    // Bought by one, given to the other: either may redeem it.
    sell(&app, &[&code], u1.id).await;
    let (a, b) = tokio::join!(
        app.post(&u1, "/api/exchange-codes/redeem", json!({"code": code})),
        app.post(&u2, "/api/exchange-codes/redeem", json!({"code": code}))
    );
    let ok = [&a, &b].iter().filter(|r| r.status() == 200).count();
    assert_eq!(ok, 1);
    assert_eq!(times(&app, u1.id).await + times(&app, u2.id).await, 10);
}

#[tokio::test]
async fn used_disabled_expired_and_bogus_codes_are_refused() {
    let app = spawn_app().await;
    let product = app.product(4, "5.00").await;
    let codes = codes_of(&app, &product).await;
    let user = app.user().await;
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    sell(&app, &refs, user.id).await;
    let redeem = |code: String| {
        let app = &app;
        let user = &user;
        async move {
            error_code(
                app.post(user, "/api/exchange-codes/redeem", json!({"code": code}))
                    .await,
            )
            .await
        }
    };
    let (status, body) = redeem(codes[0].clone()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"reward_use_times": 10, "can_conversation_times": 10})
    );
    let (status, body) = redeem(codes[0].clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("code_used"))
    );

    sqlx::query("UPDATE chat_exchange SET status = ? WHERE code = ?")
        .bind(CodeStatus::Disabled)
        .bind(&codes[1])
        .execute(&app.db)
        .await
        .unwrap();
    let (status, body) = redeem(codes[1].clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_code"))
    );

    sqlx::query("UPDATE chat_exchange SET is_deleted = 1 WHERE code = ?")
        .bind(&codes[2])
        .execute(&app.db)
        .await
        .unwrap();
    let (status, body) = redeem(codes[2].clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_code"))
    );

    // Bought 31 days ago with a 30-day life.
    sqlx::query(
        "UPDATE chat_exchange SET owner_user_id = ?, activation_time = UTC_TIMESTAMP(3) - INTERVAL 31 DAY WHERE code = ?",
    )
    .bind(user.id)
    .bind(&codes[3])
    .execute(&app.db)
    .await
    .unwrap();
    let (status, body) = redeem(codes[3].clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("code_expired"))
    );

    let unknown = RedemptionCode::generate(&mut rand::rng()).display();
    for bogus in [
        unknown,
        "hello".into(),
        "0000-0000-0000-0000".into(),
        String::new(),
    ] {
        let (status, body) = redeem(bogus.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_code")),
            "{bogus}"
        );
    }
    assert_eq!(times(&app, user.id).await, 10);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_user_exchange_record")
            .await,
        1
    );
}

#[tokio::test]
async fn failed_attempts_are_rate_limited() {
    let app = spawn_app_with(&[("redeem_fail_limit_user", "3".into())]).await;
    let product = app.product(1, "5.00").await;
    let good = codes_of(&app, &product).await.remove(0);
    let user = app.user().await;
    sell(&app, &[&good], user.id).await;
    for _ in 0..3 {
        let res = app
            .post(&user, "/api/exchange-codes/redeem", json!({"code": "nope"}))
            .await;
        assert_eq!(res.status(), 400);
    }
    let res = app
        .post(&user, "/api/exchange-codes/redeem", json!({"code": good}))
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let (_, body) = error_code(res).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(times(&app, user.id).await, 0);
    // Another user is not held back by this one's failures.
    let other = app.user().await;
    let res = app
        .post(&other, "/api/exchange-codes/redeem", json!({"code": good}))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn users_behind_one_address_are_held_back_only_by_their_own_failures() {
    // Default limits: everyone here comes from 127.0.0.1, like an office
    // behind one NAT address.
    let app = spawn_app().await;
    let product = app.product(1, "5.00").await;
    let good = codes_of(&app, &product).await.remove(0);
    let per_user = app.config.orders.redeem_fail_limit_user;
    let b = app.user().await;
    sell(&app, &[&good], b.id).await;

    // User A spends every failure they have, and keeps trying.
    let a = app.user().await;
    for _ in 0..per_user {
        let res = app
            .post(&a, "/api/exchange-codes/redeem", json!({"code": "nope"}))
            .await;
        assert_eq!(res.status(), 400);
    }
    for _ in 0..5 {
        let res = app
            .post(&a, "/api/exchange-codes/redeem", json!({"code": "nope"}))
            .await;
        assert_eq!(res.status(), 429);
    }
    // So do a few colleagues on the same address.
    for _ in 0..4 {
        let colleague = app.user().await;
        for _ in 0..per_user {
            let res = app
                .post(
                    &colleague,
                    "/api/exchange-codes/redeem",
                    json!({"code": "nope"}),
                )
                .await;
            assert_eq!(res.status(), 400);
        }
    }
    // User B, on the same address, still redeems a valid code.
    let res = app
        .post(&b, "/api/exchange-codes/redeem", json!({"code": good}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(times(&app, b.id).await, 10);
}

#[tokio::test]
async fn concurrent_failed_attempts_stop_at_the_limit() {
    let app = spawn_app_with(&[
        ("redeem_fail_limit_user", "10".into()),
        ("redeem_fail_limit_ip", "1000".into()),
    ])
    .await;
    let user = app.user().await;
    let statuses = futures::future::join_all((0..50).map(|_| async {
        app.post(&user, "/api/exchange-codes/redeem", json!({"code": "nope"}))
            .await
            .status()
            .as_u16()
    }))
    .await;
    let judged = statuses.iter().filter(|s| **s == 400).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((judged, limited), (10, 40), "{statuses:?}");
}

#[tokio::test]
async fn my_codes_list_only_mine() {
    let app = spawn_app().await;
    let product = app.product(3, "5.00").await;
    let codes = codes_of(&app, &product).await;
    let (me, other) = (app.user().await, app.user().await);
    sell(&app, &[&codes[0], &codes[1]], me.id).await;
    sell(&app, &[&codes[2]], other.id).await;
    let res = app
        .post(&me, "/api/exchange-codes/redeem", json!({"code": codes[0]}))
        .await;
    assert_eq!(res.status(), 200);
    let list: Value = app
        .get(&me, "/api/exchange-codes")
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let used: Vec<bool> = items.iter().map(|i| i["used"].as_bool().unwrap()).collect();
    assert_eq!(used, vec![false, true]);
    assert_eq!(items[0]["price"], "5.00");
    assert_eq!(items[0]["reward_use_times"], 10);
    assert_eq!(items[0]["product_name"], "Pack");
    assert!(items[0]["expires_at"].is_string());
    assert_eq!(
        RedemptionCode::parse(items[0]["code"].as_str().unwrap())
            .unwrap()
            .as_str(),
        codes[1]
    );
}

#[tokio::test]
async fn a_code_nobody_bought_cannot_be_redeemed() {
    let app = spawn_app().await;
    let product = app.product(2, "5.00").await;
    let codes = codes_of(&app, &product).await;
    let user = app.user().await;

    // Known (read straight from chat_exchange), never sold: as good as unknown.
    let res = app
        .post(
            &user,
            "/api/exchange-codes/redeem",
            json!({"code": codes[0]}),
        )
        .await;
    let (status, body) = error_code(res).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_code")),
        "{body}"
    );
    let state: (bool, bool, Option<i64>) = sqlx::query_as(
        "SELECT is_used, is_occupied, owner_user_id FROM chat_exchange WHERE code = ?",
    )
    .bind(&codes[0])
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(state, (false, false, None));
    assert_eq!(times(&app, user.id).await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_user_exchange_record")
            .await,
        0
    );

    // Bound to a buyer whose order was never paid: refused the same way.
    sell(&app, &[&codes[1]], user.id).await;
    sqlx::query("UPDATE chat_order SET status = ? WHERE user_id = ?")
        .bind(OrderStatus::Closed)
        .bind(user.id)
        .execute(&app.db)
        .await
        .unwrap();
    let res = app
        .post(
            &user,
            "/api/exchange-codes/redeem",
            json!({"code": codes[1]}),
        )
        .await;
    assert_eq!(error_code(res).await.0, 400);
    assert_eq!(times(&app, user.id).await, 0);
}
