use std::sync::Arc;
use std::time::Duration;

use paychat_orders::orders::close::Closed;
use paychat_orders::payments::settle::Settled;

use futures::future::join_all;
use paychat_orders::states::OrderStatus;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, User, assert_error, error_code, eventually, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn two_hundred_buyers_on_twenty_units_get_exactly_twenty_orders() {
    let app = Arc::new(spawn_app().await);
    let product = app.product(20, "1.50").await;
    let mut users = Vec::new();
    for _ in 0..200 {
        users.push(app.user().await);
    }
    let results = join_all(users.iter().map(|u| {
        let app = app.clone();
        let product = product.clone();
        async move { error_code(app.order_one(u, &product, 1).await).await }
    }))
    .await;
    let accepted = results.iter().filter(|(s, _)| *s == 201).count();
    let sold_out = results
        .iter()
        .filter(|(s, b)| *s == 409 && b["error"]["code"] == "out_of_stock")
        .count();
    assert_eq!(accepted, 20);
    assert_eq!(sold_out, 180);
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s == 409)
            .all(|(_, b)| b["error"]["product_id"] == product.as_str())
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, 20);
    assert_eq!(app.redis_stock(&product).await, 0);
    assert_eq!(app.db_available(&product).await, 0);
}

#[tokio::test]
async fn an_order_is_priced_from_the_database_and_shaped_as_the_contract_says() {
    let app = spawn_app().await;
    let a = app.product(10, "9.90").await;
    let b = app.product(10, "0.05").await;
    let user = app.user().await;
    let res = app
        .client
        .post(app.url("/api/orders"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", "first")
        .json(&json!({"items": [{"product_id": a, "quantity": 2}, {"product_id": b.parse::<i64>().unwrap(), "quantity": 3}],
                      "remark": "thanks", "total_amount": "0.01"}))
        .send()
        .await
        .unwrap();
    // Unknown fields (a client-sent total) are refused, never trusted.
    assert_eq!(res.status(), 400);
    let res = app
        .place_order(
            &user,
            "first",
            json!([{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 3}]),
        )
        .await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["type"], "normal");
    assert_eq!(order["total_amount"], "19.95");
    assert_eq!(order["pay_amount"], "19.95");
    assert_eq!(order["qr_code"], Value::Null);
    assert_eq!(order["pay_time"], Value::Null);
    assert_eq!(
        order["items"][0],
        json!({"product_id": a, "product_name": "Pack", "product_price": "9.90", "quantity": 2})
    );
    let created =
        chrono::DateTime::parse_from_rfc3339(order["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(order["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 1800);
    let id = order["id"].as_str().unwrap();
    let fetched: Value = app
        .get(&user, &format!("/api/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, order);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_order_history").await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order_outbox").await, 1);
    assert_eq!(app.redis_stock(&a).await, 8);
    assert_eq!(app.redis_stock(&b).await, 7);
}

#[tokio::test]
async fn one_idempotency_key_makes_one_order_even_at_once() {
    let app = Arc::new(spawn_app().await);
    let product = app.product(50, "1.00").await;
    let user = app.user().await;
    let items = json!([{"product_id": product, "quantity": 1}]);
    let first = app.place_order(&user, "same-key", items.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app.place_order(&user, "same-key", items.clone()).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    // Ten at once with a fresh key, from a user with no order yet.
    let other = app.user().await;
    let results = join_all((0..10).map(|_| app.place_order(&other, "burst", items.clone()))).await;
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for res in results {
        let status = res.status().as_u16();
        assert!(status == 201 || status == 200, "{status}");
        created += usize::from(status == 201);
        let body: Value = res.json().await.unwrap();
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!((created, ids.len()), (1, 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, 2);
    assert_eq!(app.redis_stock(&product).await, 48);
}

#[tokio::test]
async fn a_second_unpaid_order_is_refused_with_the_first_ones_id() {
    let app = spawn_app().await;
    let product = app.product(10, "1.00").await;
    let user = app.user().await;
    let first: Value = app.order_body(&user, &product, 1).await;
    let (status, body) = error_code(app.order_one(&user, &product, 1).await).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "unpaid_order_exists");
    assert_eq!(body["error"]["order_id"], first["id"]);
    assert_eq!(app.redis_stock(&product).await, 9);
}

#[tokio::test]
async fn closing_returns_the_stock_exactly_once() {
    let app = spawn_app().await;
    let product = app.product(10, "1.00").await;
    let user = app.user().await;
    let order: Value = app.order_body(&user, &product, 4).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(app.redis_stock(&product).await, 6);
    let res = app.close(&user, id).await;
    assert_eq!(res.status(), 200);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(app.redis_stock(&product).await, 10);
    let (status, body) = error_code(app.close(&user, id).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("order_not_closable"))
    );
    // A replayed give-back (a duplicate message, a retry) changes nothing.
    let given = app
        .state
        .stock
        .give_back(id.parse().unwrap(), &[(product.parse().unwrap(), 4)])
        .await
        .unwrap();
    assert!(!given);
    assert_eq!(app.redis_stock(&product).await, 10);
    assert_eq!(app.db_available(&product).await, 10);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM chat_order_history WHERE order_id = {id} AND order_status = {}",
            OrderStatus::Closed.code()
        ))
        .await,
        1
    );
    // Closed, the user may order again.
    assert_eq!(app.order_one(&user, &product, 1).await.status(), 201);
}

#[tokio::test]
async fn a_buyers_close_racing_the_timeout_gives_stock_back_once() {
    let app = Arc::new(spawn_app().await);
    let product = app.product(100, "1.00").await;
    let mut orders = Vec::new();
    for _ in 0..100 {
        let user = app.user().await;
        let order: Value = app.order_body(&user, &product, 1).await;
        orders.push((user, order["id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(app.redis_stock(&product).await, 0);
    // One race at a time, a hundred times: the buyer's close and the timeout
    // start together.
    let mut outcomes = Vec::new();
    for (user, id) in &orders {
        let outcome = {
            let app = app.clone();
            let path = format!("/api/orders/{id}/close");
            let close = app.post(user, &path, json!({}));
            // A small random head start either way, so both sides win some races.
            let delay = Duration::from_micros(rand::random::<u64>() % 3000);
            let timeout = async {
                tokio::time::sleep(delay).await;
                paychat_orders::payments::settle::settle_with_payment(
                    &app.state,
                    id.parse().unwrap(),
                    "payment window expired",
                )
                .await
            };
            let (res, settled) = tokio::join!(close, timeout);
            (res.status().as_u16(), settled.unwrap())
        };
        outcomes.push(outcome);
    }
    let now = Settled::Closed(Closed::Now);
    let by_timeout = outcomes.iter().filter(|(_, s)| *s == now).count();
    let refused = outcomes.iter().filter(|(status, _)| *status == 409).count();
    // The buyer hears 200 (closed, by either side) or 409 when the timeout had
    // already closed it before the request looked; never anything else.
    assert!(
        outcomes
            .iter()
            .all(|(status, s)| *status == 200 || (*status == 409 && *s == now)),
        "{outcomes:?}"
    );
    eprintln!(
        "close vs timeout: {by_timeout} closed by the timeout, {} by the buyer, {refused} buyer requests came too late",
        100 - by_timeout
    );
    assert_eq!(app.redis_stock(&product).await, 100);
    assert_eq!(app.db_available(&product).await, 100);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM chat_order_history WHERE order_status = {}",
            OrderStatus::Closed.code()
        ))
        .await,
        100
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM chat_order WHERE status = {}",
            OrderStatus::Closed.code()
        ))
        .await,
        100
    );
}

