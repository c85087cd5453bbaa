//! A sold-out order is refused from Redis alone: no statement reaches the
//! database, seen in MariaDB's own process list (each connection's last
//! query id moves with every statement it runs, prepared or not).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::{Connection, MySqlConnection};

use crate::helpers::{TestApp, error_code, spawn_app_with};

/// The service's background jobs wait an hour between passes, so every
/// statement on its connections while the test watches comes from requests.
async fn quiet_app() -> TestApp {
    let hour = |k: &'static str, v: &str| (k, v.to_owned());
    spawn_app_with(&[
        hour("outbox_interval_ms", "3600000"),
        hour("sweeper_interval_secs", "3600"),
        hour("fulfilment_retry_interval_secs", "3600"),
        hour("stock_reconcile_interval_secs", "3600"),
        hour("reconcile_interval_secs", "3600"),
    ])
    .await
}

/// Every other connection to the test's database and the id of the last
/// statement it ran.
async fn statements(watcher: &mut MySqlConnection) -> BTreeMap<i64, i64> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT ID, QUERY_ID FROM information_schema.PROCESSLIST \
         WHERE DB = DATABASE() AND ID <> CONNECTION_ID()",
    )
    .fetch_all(watcher)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// The connections once nothing runs on them any more (the jobs' first
/// passes at start are done).
async fn settled(watcher: &mut MySqlConnection) -> BTreeMap<i64, i64> {
    let mut last = statements(watcher).await;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = statements(watcher).await;
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the service's connections never went quiet: {last:?}");
}

#[tokio::test]
async fn sold_out_orders_are_refused_without_any_sql() {
    let app = Arc::new(quiet_app().await);
    let product = app.product(1, "1.00").await;
    let winner = app.user().await;
    assert_eq!(app.order_one(&winner, &product, 1).await.status(), 201);
    let mut buyers = Vec::new();
    for _ in 0..40 {
        buyers.push(app.user().await);
    }
    // The winner's order woke the outbox relay, whose first pass connects to
    // the broker (a plugin probe, then the declarations) before it marks the
    // row sent; a quiet spell in between must not pass for the end.
    for _ in 0..100 {
        if app.outbox_pending().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.outbox_pending().await,
        0,
        "the relay published the winner's timeout"
    );
    let mut watcher = MySqlConnection::connect(app.config.common.database_url.expose_secret())
        .await
        .unwrap();
    let before = settled(&mut watcher).await;
    assert!(!before.is_empty(), "the service holds database connections");

    let answers = join_all(buyers.iter().map(|b| {
        let app = app.clone();
        let product = product.clone();
        async move { error_code(app.order_one(b, &product, 1).await).await }
    }))
    .await;
    // The buyer with an unpaid order asks for more: refused by the stock too.
    let again = error_code(app.order_one(&winner, &product, 1).await).await;

    let after = statements(&mut watcher).await;
    assert_eq!(
        after, before,
        "sold-out requests ran statements (connection id -> last query id)"
    );
    for (status, body) in answers.iter().chain([&again]) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["error"]["code"], "out_of_stock");
        assert_eq!(body["error"]["product_id"], product.as_str());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, 1);
    assert_eq!(app.redis_stock(&product).await, 0);
}

#[tokio::test]
async fn a_replayed_key_finds_its_order_after_the_stock_ran_out() {
    let app = quiet_app().await;
    let product = app.product(1, "1.00").await;
    let buyer = app.user().await;
    let items = json!([{"product_id": product, "quantity": 1}]);
    let first = app.place_order(&buyer, "last-unit", items.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(app.redis_stock(&product).await, 0);

    let again = app.place_order(&buyer, "last-unit", items.clone()).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    // A new key of the same buyer is refused: the stock is gone.
    let (status, body) = error_code(app.place_order(&buyer, "another", items).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("out_of_stock"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_order").await, 1);
}

#[tokio::test]
async fn units_taken_by_a_refused_request_go_back_at_once() {
    let app = quiet_app().await;
    let first = app.product(5, "1.00").await;
    let last_unit = app.product(1, "1.00").await;
    let holder = app.user().await;
    app.order_body(&holder, &first, 1).await;

    // The buyer with an unpaid order takes the last unit first, is refused by
    // the database's check, and the unit is back before the answer.
    let (status, body) = error_code(app.order_one(&holder, &last_unit, 1).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("unpaid_order_exists"))
    );
    assert_eq!(app.redis_stock(&last_unit).await, 1);
    let other = app.user().await;
    assert_eq!(app.order_one(&other, &last_unit, 1).await.status(), 201);
    assert_eq!(app.redis_stock(&last_unit).await, 0);
    assert_eq!(app.db_available(&last_unit).await, 0);
}
