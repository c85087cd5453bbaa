//! The Codes panel: states, disabling (a disabled code cannot be redeemed; an
//! unsold one takes its unit out of stock), and the CSV of unsold codes.

use paychat_orders::code_console::export::HEADER;
use serde_json::{Value, json};

use super::{audit_row, audit_rows};
use crate::helpers::{TestApp, User, assert_error, spawn_app};

/// The product's codes in id order.
async fn codes_of(app: &TestApp, product: &str) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, code FROM chat_exchange WHERE product_id = ? ORDER BY id")
        .bind(product.parse::<i64>().unwrap())
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// Sells the codes to `owner` as fulfilment does: bound to a completed order.
async fn sell(app: &TestApp, code_ids: &[i64], owner: &User) -> i64 {
    let order_id = app.state.ids.next();
    sqlx::query(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, pay_time, expire_time) \
         VALUES (?, ?, 5.00, 5.00, 2, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
    )
    .bind(order_id)
    .bind(owner.id)
    .execute(&app.db)
    .await
    .unwrap();
    for id in code_ids {
        sqlx::query(
            "UPDATE chat_exchange SET owner_user_id = ?, order_id = ?, is_occupied = 1, \
             activation_time = UTC_TIMESTAMP(3) WHERE id = ?",
        )
        .bind(owner.id)
        .bind(order_id)
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    }
    order_id
}

async fn listed(app: &TestApp, admin: &User, query: &str) -> Vec<Value> {
    let res = app.get(admin, &format!("/api/admin/codes?{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    let body: Value = res.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn codes_are_listed_by_state_disabled_ones_refused_and_unsold_ones_exported() {
    let app = spawn_app().await;
    let product = app.product(7, "5.00").await;
    let other_product = app.product(2, "1.00").await;
    let codes = codes_of(&app, &product).await;
    let id = |i: usize| codes[i].0;
    let (buyer, admin) = (app.user().await, app.admin().await);
    // 0: redeemed, 1: sold, 2: sold then expired, 3: sold then disabled,
    // 4: disabled while unsold, 5 and 6: unsold.
    sell(&app, &[id(0), id(1), id(2), id(3)], &buyer).await;
    let res = app
        .post(
            &buyer,
            "/api/exchange-codes/redeem",
            json!({"code": codes[0].1}),
        )
        .await;
    assert_eq!(res.status(), 200);
    sqlx::query("UPDATE chat_exchange SET activation_time = UTC_TIMESTAMP(3) - INTERVAL 40 DAY WHERE id = ?")
        .bind(id(2))
        .execute(&app.db)
        .await
        .unwrap();

    // Disabling a sold code: its owner can no longer redeem it.
    let res = app
        .post(
            &admin,
            &format!("/api/admin/codes/{}/disable", id(3)),
            json!({"reason": "leaked"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let disabled: Value = res.json().await.unwrap();
    assert_eq!(disabled["state"], json!("disabled"), "{disabled}");
    let res = app
        .post(
            &buyer,
            "/api/exchange-codes/redeem",
            json!({"code": codes[3].1}),
        )
        .await;
    assert_error(res, 400, "invalid_code").await;
    let target = format!("code:{}", id(3));
    let (actor, before, after, _) = audit_row(&app, "code.disable", &target).await;
    assert_eq!(actor, admin.id);
    assert_eq!(before["state"], json!("sold"));
    assert_eq!(after, json!({"state": "disabled", "reason": "leaked"}));
    // Again: nothing changes, nothing more is audited.
    let res = app
        .post(
            &admin,
            &format!("/api/admin/codes/{}/disable", id(3)),
            json!({"reason": "leaked"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(audit_rows(&app, "code.disable", &target).await, 1);

    // Disabling an unsold code takes its unit out of stock, here and in Redis.
    let stock_before = app.redis_stock(&product).await;
    let res = app
        .post(
            &admin,
            &format!("/api/admin/codes/{}/disable", id(4)),
            json!({"reason": "misprint"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.redis_stock(&product).await, stock_before - 1);
    // A redeemed code cannot be disabled.
    let res = app
        .post(
            &admin,
            &format!("/api/admin/codes/{}/disable", id(0)),
            json!({"reason": "x"}),
        )
        .await;
    assert_error(res, 409, "code_used").await;
    let res = app
        .post(&admin, "/api/admin/codes/1/disable", json!({"reason": "x"}))
        .await;
    assert_error(res, 404, "code_not_found").await;

    let q = |state: &str| format!("product_id={product}&state={state}");
    let want = |is: &[usize]| sorted(is.iter().map(|i| id(*i).to_string()).collect());
    assert_eq!(ids(&listed(&app, &admin, &q("redeemed")).await), want(&[0]));
    assert_eq!(ids(&listed(&app, &admin, &q("sold")).await), want(&[1]));
    assert_eq!(ids(&listed(&app, &admin, &q("expired")).await), want(&[2]));
    assert_eq!(
        ids(&listed(&app, &admin, &q("disabled")).await),
        want(&[3, 4])
    );
    assert_eq!(
        ids(&listed(&app, &admin, &q("unsold")).await),
        want(&[5, 6])
    );
    let all = listed(&app, &admin, &format!("product_id={product}")).await;
    assert_eq!(all.len(), 7);
    let redeemed = all
        .iter()
        .find(|c| c["id"] == json!(id(0).to_string()))
        .unwrap();
    assert_eq!(redeemed["redeemed_by"], json!(buyer.id.to_string()));
    assert_eq!(redeemed["product_id"], json!(product));
    assert!(redeemed["order_id"].is_string());
    assert!(redeemed["expires_at"].is_string());
    // Pages: newest first, the cursor carries on.
    let res = app
        .get(
            &admin,
            &format!("/api/admin/codes?product_id={product}&limit=4"),
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = listed(
        &app,
        &admin,
        &format!("product_id={product}&limit=4&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest.len(), 3);
    let res = app.get(&admin, "/api/admin/codes?state=lost").await;
    assert_error(res, 400, "invalid_request").await;

    // The CSV holds exactly the unsold codes of the product.
    let res = app
        .get(
            &admin,
            &format!("/api/admin/codes/export?product_id={product}&state=unsold"),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{:?}",
        res.headers()
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(HEADER.trim_end()));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let exported: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(exported, want(&[5, 6]));
    for (row, i) in rows.iter().zip([5, 6]) {
        assert_eq!(row[1].replace('-', ""), codes[i].1);
        assert_eq!((row[2], row[3]), (product.as_str(), "unsold"));
    }
    let (actor, _, after, _) = audit_row(&app, "codes.export", &format!("product:{product}")).await;
    assert_eq!(actor, admin.id);
    assert_eq!(after["state"], json!("unsold"));
    // The other product's codes are its own.
    let other = listed(&app, &admin, &format!("product_id={other_product}")).await;
    assert_eq!(other.len(), 2);
    let res = app.get(&admin, "/api/admin/codes/export").await;
    assert_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_export_of_more_than_one_page_streams_every_unsold_code() {
    let app = spawn_app().await;
    let product = app.product(2500, "1.00").await;
    let admin = app.admin().await;
    let res = app
        .get(
            &admin,
            &format!("/api/admin/codes/export?product_id={product}"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let exported: Vec<i64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let all: Vec<i64> = codes_of(&app, &product)
        .await
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(exported, all);
}
