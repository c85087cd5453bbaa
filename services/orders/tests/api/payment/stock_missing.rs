//! A late payment whose Redis stock key is gone reloads the count from the
//! database instead of refunding.
use paychat_orders::states::OrderStatus;

use crate::pay_support::pay_app;

#[tokio::test]
async fn late_payment_with_the_stock_key_gone_is_fulfilled_not_refunded() {
    let t = pay_app().await;
    let product = t.app.product(2, "5.00").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    assert_eq!(t.app.close(&buyer, &order_id).await.status(), 200);
    // Redis lost the key (a restart without its data, an eviction).
    let key = t.app.state.stock.key(product.parse().unwrap());
    let mut redis = t.app.state.redis.clone();
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();

    t.sandbox_pays(&out_trade_no, false).await;
    assert!(
        t.wait_for_status(&order_id, OrderStatus::Completed).await,
        "late payment not fulfilled"
    );
    assert_eq!(t.refunded_history_rows(&order_id).await, 0);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (1, 1));
    assert_eq!(t.app.redis_stock(&product).await, 1);
}
