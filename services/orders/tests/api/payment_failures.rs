//! Payment events whose fulfilment keeps failing: retried a bounded number of
//! times through the real queue, then parked in `chat_payment_failure` and
//! acked; the fulfilment retry job completes the order once the cause is
//! gone. The cause here is real: the product's free codes are disabled in the
//! database, so fulfilment cannot bind any and rolls back.

use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use paychat_common::payment::{PaymentSucceeded, succeeded_queue};
use paychat_orders::payments::retry::retry_parked;
use paychat_orders::states::{CodeStatus, OrderStatus, PayStatus};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::helpers::{TestApp, eventually, spawn_app_with};

const WAIT: Duration = Duration::from_secs(30);

/// Publishes a "payment succeeded" event as the gateway does.
async fn publish_paid(t: &TestApp, order_id: &str, amount: Decimal) -> String {
    let queue = succeeded_queue(&t.state.config.common.amqp_prefix);
    // Declared here too: the consumer may not have declared it yet, and the
    // default exchange drops what has no queue.
    let (channel, _) = t.state.broker.channel().await.unwrap();
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let out_trade_no = format!("{order_id}_1");
    let event = PaymentSucceeded {
        version: 1,
        order_id: order_id.to_owned(),
        out_trade_no: out_trade_no.clone(),
        trade_no: format!("2026{order_id}"),
        amount,
        buyer_account: Some("buyer***@example.com".into()),
        trade_status: "TRADE_SUCCESS".into(),
        paid_at: None,
    };
    let payload = serde_json::to_vec(&event).unwrap();
    t.state
        .broker
        .publish_raw("", &queue, &payload, 0)
        .await
        .unwrap();
    out_trade_no
}

async fn set_codes_status(t: &TestApp, product: &str, status: CodeStatus) {
    sqlx::query(
        "UPDATE chat_exchange SET status = ? WHERE product_id = ? AND owner_user_id IS NULL",
    )
    .bind(status)
    .bind(product.parse::<i64>().unwrap())
    .execute(&t.db)
    .await
    .unwrap();
}

#[derive(sqlx::FromRow)]
struct Failure {
    out_trade_no: String,
    event_payload: String,
    error_message: String,
    attempts: i32,
    resolved: bool,
}

async fn failures(t: &TestApp, order_id: &str) -> Vec<Failure> {
    sqlx::query_as(
        "SELECT out_trade_no, event_payload, error_message, attempts, resolved \
         FROM chat_payment_failure WHERE order_id = ?",
    )
    .bind(order_id.parse::<i64>().unwrap())
    .fetch_all(&t.db)
    .await
    .unwrap()
}

async fn bound_codes(t: &TestApp, order_id: &str) -> i64 {
    t.count(&format!(
        "SELECT COUNT(*) FROM chat_exchange WHERE order_id = {} AND is_occupied = 1",
        order_id.parse::<i64>().unwrap()
    ))
    .await
}

#[tokio::test]
async fn payment_event_that_keeps_failing_is_parked_and_completed_by_the_retry_job() {
    // The retry job and reconciliation are driven by hand here, not by time.
    let t = spawn_app_with(&[
        ("payment_max_attempts", "2".into()),
        ("fulfilment_retry_interval_secs", "3600".into()),
        ("reconcile_interval_secs", "3600".into()),
    ])
    .await;
    let product = t.product(5, "4.50").await;
    let buyer = t.user().await;
    let res = t.order_one(&buyer, &product, 2).await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();

    // Codes disabled by hand after the order was placed: nothing to bind.
    set_codes_status(&t, &product, CodeStatus::Disabled).await;
    let out_trade_no = publish_paid(&t, &order_id, Decimal::new(900, 2)).await;

    assert!(
        eventually(WAIT, || async { !failures(&t, &order_id).await.is_empty() }).await,
        "the failing payment event was never parked"
    );
    let parked = failures(&t, &order_id).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].out_trade_no, out_trade_no);
    // Bounded: the first delivery and one retry, then parked.
    assert_eq!(parked[0].attempts, 2);
    assert!(!parked[0].resolved);
    assert!(
        parked[0].error_message.contains("free codes"),
        "{}",
        parked[0].error_message
    );
    let event: Value = serde_json::from_str(&parked[0].event_payload).unwrap();
    assert_eq!(event["order_id"], Value::String(order_id.clone()));
    // Still unpaid here, nothing bound: the failed attempts rolled back.
    assert_eq!(
        t.order_status(&order_id).await,
        OrderStatus::AwaitingPayment
    );
    assert_eq!(bound_codes(&t, &order_id).await, 0);

    // While the cause remains, a pass leaves it open and counts the attempt.
    assert_eq!(retry_parked(&t.state).await.unwrap(), 0);
    let still = failures(&t, &order_id).await;
    assert_eq!(still[0].attempts, 3);
    assert!(!still[0].resolved);
    assert_eq!(
        t.order_status(&order_id).await,
        OrderStatus::AwaitingPayment
    );

    // The cause removed, the job completes the order and closes the row.
    set_codes_status(&t, &product, CodeStatus::Enabled).await;
    assert_eq!(retry_parked(&t.state).await.unwrap(), 1);
    assert_eq!(t.order_status(&order_id).await, OrderStatus::Completed);
    assert_eq!(bound_codes(&t, &order_id).await, 2);
    let done = failures(&t, &order_id).await;
    assert_eq!(done.len(), 1);
    assert!(done[0].resolved);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM chat_order_history WHERE order_id = {order_id} AND pay_status = {}",
            PayStatus::Paid.code()
        ))
        .await,
        1
    );

    // Nothing left to retry.
    assert_eq!(retry_parked(&t.state).await.unwrap(), 0);
}
