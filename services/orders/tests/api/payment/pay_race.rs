//! A pay request whose order closes while Alipay draws the QR code answers
//! the order's state, not a QR code for a closed order.

use paychat_orders::orders::queries::mark_closed;
use paychat_orders::states::OrderStatus;
use serde_json::Value;

use super::locks::wait_blocked;
use crate::helpers::assert_error;
use crate::pay_support::pay_app;

#[tokio::test]
async fn order_closed_during_precreate_gets_no_qr_code() {
    let t = pay_app().await;
    let product = t.app.product(2, "5.00").await;
    let (buyer, _) = t.buyer().await;
    let order_id = t.order(&buyer, &product, 1).await;
    let id: i64 = order_id.parse().unwrap();

    // The close takes the row (not yet committed, so the pay request still
    // reads the order unpaid) and commits once precreate is done and the
    // handler is about to record the QR code.
    let mut closing = t.app.db.begin().await.unwrap();
    assert!(mark_closed(&mut closing, id).await.unwrap());
    let paying = {
        let client = t.app.client.clone();
        let url = t.app.url(&format!("/api/orders/{order_id}/pay"));
        let token = buyer.token.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap()
        })
    };
    // `_`: the bound status, as the process list shows it.
    wait_blocked(&t.app.db, "UPDATE chat_order SET status = _ WHERE", 1).await;
    closing.commit().await.unwrap();

    assert_error(paying.await.unwrap(), 409, "order_not_payable").await;
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Closed);
    let order: Value = t.order_json(&buyer, &order_id).await;
    assert_eq!(order["status"], "closed");
    assert_eq!(order["qr_code"], Value::Null);
    // Alipay has the trade: it stays known, so reconciliation can settle a
    // payment of it.
    let issued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM chat_order_history WHERE order_id = ? AND pay_qr_code IS NOT NULL",
    )
    .bind(id)
    .fetch_one(&t.app.db)
    .await
    .unwrap();
    assert_eq!(issued, 1);
    let candidates = paychat_orders::payments::queries::to_reconcile(&t.app.db, 0, 300, 0, 200)
        .await
        .unwrap();
    assert!(candidates.contains(&id));
}