async fn assert_nothing_changed(app: &TestApp, product: &str) {
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_order_idempotency")
            .await,
        0
    );
    assert_eq!(app.redis_stock(product).await, 10);
}

#[tokio::test]
async fn bad_order_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let product = app.product(10, "1.00").await;
    let user = app.user().await;
    for quantity in [
        json!(0),
        json!(-1),
        json!("2"),
        json!(1e30),
        json!(101),
        json!(1.5),
    ] {
        let (status, body) = error_code(
            app.place_order(
                &user,
                "k",
                json!([{"product_id": product, "quantity": quantity}]),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_request")),
            "{quantity}"
        );
    }
    let raw = format!(
        r#"{{"items": [{{"product_id": "{product}", "quantity": 99999999999999999999999}}]}}"#
    );
    let res = app
        .client
        .post(app.url("/api/orders"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", "k")
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "invalid_request").await;
    let (status, body) = error_code(
        app.place_order(&user, "k", json!([{"product_id": "999", "quantity": 1}]))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("product_not_found"))
    );
    assert_error(
        app.place_order(&user, "k", json!([])).await,
        400,
        "invalid_request",
    )
    .await;
    let dup =
        json!([{"product_id": product, "quantity": 1}, {"product_id": product, "quantity": 1}]);
    let (status, _) = error_code(app.place_order(&user, "k", dup).await).await;
    assert_eq!(status, 400);
    let many: Vec<Value> = (1..=21)
        .map(|i| json!({"product_id": i.to_string(), "quantity": 1}))
        .collect();
    assert_error(
        app.place_order(&user, "k", json!(many)).await,
        400,
        "invalid_request",
    )
    .await;
    // 10,000 items are more than the 64 KiB a body may hold: refused before parsing.
    let huge: Vec<Value> = (1..=10_000)
        .map(|i| json!({"product_id": i, "quantity": 1}))
        .collect();
    assert_error(
        app.place_order(&user, "k", json!(huge)).await,
        413,
        "payload_too_large",
    )
    .await;
    let long_remark =
        json!({"items": [{"product_id": product, "quantity": 1}], "remark": "x".repeat(501)});
    let res = app
        .client
        .post(app.url("/api/orders"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", "k")
        .json(&long_remark)
        .send()
        .await
        .unwrap();
    let (status, body) = error_code(res).await;
    assert_eq!(
        (status, body["error"]["fields"]["remark"].is_string()),
        (400, true)
    );
    for key in [None, Some("x".repeat(65))] {
        let mut req = app
            .client
            .post(app.url("/api/orders"))
            .bearer_auth(&user.token)
            .json(&json!({"items": [{"product_id": product, "quantity": 1}]}));
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        assert_error(req.send().await.unwrap(), 400, "invalid_request").await;
    }
    let res = app
        .client
        .post(app.url("/api/orders"))
        .header("Idempotency-Key", "k")
        .json(&json!({"items": [{"product_id": product, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_nothing_changed(&app, &product).await;
}

#[tokio::test]
async fn another_users_order_is_not_found_and_lists_are_mine() {
    let app = spawn_app().await;
    let product = app.product(10, "1.00").await;
    let (me, other) = (app.user().await, app.user().await);
    let mine: Value = app.order_body(&me, &product, 1).await;
    let id = mine["id"].as_str().unwrap();
    for res in [
        app.get(&other, &format!("/api/orders/{id}")).await,
        app.close(&other, id).await,
        app.post(&other, &format!("/api/orders/{id}/pay"), json!({}))
            .await,
    ] {
        assert_error(res, 404, "not_found").await;
    }
    let (status, body) = error_code(
        app.post(&me, &format!("/api/orders/{id}/pay"), json!({}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("payment_unavailable"))
    );
    assert_eq!(app.order_status(id).await, OrderStatus::AwaitingPayment);

    // Three orders of mine, paginated newest first, filtered by status.
    app.close(&me, id).await;
    let second: Value = app.order_body(&me, &product, 1).await;
    app.post(
        &me,
        &format!("/api/orders/{}/close", second["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let third: Value = app.order_body(&me, &product, 1).await;
    let page: Value = app
        .get(&me, "/api/orders?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], third["id"]);
    assert_eq!(page["items"][1]["id"], second["id"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&me, &format!("/api/orders?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["id"], mine["id"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let closed: Value = app
        .get(&me, "/api/orders?status=closed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["items"].as_array().unwrap().len(), 2);
    let theirs: Value = app.get(&other, "/api/orders").await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));

    let admin = app.admin().await;
    let all: Value = app
        .get(
            &admin,
            &format!(
                "/api/admin/orders?status=awaiting_payment&user_id={}",
                me.id
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["id"], third["id"]);
    assert_eq!(all["items"][0]["user_id"], me.id.to_string());
}

#[tokio::test]
async fn seckill_products_get_the_short_window() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = app
        .create_product(
            &admin,
            json!({"name": "Flash", "price": "0.99", "reward_use_times": 5,
                                       "stock": 3, "expires_days": 0, "seckill": true}),
        )
        .await;
    let product: Value = res.json().await.unwrap();
    let user = app.user().await;
    let order: Value = app
        .order_one(&user, product["id"].as_str().unwrap(), 1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["type"], "seckill");
    let created =
        chrono::DateTime::parse_from_rfc3339(order["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(order["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 300);
}

/// Every row an order writes, joined: one line per complete order.
const COMPLETE_ORDERS: &str = "SELECT COUNT(*) FROM chat_order o \
     JOIN chat_order_item i ON i.order_id = o.id \
     JOIN chat_order_history h ON h.order_id = o.id AND h.user_id = o.user_id \
     JOIN chat_order_idempotency k ON k.order_id = o.id AND k.user_id = o.user_id \
     JOIN chat_order_outbox b ON b.order_id = o.id";

#[tokio::test]
async fn many_buyers_at_once_each_get_their_own_complete_order() {
    let app = Arc::new(spawn_app().await);
    let product = app.product(1000, "2.50").await;
    let mut users = Vec::new();
    for _ in 0..150 {
        users.push(app.user().await);
    }
    let results = join_all(users.iter().enumerate().map(|(n, u)| {
        let app = app.clone();
        let product = product.clone();
        let quantity = 1 + (n % 3) as i64;
        async move {
            let key = format!("many-{n}");
            let res = app
                .place_order(
                    u,
                    &key,
                    json!([{"product_id": product, "quantity": quantity}]),
                )
                .await;
            let (status, body) = error_code(res).await;
            (u.id, key, quantity, status, body)
        }
    }))
    .await;
    let mut units = 0;
    for (user_id, key, quantity, status, body) in &results {
        assert_eq!(*status, 201, "{body}");
        units += quantity;
        let id: i64 = body["id"].as_str().unwrap().parse().unwrap();
        let (owner, total): (i64, rust_decimal::Decimal) =
            sqlx::query_as("SELECT user_id, total_amount FROM chat_order WHERE id = ?")
                .bind(id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(owner, *user_id);
        assert_eq!(total, rust_decimal::Decimal::new(250 * quantity, 2));
        assert_eq!(body["total_amount"], total.to_string());
        let (item_quantity,): (i32,) =
            sqlx::query_as("SELECT exchange_num FROM chat_order_item WHERE order_id = ?")
                .bind(id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(i64::from(item_quantity), *quantity);
        let keyed: i64 = sqlx::query_scalar(
            "SELECT order_id FROM chat_order_idempotency WHERE user_id = ? AND idem_key = ?",
        )
        .bind(user_id)
        .bind(key)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(keyed, id);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, 150);
    assert_eq!(app.count(COMPLETE_ORDERS).await, 150);
    for table in ["chat_order_item", "chat_order_history", "chat_order_outbox"] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            150,
            "{table}"
        );
    }
    assert_eq!(app.redis_stock(&product).await, 1000 - units);
    assert_eq!(app.db_available(&product).await, 1000 - units);
}

/// Orders held back while every writer is stuck end up written together in
/// one batch; a duplicate idempotency key and a second unpaid order among
/// them fail that batch, and each order must still get its own answer.
#[tokio::test]
async fn a_batch_with_conflicting_orders_still_answers_each_order_rightly() {
    let app = Arc::new(spawn_app_with(&[("order_lock_ms", "100".into())]).await);
    let product = app.product(100, "1.00").await;
    let mut expected_stock = 100;
    let place = |user: Arc<User>, key: String| {
        let app = app.clone();
        let product = product.clone();
        tokio::spawn(async move {
            let res = app
                .place_order(&user, &key, json!([{"product_id": product, "quantity": 1}]))
                .await;
            error_code(res).await
        })
    };
    let reserved = |units: i64| {
        let app = app.clone();
        let product = product.clone();
        async move {
            assert!(
                eventually(Duration::from_secs(10), || async {
                    app.redis_stock(&product).await == units
                })
                .await,
                "stock never reached {units}"
            );
        }
    };

    // An uncommitted idempotency key per writer holds that writer's first
    // order (with the same key) inside its INSERT until it is rolled back.
    // All are written before any order comes: inserting more while a writer
    // waits on this transaction would make the two wait on each other.
    let mut blocking = app.db.begin().await.unwrap();
    let mut held = Vec::new();
    for n in 0..paychat_orders::orders::writer::WRITERS {
        let user = Arc::new(app.user().await);
        let key = format!("blocked-{n}");
        sqlx::query(
            "INSERT INTO chat_order_idempotency (id, user_id, idem_key, order_id) VALUES (?, ?, ?, 1)",
        )
        .bind(app.state.ids.next())
        .bind(user.id)
        .bind(&key)
        .execute(&mut *blocking)
        .await
        .unwrap();
        held.push((user, key));
    }
    let mut blockers = Vec::new();
    for (user, key) in held {
        blockers.push(place(user, key));
        expected_stock -= 1;
        reserved(expected_stock).await;
        // Let a writer take it alone before the next one comes.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut plain = Vec::new();
    for n in 0..10 {
        plain.push(place(Arc::new(app.user().await), format!("plain-{n}")));
    }
    expected_stock -= 10;
    reserved(expected_stock).await;
    // The same user twice: once with one key (the second is a replay), once
    // with two keys (the second is a second unpaid order). Each second request
    // comes after the first reserved its stock and takes the user's lock once
    // it has expired: both get past the checks, nothing being committed yet.
    let same_key = Arc::new(app.user().await);
    let two_keys = Arc::new(app.user().await);
    let mut pairs = Vec::new();
    for (user, keys) in [(&same_key, ["same", "same"]), (&two_keys, ["one", "two"])] {
        for key in keys {
            pairs.push(place(user.clone(), key.to_owned()));
            expected_stock -= 1;
            reserved(expected_stock).await;
        }
    }

    blocking.rollback().await.unwrap();
    for blocker in blockers {
        assert_eq!(blocker.await.unwrap().0, 201);
    }
    for order in plain {
        let (status, body) = order.await.unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let mut answers = Vec::new();
    for pair in pairs {
        answers.push(pair.await.unwrap());
    }
    let (first, replay) = (&answers[0], &answers[1]);
    assert_eq!((first.0, replay.0), (201, 200), "{answers:?}");
    assert_eq!(first.1["id"], replay.1["id"]);
    let (first, second) = (&answers[2], &answers[3]);
    assert_eq!(first.0, 201, "{answers:?}");
    assert_eq!(second.0, 409, "{answers:?}");
    assert_eq!(second.1["error"]["code"], "unpaid_order_exists");
    assert_eq!(second.1["error"]["order_id"], first.1["id"]);

    // The blockers, ten plain orders and one of each pair; the two refused
    // requests got their units back.
    let written = i64::try_from(paychat_orders::orders::writer::WRITERS).unwrap() + 12;
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, written);
    assert_eq!(app.count(COMPLETE_ORDERS).await, written);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_order_idempotency")
            .await,
        written
    );
    assert_eq!(app.redis_stock(&product).await, 100 - written);
    assert_eq!(app.db_available(&product).await, 100 - written);
}

#[tokio::test]
async fn a_closed_order_says_why_it_closed() {
    let app = spawn_app_with(&[
        ("payment_window_secs", "2".into()),
        ("sweeper_interval_secs", "3600".into()),
    ])
    .await;
    let product = app.product(5, "1.00").await;
    let me = app.user().await;

    // Closed by the buyer.
    let mine = app.order_id(&me, &product, 1).await;
    let open: Value = app
        .get(&me, &format!("/api/orders/{mine}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["close_reason"], Value::Null, "{open}");
    let closed: Value = app.close(&me, &mine).await.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "buyer", "{closed}");

    // Closed when its payment window ran out.
    let late = app.order_id(&me, &product, 1).await;
    assert!(
        app.order_reaches(&late, OrderStatus::Closed, Duration::from_secs(15))
            .await
    );
    let list: Value = app.get(&me, "/api/orders").await.json().await.unwrap();
    let reasons: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap(),
                o["close_reason"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![(late.as_str(), "timeout"), (mine.as_str(), "buyer")]
    );
    let one: Value = app
        .get(&me, &format!("/api/orders/{late}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["close_reason"], "timeout");
}
