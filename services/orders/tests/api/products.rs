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

/// The ids of the enabled products, paging through `/api/products` with `limit`.
async fn page_through(app: &crate::helpers::TestApp, limit: u32) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let path = match &cursor {
            None => format!("/api/products?limit={limit}"),
            Some(c) => format!("/api/products?limit={limit}&cursor={c}"),
        };
        let res = app.get_anonymous(&path).await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
    panic!("the cursor does not advance");
}

#[tokio::test]
async fn products_follow_the_admins_sort_order_then_sales_then_age() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // Made in this order; a later one with a lower sort_order comes first.
    let mut made = Vec::new();
    for sort_order in [5, 5, 0, 5, 2, 0, 9] {
        let res = app
            .create_product(
                &admin,
                json!({"name": "Pack", "price": "1.00", "reward_use_times": 10, "stock": 3,
                       "sort_order": sort_order}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["sort_order"], sort_order);
        made.push(body["id"].as_str().unwrap().to_owned());
    }
    // Within sort_order 5, the fourth sells best; the first two tie (oldest first).
    sqlx::query("UPDATE chat_product SET sale = 3 WHERE id = ?")
        .bind(made[3].parse::<i64>().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    // Sales do not beat a lower sort_order.
    sqlx::query("UPDATE chat_product SET sale = 50 WHERE id = ?")
        .bind(made[6].parse::<i64>().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let expected: Vec<String> = [2, 5, 4, 3, 0, 1, 6]
        .iter()
        .map(|&i| made[i].clone())
        .collect();

    let first: Value = app
        .get_anonymous("/api/products?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0]["id"], made[2].as_str());
    assert_eq!(first["items"][0]["sort_order"], 0);
    for limit in [1, 2, 3, 100] {
        assert_eq!(page_through(&app, limit).await, expected, "limit {limit}");
    }

    // The admin moves the last one to the front; paging follows.
    let res = app
        .client
        .patch(app.url(&format!("/api/admin/products/{}", made[6])))
        .bearer_auth(&admin.token)
        .json(&json!({"sort_order": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["sort_order"], 0);
    let expected: Vec<String> = [6, 2, 5, 4, 3, 0, 1]
        .iter()
        .map(|&i| made[i].clone())
        .collect();
    assert_eq!(page_through(&app, 2).await, expected);

    // The admin list shows it and orders the same way (disabled ones included).
    let res = app.get(&admin, "/api/admin/products").await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(list["items"][0]["sort_order"], 0);
    assert_eq!(list["items"][6]["sort_order"], 5);

    // A cursor from before the sort order, or an unreadable one, is refused.
    for bad in ["1_2", "x_1_2", "1__2", "1_2_"] {
        let res = app
            .get_anonymous(&format!("/api/products?cursor={bad}"))
            .await;
        assert_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_bad_sort_order_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for bad in [json!(-1), json!(1_000_001), json!(1.5), json!("3")] {
        let (status, body) = error_code(
            app.create_product(
                &admin,
                json!({"name": "x", "price": "1", "reward_use_times": 1, "stock": 1,
                       "sort_order": bad}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "invalid_request", "{bad}");
        if bad.is_i64() {
            assert!(body["error"]["fields"]["sort_order"].is_string(), "{body}");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_product").await, 0);

    let product = app.product(2, "1.00").await;
    for bad in [-1, 1_000_001] {
        let res = app
            .client
            .patch(app.url(&format!("/api/admin/products/{product}")))
            .bearer_auth(&admin.token)
            .json(&json!({"sort_order": bad, "name": "Renamed"}))
            .send()
            .await
            .unwrap();
        let (status, body) = error_code(res).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "invalid_request");
        assert!(body["error"]["fields"]["sort_order"].is_string(), "{body}");
    }
    let (name, sort_order): (String, i32) =
        sqlx::query_as("SELECT name, sort_order FROM chat_product WHERE id = ?")
            .bind(product.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), sort_order), ("Pack", 0));

    // The bounds themselves are fine.
    for ok in [0, 1_000_000] {
        let res = app
            .client
            .patch(app.url(&format!("/api/admin/products/{product}")))
            .bearer_auth(&admin.token)
            .json(&json!({"sort_order": ok}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["sort_order"], ok);
    }
}
