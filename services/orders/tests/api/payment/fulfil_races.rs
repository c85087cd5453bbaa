//! Fulfilment whose conditional update matches nothing decides again from a
//! fresh read: a close that committed meanwhile, or another attempt's payment
//! that completed the order first, must end fulfilled or refunded.

use paychat_orders::orders::close::{Closed, close_order};
use paychat_orders::payments::fulfil::{Fulfilled, Payment, fulfil};
use paychat_orders::states::OrderStatus;

use super::locks::{lock_order, wait_blocked};
use crate::pay_support::{PayApp, pay_app};

/// Statement prefixes as the process list shows them (`_` matches the bound
/// status, shown as `?` or as its value).
const MARK_PAID: &str = "UPDATE chat_order SET status = _, pay_time";
const MARK_CLOSED: &str = "UPDATE chat_order SET status = _ WHERE";

/// A trade the buyer paid at the sandbox with its notify dropped, as the
/// gateway would hand it to fulfilment.
async fn paid_trade(t: &PayApp, order_id: &str, out_trade_no: &str) -> Payment {
    let trade = t.sandbox_pays(out_trade_no, true).await;
    let amount: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT total_amount FROM chat_order WHERE id = ?")
            .bind(order_id.parse::<i64>().unwrap())
            .fetch_one(&t.app.db)
            .await
            .unwrap();
    Payment {
        order_id: order_id.parse().unwrap(),
        out_trade_no: out_trade_no.to_owned(),
        trade_no: trade["trade_no"].as_str().unwrap_or_default().to_owned(),
        amount,
        buyer_account: None,
    }
}

fn spawn_fulfil(
    t: &PayApp,
    payment: Payment,
) -> tokio::task::JoinHandle<anyhow::Result<Fulfilled>> {
    let state = t.app.state.clone();
    tokio::spawn(async move { fulfil(&state, &payment).await })
}

#[tokio::test]
async fn payment_whose_order_closes_between_read_and_update_is_still_fulfilled() {
    let t = pay_app().await;
    let product = t.app.product(3, "5.00").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    let payment = paid_trade(&t, &order_id, &out_trade_no).await;
    let id: i64 = order_id.parse().unwrap();

    // The close queues on the row first, fulfilment (having read the order
    // unpaid) second; the close commits before fulfilment's update runs.
    let lock = lock_order(&t.app.db, id).await;
    let state = t.app.state.clone();
    let closing = tokio::spawn(async move { close_order(&state, id, "race").await });
    wait_blocked(&t.app.db, MARK_CLOSED, 1).await;
    let paying = spawn_fulfil(&t, payment);
    wait_blocked(&t.app.db, MARK_PAID, 1).await;
    lock.rollback().await.unwrap();

    assert_eq!(closing.await.unwrap().unwrap(), Closed::Now);
    assert_eq!(paying.await.unwrap().unwrap(), Fulfilled::Now);
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Completed);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (2, 1));
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    assert_eq!(t.refunded_history_rows(&order_id).await, 0);
    assert_eq!(t.app.redis_stock(&product).await, 2);
    assert_eq!(t.app.db_available(&product).await, 2);
}

#[tokio::test]
async fn two_attempts_paid_at_once_fulfil_one_and_refund_the_other() {
    let t = pay_app().await;
    let product = t.app.product(3, "4.00").await;
    let (buyer, order_id, first) = t.order_with_qr(&product, 1).await;
    // The first QR code runs out here (Alipay's copy is still payable).
    t.expire_qr(&first).await;
    let second = t.out_trade_no(&buyer, &order_id).await;
    let a = paid_trade(&t, &order_id, &first).await;
    let b = paid_trade(&t, &order_id, &second).await;

    // Both read the order unpaid; one update wins, the other matches nothing.
    let lock = lock_order(&t.app.db, order_id.parse().unwrap()).await;
    let fa = spawn_fulfil(&t, a);
    wait_blocked(&t.app.db, MARK_PAID, 1).await;
    let fb = spawn_fulfil(&t, b);
    wait_blocked(&t.app.db, MARK_PAID, 2).await;
    lock.rollback().await.unwrap();

    let mut outcomes = vec![fa.await.unwrap().unwrap(), fb.await.unwrap().unwrap()];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, vec![Fulfilled::Now, Fulfilled::Refunded]);
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Completed);
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    assert_eq!(t.refunded_history_rows(&order_id).await, 1);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (2, 1));
    // Alipay kept one payment and gave the other back.
    let mut statuses = Vec::new();
    for no in [&first, &second] {
        let (_, trade) = t.sandbox_trade(no).await;
        statuses.push(
            trade["trade_status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    statuses.sort();
    assert_eq!(statuses, vec!["TRADE_CLOSED", "TRADE_SUCCESS"]);
}
