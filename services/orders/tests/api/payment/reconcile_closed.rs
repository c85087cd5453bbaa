//! Reconciliation also looks at closed orders whose QR code Alipay still
//! accepts: a late payment whose notify was lost ends fulfilled or refunded.

use paychat_orders::payments::reconcile::reconcile;
use paychat_orders::states::OrderStatus;
use serde_json::json;

use crate::pay_support::pay_app_with;

#[tokio::test]
async fn closed_order_paid_late_without_a_notify_is_settled_by_reconciliation() {
    let t = pay_app_with(
        &[
            ("reconcile_after_secs", "0".into()),
            ("reconcile_interval_secs", "3600".into()),
        ],
        true,
    )
    .await;
    let product = t.app.product(1, "5.00").await;

    // Closed before the buyer scanned; paid anyway, the notify lost.
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    assert_eq!(t.app.close(&buyer, &order_id).await.status(), 200);
    let paid = t.sandbox_pays(&out_trade_no, true).await;
    assert_eq!(paid["notify"], json!("dropped"));

    reconcile(&t.app.state).await.unwrap();
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::Completed,
        "late payment lost"
    );
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (0, 1));
    assert_eq!(t.app.redis_stock(&product).await, 0);

    // The same again with no stock left: the money goes back.
    let admin = t.app.admin().await;
    let res = t
        .app
        .post(
            &admin,
            &format!("/api/admin/products/{product}/stock"),
            json!({"add": 1}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (late, order2, trade2) = t.order_with_qr(&product, 1).await;
    assert_eq!(t.app.close(&late, &order2).await.status(), 200);
    let (other, _) = t.buyer().await;
    let holder = t.order(&other, &product, 1).await;
    t.sandbox_pays(&trade2, true).await;

    reconcile(&t.app.state).await.unwrap();
    assert_eq!(
        t.refunded_history_rows(&order2).await,
        1,
        "late payment neither fulfilled nor refunded"
    );
    assert_eq!(t.app.order_status(&order2).await, OrderStatus::Closed);
    assert!(t.owned_codes(&late, &order2).await.is_empty());
    t.assert_trade_status(&trade2, "TRADE_CLOSED").await;
    assert_eq!(
        t.app.order_status(&holder).await,
        OrderStatus::AwaitingPayment
    );

    // Settled orders are not refunded or fulfilled twice by later passes.
    reconcile(&t.app.state).await.unwrap();
    assert_eq!(t.refunded_history_rows(&order2).await, 1);
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
}

#[tokio::test]
async fn closed_order_whose_qr_code_expired_long_ago_is_not_looked_at() {
    let t = pay_app_with(&[("reconcile_after_secs", "0".into())], true).await;
    let product = t.app.product(2, "5.00").await;
    let (buyer, order_id, _) = t.order_with_qr(&product, 1).await;
    assert_eq!(t.app.close(&buyer, &order_id).await.status(), 200);
    let id: i64 = order_id.parse().unwrap();
    let candidates = |t: &crate::pay_support::PayApp| {
        let db = t.app.db.clone();
        async move {
            paychat_orders::payments::queries::to_reconcile(&db, 0, 300, 0, 200)
                .await
                .unwrap()
        }
    };
    assert!(candidates(&t).await.contains(&id));
    // Issued three hours ago: Alipay refuses it by now (QR codes live at most two).
    sqlx::query(
        "UPDATE chat_order_history SET create_time = UTC_TIMESTAMP(3) - INTERVAL 3 HOUR, \
         update_time = UTC_TIMESTAMP(3) - INTERVAL 3 HOUR, \
         qr_expire_time = UTC_TIMESTAMP(3) - INTERVAL 150 MINUTE WHERE order_id = ?",
    )
    .bind(id)
    .execute(&t.app.db)
    .await
    .unwrap();
    assert!(!candidates(&t).await.contains(&id));
}
