//! Redis stock that drifted from the database is repaired on a schedule, and
//! missing stock keys are reloaded when products are listed.

use std::time::Duration;

use paychat_orders::states::OrderStatus;
use serde_json::Value;

use crate::helpers::{TestApp, eventually, spawn_app, spawn_app_with};

async fn redis_cmd(app: &TestApp, cmd: &str, product: &str, arg: Option<i64>) {
    let key = app.state.stock.key(product.parse().unwrap());
    let mut redis = app.state.redis.clone();
    let mut c = redis::cmd(cmd);
    c.arg(&key);
    if let Some(a) = arg {
        c.arg(a);
    }
    let _: redis::Value = c.query_async(&mut redis).await.unwrap();
}

/// Asserts the product's Redis stock comes back to `stock` within six seconds.
async fn assert_repaired(app: &TestApp, product: &str, stock: i64) {
    let repaired = eventually(Duration::from_secs(6), || async {
        app.redis_stock(product).await == stock
    })
    .await;
    assert!(
        repaired,
        "stock not repaired: {}",
        app.redis_stock(product).await
    );
}

#[tokio::test]
async fn leaked_stock_is_repaired_within_one_reconcile_interval() {
    let app = spawn_app_with(&[("stock_reconcile_interval_secs", "1".into())]).await;
    let product = app.product(5, "1.00").await;
    let user = app.user().await;
    app.order_id(&user, &product, 1).await;
    assert_eq!(app.redis_stock(&product).await, 4);

    // Units taken in Redis and never given back (a give-back that failed).
    redis_cmd(&app, "DECRBY", &product, Some(3)).await;
    assert_eq!(app.redis_stock(&product).await, 1);
    assert_repaired(&app, &product, 4).await;

    // And units Redis has too many of.
    redis_cmd(&app, "INCRBY", &product, Some(2)).await;
    assert_repaired(&app, &product, 4).await;
}

#[tokio::test]
async fn products_reload_stock_keys_redis_lost() {
    let app = spawn_app().await;
    let a = app.product(7, "1.00").await;
    let b = app.product(3, "2.00").await;
    let user = app.user().await;
    app.order_id(&user, &a, 2).await;

    // Redis restarted empty: only this test's keys go.
    redis_cmd(&app, "DEL", &a, None).await;
    redis_cmd(&app, "DEL", &b, None).await;
    let list: Value = app
        .get_anonymous("/api/products")
        .await
        .json()
        .await
        .unwrap();
    let stock_of = |id: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["stock"].clone())
    };
    assert_eq!(stock_of(&a), Some(5.into()));
    assert_eq!(stock_of(&b), Some(3.into()));
    assert_eq!(app.redis_stock(&a).await, 5);
    assert_eq!(app.redis_stock(&b).await, 3);

    redis_cmd(&app, "DEL", &a, None).await;
    let one: Value = app
        .get_anonymous(&format!("/api/products/{a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["stock"], 5);
    assert_eq!(app.redis_stock(&a).await, 5);
}

#[tokio::test]
async fn a_give_back_that_fails_is_counted_and_the_count_repaired() {
    let app = spawn_app_with(&[("stock_reconcile_interval_secs", "1".into())]).await;
    let product = app.product(3, "1.00").await;
    let user = app.user().await;
    let order = app.order_id(&user, &product, 1).await;
    // The recorder starts with the first scrape.
    app.get_anonymous("/metrics").await;

    // The key holds the wrong type: Redis refuses the give-back of the close.
    redis_cmd(&app, "DEL", &product, None).await;
    let key = app.state.stock.key(product.parse().unwrap());
    let mut redis = app.state.redis.clone();
    let _: i64 = redis::cmd("HSET")
        .arg(&key)
        .arg("units")
        .arg(1)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(app.close(&user, &order).await.status(), 200);
    assert_eq!(app.order_status(&order).await, OrderStatus::Closed);
    let metrics = app.get_anonymous("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("stock_giveback_failures_total{path=\"close\"} 1")),
        "{metrics}"
    );

    // Once the key is usable again the schedule puts the unit back.
    redis_cmd(&app, "DEL", &product, None).await;
    assert_repaired(&app, &product, 3).await;
}
