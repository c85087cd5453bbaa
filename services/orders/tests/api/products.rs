use std::collections::HashSet;

use paychat_orders::codes::code::RedemptionCode;
use paychat_orders::states::ProductStatus;
use serde_json::{Value, json};

use crate::helpers::{assert_error, error_code, spawn_app};

#[tokio::test]
async fn creating_a_product_makes_as_many_unique_codes_that_parse() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = app
        .create_product(
            &admin,
            json!({"name": "Starter", "description": "100 chats", "price": "9.9",
                   "reward_use_times": 100, "stock": 2500, "expires_days": 30}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["price"], "9.90");
    assert_eq!(body["stock"], 2500);
    assert_eq!(body["seckill"], false);
    let id: i64 = body["id"].as_str().unwrap().parse().unwrap();

    let codes: Vec<(String, i32, Option<i32>)> = sqlx::query_as(
        "SELECT code, reward_use_times, expires_days FROM chat_exchange WHERE product_id = ?",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(codes.len(), 2500);
    let unique: HashSet<&str> = codes.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(unique.len(), 2500);
    for (code, reward, days) in &codes {
        assert_eq!(RedemptionCode::parse(code).unwrap().as_str(), code);
        assert_eq!((*reward, *days), (100, Some(30)));
    }

    // Adding stock adds codes and Redis units.
    let res = app
        .post(
            &admin,
            &format!("/api/admin/products/{id}/stock"),
            json!({"add": 500}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["stock"], 3000);
    assert_eq!(body["db_stock"], 3000);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM chat_exchange WHERE product_id = {id}"
        ))
        .await,
        3000
    );
    assert_eq!(app.redis_stock(&id.to_string()).await, 3000);
}

#[tokio::test]
async fn products_list_enabled_ones_by_sales_with_redis_stock() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let a = app.product(5, "1.00").await;
    let b = app.product(7, "2.50").await;
    sqlx::query("UPDATE chat_product SET sale = 9 WHERE id = ?")
        .bind(b.parse::<i64>().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let list: Value = app
        .get_anonymous("/api/products?limit=4")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![b.as_str(), a.as_str()]);
    assert_eq!(list["items"][0]["stock"], 7);
    assert_eq!(list["items"][0]["price"], "2.50");

    // Disabled: gone from the list and from GET.
    let res = app
        .client
        .patch(app.url(&format!("/api/admin/products/{a}")))
        .bearer_auth(&admin.token)
        .json(&json!({"enabled": false, "price": "3.00", "name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["enabled"].clone(), body["price"].clone()),
        (json!(false), json!("3.00"))
    );
    let res = app.get_anonymous(&format!("/api/products/{a}")).await;
    assert_error(res, 404, "product_not_found").await;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT name FROM chat_exchange WHERE product_id = ?")
            .bind(a.parse::<i64>().unwrap())
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(names, vec!["Renamed".to_owned()]);
    let res = app.get_anonymous(&format!("/api/products/{b}")).await;
    assert_eq!(res.status(), 200);
    let res = app.get_anonymous("/api/products/12345").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn products_page_through_every_enabled_one_by_sales_then_age() {
    let app = spawn_app().await;
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(app.product(3, "1.00").await);
    }
    // Sales: the fifth sells best, the second next; the rest tie at 0 (oldest first).
    for (i, sale) in [(4, 9), (1, 4)] {
        sqlx::query("UPDATE chat_product SET sale = ? WHERE id = ?")
            .bind(sale)
            .bind(made[i].parse::<i64>().unwrap())
            .execute(&app.db)
            .await
            .unwrap();
    }
    // A disabled one is not listed.
    sqlx::query("UPDATE chat_product SET status = ? WHERE id = ?")
        .bind(ProductStatus::Disabled)
        .bind(made[6].parse::<i64>().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let expected: Vec<&str> = [4, 1, 0, 2, 3, 5]
        .iter()
        .map(|&i| made[i].as_str())
        .collect();

    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => "/api/products?limit=4".to_owned(),
            Some(c) => format!("/api/products?limit=4&cursor={c}"),
        };
        let res = app.get_anonymous(&path).await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 4);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the cursor does not advance");
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, expected);

    // All of them in one page, the last page says so.
    let one: Value = app
        .get_anonymous("/api/products?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["items"].as_array().unwrap().len(), 6);
    assert_eq!(one["next_cursor"], Value::Null);

    for bad in ["x", "1_", "_2", "9_abc"] {
        let res = app
            .get_anonymous(&format!("/api/products?cursor={bad}"))
            .await;
        assert_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn admin_endpoints_are_for_admins_only() {
    let app = spawn_app().await;
    let user = app.user().await;
    let product = app.product(1, "1.00").await;
    let calls = [
        ("POST", "/api/admin/products".to_owned()),
        ("PATCH", format!("/api/admin/products/{product}")),
        ("POST", format!("/api/admin/products/{product}/stock")),
        ("GET", "/api/admin/orders".to_owned()),
        ("POST", "/api/admin/stock/reconcile".to_owned()),
    ];
    for (method, path) in &calls {
        let method: reqwest::Method = method.parse().unwrap();
        // Without a session, then as a user who is not an admin.
        for (token, expected) in [
            (None, (401, "unauthorized")),
            (Some(&user.token), (403, "forbidden")),
        ] {
            let mut req = app
                .client
                .request(method.clone(), app.url(path))
                .json(&json!({}));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let (status, body) = error_code(req.send().await.unwrap()).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (expected.0, Some(expected.1)),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn invalid_products_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for bad in [
        json!({"name": "", "price": "1.00", "reward_use_times": 1, "stock": 1, "expires_days": 0}),
        json!({"name": "x", "price": "1.001", "reward_use_times": 1, "stock": 1, "expires_days": 0}),
        json!({"name": "x", "price": "-1", "reward_use_times": 1, "stock": 1, "expires_days": 0}),
        json!({"name": "x", "price": "1", "reward_use_times": 0, "stock": 1, "expires_days": 0}),
        json!({"name": "x", "price": "1", "reward_use_times": 1, "stock": 100001, "expires_days": 0}),
    ] {
        let (status, body) = error_code(app.create_product(&admin, bad.clone()).await).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_request")),
            "{bad}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_product").await, 0);
}

#[tokio::test]
async fn reconcile_repairs_redis_from_the_database() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(10, "1.00").await;
    let buyer = app.user().await;
    assert_eq!(app.order_one(&buyer, &product, 3).await.status(), 201);
    assert_eq!(app.redis_stock(&product).await, 7);
    app.state
        .stock
        .set(product.parse().unwrap(), 42)
        .await
        .unwrap();
    let res = app
        .post(&admin, "/api/admin/stock/reconcile", json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["differences"][0]["product_id"], product.as_str());
    assert_eq!(report["differences"][0]["redis"], 42);
    assert_eq!(report["differences"][0]["database"], 7);
    assert_eq!(report["differences"][0]["repaired"], true);
    assert_eq!(app.redis_stock(&product).await, 7);
}
