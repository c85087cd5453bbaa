//! Refunds through the console: the gateway, the sandbox Alipay (its own
//! process), once however often it is clicked, refused once a code is used.

use paychat_orders::states::{CodeStatus, OrderStatus};
use serde_json::{Value, json};

use super::{audit_row, audit_rows};
use crate::helpers::{User, assert_error, eventually};
use crate::pay_support::{PayApp, WAIT, pay_app};

/// A buyer's order of `quantity` paid through the sandbox and completed.
async fn completed_order(t: &PayApp, product: &str, quantity: i64) -> (User, String, String) {
    let (buyer, order_id, out_trade_no) = t.order_with_qr(product, quantity).await;
    t.sandbox_pays(&out_trade_no, false).await;
    assert!(
        t.wait_for_status(&order_id, OrderStatus::Completed).await,
        "order not completed"
    );
    (buyer, order_id, out_trade_no)
}

async fn refund(t: &PayApp, admin: &User, order_id: &str) -> reqwest::Response {
    t.app
        .post(
            admin,
            &format!("/api/admin/orders/{order_id}/refund"),
            json!({"reason": "buyer asked"}),
        )
        .await
}

/// Today's revenue on the dashboard's daily chart (kept in Redis).
async fn today_revenue(t: &PayApp, admin: &User) -> String {
    let daily: Value = t
        .app
        .get(admin, "/api/admin/stats/daily?days=1")
        .await
        .json()
        .await
        .unwrap();
    daily["items"][0]["revenue"].as_str().unwrap().to_owned()
}

async fn code_statuses(t: &PayApp, order_id: &str) -> Vec<i8> {
    sqlx::query_scalar("SELECT status FROM chat_exchange WHERE order_id = ? ORDER BY id")
        .bind(order_id.parse::<i64>().unwrap())
        .fetch_all(&t.app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refund_clicked_twice_at_once_reaches_alipay_once() {
    let t = pay_app().await;
    let product = t.app.product(5, "9.90").await;
    let (buyer, order_id, out_trade_no) = completed_order(&t, &product, 2).await;
    let codes = t.owned_codes(&buyer, &order_id).await;
    assert_eq!(codes.len(), 2);
    let admin = t.app.admin().await;
    // The dashboard counts the sale (its Redis counters are built by this read).
    assert_eq!(today_revenue(&t, &admin).await, "19.80");

    let (a, b) = tokio::join!(refund(&t, &admin, &order_id), refund(&t, &admin, &order_id));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let (ok, other) = if a.status() == 200 { (a, b) } else { (b, a) };
    let order: Value = ok.json().await.unwrap();
    assert_eq!(order["status"], json!("refunded"), "{order}");
    assert_eq!(order["refund"]["amount"], json!("19.80"), "{order}");
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["error"]["code"], json!("order_not_refundable"));

    // Alipay saw one refund request, of the whole amount, and closed the trade.
    let (_, trade) = t.sandbox_trade(&out_trade_no).await;
    assert_eq!(trade["refund_requests"], json!(1), "{trade}");
    assert_eq!(trade["refunded"], json!("19.80"), "{trade}");
    assert_eq!(trade["trade_status"], json!("TRADE_CLOSED"), "{trade}");

    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Refunded);
    assert_eq!(t.refunded_history_rows(&order_id).await, 1);
    assert_eq!(
        code_statuses(&t, &order_id).await,
        vec![CodeStatus::Disabled.code(); 2]
    );
    // A revoked code cannot be redeemed.
    let res = t
        .app
        .post(
            &buyer,
            "/api/exchange-codes/redeem",
            json!({"code": codes[0]}),
        )
        .await;
    assert_error(res, 400, "invalid_code").await;
    // The admin's order list finds it by its new status.
    let listed: Value = t
        .app
        .get(&admin, "/api/admin/orders?status=refunded")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], json!(order_id), "{listed}");
    // The buyer sees it refunded.
    assert_eq!(
        t.order_json(&buyer, &order_id).await["status"],
        json!("refunded")
    );

    // One audit row, by this admin, with the state before and after.
    let target = format!("order:{order_id}");
    assert_eq!(audit_rows(&t.app, "order.refund", &target).await, 1);
    let (actor, before, after, ip) = audit_row(&t.app, "order.refund", &target).await;
    assert_eq!(actor, admin.id);
    assert_eq!(before["status"], json!("completed"));
    assert_eq!(after["status"], json!("refunded"));
    assert_eq!(after["revoked_codes"], json!(2));
    assert_eq!(after["reason"], json!("buyer asked"));
    assert_eq!(ip, "127.0.0.1");

    // The dashboard no longer counts the refunded sale, as the database does not.
    assert!(
        eventually(WAIT, || async { today_revenue(&t, &admin).await == "0.00" }).await,
        "the refunded order still counts on the dashboard"
    );

    // Clicked again later: refused, and Alipay is not asked again.
    assert_error(
        refund(&t, &admin, &order_id).await,
        409,
        "order_not_refundable",
    )
    .await;
    let (_, trade) = t.sandbox_trade(&out_trade_no).await;
    assert_eq!(trade["refund_requests"], json!(1), "{trade}");
}

#[tokio::test]
async fn a_refund_is_refused_once_a_code_of_the_order_was_redeemed() {
    let t = pay_app().await;
    let product = t.app.product(5, "3.00").await;
    let (buyer, order_id, out_trade_no) = completed_order(&t, &product, 2).await;
    let codes = t.owned_codes(&buyer, &order_id).await;
    let res = t
        .app
        .post(
            &buyer,
            "/api/exchange-codes/redeem",
            json!({"code": codes[0]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let admin = t.app.admin().await;

    let body = assert_error(refund(&t, &admin, &order_id).await, 409, "codes_used").await;
    assert_eq!(body["error"]["used_codes"], json!(1), "{body}");
    // Nothing moved: Alipay was not asked, the order and its other code stand.
    let (_, trade) = t.sandbox_trade(&out_trade_no).await;
    assert_eq!(trade["refund_requests"], json!(0), "{trade}");
    assert_eq!(trade["trade_status"], json!("TRADE_SUCCESS"), "{trade}");
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Completed);
    assert_eq!(
        code_statuses(&t, &order_id).await,
        vec![CodeStatus::Enabled.code(); 2]
    );
    assert_eq!(
        audit_rows(&t.app, "order.refund", &format!("order:{order_id}")).await,
        0
    );

    // An unpaid order is not refundable; a missing reason is a bad request.
    let (other, _) = t.buyer().await;
    let unpaid = t.order(&other, &product, 1).await;
    assert_error(
        refund(&t, &admin, &unpaid).await,
        409,
        "order_not_refundable",
    )
    .await;
    let res = t
        .app
        .post(
            &admin,
            &format!("/api/admin/orders/{order_id}/refund"),
            json!({"reason": " "}),
        )
        .await;
    assert_error(res, 400, "invalid_request").await;
    assert_error(refund(&t, &admin, "424242").await, 404, "not_found").await;
}
