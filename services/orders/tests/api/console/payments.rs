//! The Payments panel: "reconcile now" for an order paid without a notify,
//! the notify log of an order (the signature withheld), and the payment
//! failure queue with its retry.

use paychat_orders::states::OrderStatus;
use serde_json::{Value, json};

use super::{audit_row, audit_rows};
use crate::helpers::assert_error;
use crate::pay_support::{PayApp, pay_app_with};

/// The periodic jobs wait an hour: what settles an order here is the console.
async fn pay_app() -> PayApp {
    pay_app_with(
        &[
            ("fulfilment_retry_interval_secs", "3600".into()),
            ("reconcile_interval_secs", "3600".into()),
        ],
        true,
    )
    .await
}

#[tokio::test]
async fn reconcile_now_fulfils_an_order_paid_without_a_notify() {
    let t = pay_app().await;
    let product = t.app.product(3, "4.00").await;
    let (_buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    t.sandbox_pays(&out_trade_no, true).await;
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingConfirmation
    );
    let admin = t.app.admin().await;

    let res = t
        .app
        .post(
            &admin,
            &format!("/api/admin/orders/{order_id}/reconcile"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["order"]["status"], json!("completed"), "{body}");
    assert_eq!(
        body["trades"],
        json!([{"out_trade_no": out_trade_no, "trade_status": "TRADE_SUCCESS", "outcome": "fulfilled"}])
    );
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    let target = format!("order:{order_id}");
    let (actor, before, after, _) = audit_row(&t.app, "order.reconcile", &target).await;
    assert_eq!(actor, admin.id);
    assert_eq!(before["status"], json!("awaiting_confirmation"));
    assert_eq!(after["status"], json!("completed"));

    // Again: nothing left to do, said so.
    let body: Value = t
        .app
        .post(
            &admin,
            &format!("/api/admin/orders/{order_id}/reconcile"),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["trades"][0]["outcome"], json!("already_fulfilled"));
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    assert_eq!(audit_rows(&t.app, "order.reconcile", &target).await, 2);
}

#[tokio::test]
async fn the_notify_log_shows_the_fields_and_withholds_the_signature() {
    let t = pay_app().await;
    let product = t.app.product(3, "2.50").await;
    let (_buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    t.sandbox_pays(&out_trade_no, false).await;
    assert!(t.wait_for_status(&order_id, OrderStatus::Completed).await);
    let raw = t.captured_notify(&out_trade_no).await;
    let sign: String = serde_urlencoded::from_str::<Vec<(String, String)>>(&raw)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "sign")
        .unwrap()
        .1;
    let admin = t.app.admin().await;

    let res = t
        .app
        .get(&admin, &format!("/api/admin/orders/{order_id}/notifies"))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(&sign), "the signature leaked: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["order"]["id"], json!(order_id));
    assert_eq!(body["order"]["status"], json!("completed"));
    let first = &body["items"][0];
    assert_eq!(first["out_trade_no"], json!(out_trade_no), "{body}");
    assert_eq!(first["trade_status"], json!("TRADE_SUCCESS"));
    assert_eq!(first["verified"], json!(true));
    assert_eq!(first["handed_over"], json!(true));
    assert_eq!(first["fields"]["sign"], json!("[withheld]"));
    assert_eq!(first["fields"]["total_amount"], json!("2.50"));
    assert_eq!(first["fields"]["out_trade_no"], json!(out_trade_no));

    assert_error(
        t.app.get(&admin, "/api/admin/orders/777/notifies").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_parked_payment_is_listed_and_fulfilled_by_a_retry() {
    let t = pay_app().await;
    let product = t.app.product(3, "6.00").await;
    let (_buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    let paid = t.sandbox_pays(&out_trade_no, true).await;
    // The event the consumer parked after its retries ran out.
    let event = json!({
        "version": 1, "order_id": order_id, "out_trade_no": out_trade_no,
        "trade_no": paid["trade_no"], "amount": "6.00", "buyer_account": null,
        "trade_status": "TRADE_SUCCESS", "paid_at": null,
    });
    let failure_id = t.app.state.ids.next();
    sqlx::query(
        "INSERT INTO chat_payment_failure (id, order_id, out_trade_no, event_payload, error_message, attempts) \
         VALUES (?, ?, ?, ?, 'error returned from database: 1205 (HY000): Lock wait timeout', 5)",
    )
    .bind(failure_id)
    .bind(order_id.parse::<i64>().unwrap())
    .bind(&out_trade_no)
    .bind(event.to_string())
    .execute(&t.app.db)
    .await
    .unwrap();
    let admin = t.app.admin().await;

    let list: Value = t
        .app
        .get(&admin, "/api/admin/payment-failures")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let item = &list["items"][0];
    assert_eq!(item["id"], json!(failure_id.to_string()));
    assert_eq!(item["order_id"], json!(order_id));
    assert_eq!(item["resolved"], json!(false));
    // A database error is named, never quoted.
    assert_eq!(item["last_error"], json!("database error"));

    let res = t
        .app
        .post(
            &admin,
            &format!("/api/admin/payment-failures/{failure_id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let row: Value = res.json().await.unwrap();
    assert_eq!(row["resolved"], json!(true), "{row}");
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Completed);
    let target = format!("payment_failure:{failure_id}");
    let (actor, _, after, _) = audit_row(&t.app, "payment_failure.retry", &target).await;
    assert_eq!(actor, admin.id);
    assert_eq!(after["outcome"], json!("fulfilled"));

    // Resolved: out of the open queue, listed as resolved, not retried again.
    let open: Value = t
        .app
        .get(&admin, "/api/admin/payment-failures")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["items"], json!([]));
    let resolved: Value = t
        .app
        .get(&admin, "/api/admin/payment-failures?state=resolved")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolved["items"][0]["id"], json!(failure_id.to_string()));
    assert_error(
        t.app
            .post(
                &admin,
                &format!("/api/admin/payment-failures/{failure_id}/retry"),
                json!({}),
            )
            .await,
        409,
        "already_resolved",
    )
    .await;
    assert_eq!(
        audit_rows(&t.app, "payment_failure.retry", &target).await,
        1
    );
}
