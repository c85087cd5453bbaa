//! orders on a real Redis Cluster (`scripts/cluster.sh redis-up`): every
//! script, transaction and pipeline it runs keeps its keys in one slot. The
//! app is configured with `redis_cluster_nodes` and driven over HTTP; what a
//! single node would accept and a cluster refuses (CROSSSLOT) fails here.

use std::time::Duration;

use paychat_common::testing;
use paychat_orders::states::OrderStatus;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

async fn cluster_app() -> Option<TestApp> {
    let nodes = testing::redis_cluster_nodes()?;
    let app = spawn_app_with(&[("redis_cluster_nodes", nodes)]).await;
    assert!(app.state.redis.is_cluster());
    assert!(app.becomes_ready().await, "orders not ready on the cluster");
    Some(app)
}

#[tokio::test]
async fn stock_reservation_give_back_and_the_order_lock_run_on_a_cluster() {
    let Some(app) = cluster_app().await else {
        return;
    };
    let (a, b) = (app.product(5, "2.00").await, app.product(3, "1.50").await);
    let user = app.user().await;
    // Two products in one order: one reservation script over both stock keys.
    let res = app
        .place_order(
            &user,
            &testing::unique("k"),
            json!([{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 3}]),
        )
        .await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(
        (app.redis_stock(&a).await, app.redis_stock(&b).await),
        (3, 0)
    );
    // Sold out: all or nothing, nothing changes.
    let other = app.user().await;
    let res = app
        .place_order(
            &other,
            &testing::unique("k"),
            json!([{"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 1}]),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        (app.redis_stock(&a).await, app.redis_stock(&b).await),
        (3, 0)
    );
    // Closing gives both back once; a replayed give-back changes nothing.
    assert_eq!(app.close(&user, id).await.status(), 200);
    assert_eq!(
        (app.redis_stock(&a).await, app.redis_stock(&b).await),
        (5, 3)
    );
    let again = app
        .state
        .stock
        .give_back(
            id.parse().unwrap(),
            &[(a.parse().unwrap(), 2), (b.parse().unwrap(), 3)],
        )
        .await
        .unwrap();
    assert!(!again);
    assert_eq!(
        (app.redis_stock(&a).await, app.redis_stock(&b).await),
        (5, 3)
    );
    // The per-user lock (SET NX, compare-and-delete) lets the next order through.
    assert_eq!(app.order_one(&user, &a, 1).await.status(), 201);
}

#[tokio::test]
async fn sales_counters_are_built_counted_once_and_ranked_on_a_cluster() {
    let Some(app) = cluster_app().await else {
        return;
    };
    let product = app.product(10, "3.00").await;
    let user = app.user().await;
    let id: i64 = app.order_id(&user, &product, 2).await.parse().unwrap();
    // Paid and fulfilled as the payment path leaves it (that path has its own tests).
    sqlx::query("UPDATE chat_order SET status = ?, pay_time = NOW(3) WHERE id = ?")
        .bind(OrderStatus::Completed)
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    // The rebuild's transaction, then the order counted by the record script,
    // once however often it completes.
    paychat_orders::stats::ledger::rebuild(&app.state)
        .await
        .unwrap();
    paychat_orders::stats::ledger::order_completed(&app.state, id).await;
    let admin = app.admin().await;
    let hot = crate::helpers::eventually(Duration::from_secs(5), || async {
        let res = app
            .get(
                &admin,
                "/api/admin/stats/hot-products?by=units&days=30&limit=10",
            )
            .await;
        res.status() == 200 && {
            let body: Value = res.json().await.unwrap();
            body["items"][0]["product_id"] == json!(product) && body["items"][0]["units"] == 2
        }
    })
    .await;
    assert!(
        hot,
        "the ranking over the day keys did not show the order once"
    );
    let summary: Value = app
        .get(&admin, "/api/admin/stats/summary")
        .await
        .json()
        .await
        .unwrap();
    assert!(summary.to_string().contains("6.00"), "{summary}");
}
