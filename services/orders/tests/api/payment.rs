//! Payment end to end through real processes (the harness is in
//! `pay_support.rs`): paying, notifies, refunds, reconciliation, timeouts.

use std::time::Duration;

use paychat_common::envelope::{self, EnvelopePrivateKey, EnvelopePublicKey};
use paychat_common::payment::{PayRequest, TradeRequest};
use paychat_common::testing;
use paychat_orders::states::{OrderStatus, PayStatus};
use paychat_payment_gateway::sealed::{PAY, QUERY};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{assert_error, error_code, eventually};
use crate::pay_support::{
    APP_ID, SELLER_ID, WAIT, grouped, key, pay_app, pay_app_with, signed_notify, start_gateway,
};

mod fulfil_races;
mod locks;
mod pay_race;
mod reconcile_closed;
mod stock_missing;

#[tokio::test]
async fn payment_paid_through_the_sandbox_completes_the_order_once() {
    let t = pay_app().await;
    let product = t.app.product(5, "9.90").await;
    let (buyer, email) = t.buyer().await;
    let order_id = t.order(&buyer, &product, 2).await;

    let paid = t.pay_ok(&buyer, &order_id).await;
    let out_trade_no = paid["out_trade_no"].as_str().unwrap().to_owned();
    assert_eq!(out_trade_no, format!("{order_id}_1"));
    assert_eq!(paid["order_id"], json!(order_id));
    let qr = paid["qr_code"].as_str().unwrap().to_owned();
    assert!(qr.starts_with(&t.sandbox.base), "{qr}");
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingConfirmation
    );
    // The precreate carried the order's amount, computed by the server.
    let (status, trade) = t.sandbox_trade(&out_trade_no).await;
    assert_eq!(status, 200);
    assert_eq!(trade["total_amount"], json!("19.80"));

    // Asked again while valid: the same QR code, no new attempt.
    let again = t.pay_ok(&buyer, &order_id).await;
    assert_eq!(again["qr_code"], json!(qr));
    assert_eq!(again["out_trade_no"], json!(out_trade_no));
    assert_eq!(
        t.scalar_i64(
            "SELECT COUNT(*) FROM chat_order_history WHERE order_id = ? AND pay_attempt IS NOT NULL",
            &order_id
        )
        .await,
        1
    );
    let order: Value = t.order_json(&buyer, &order_id).await;
    assert_eq!(order["qr_code"], json!(qr));
    assert_eq!(order["status"], json!("awaiting_confirmation"));

    t.sandbox_pays(&out_trade_no, false).await;
    assert!(
        t.wait_for_status(&order_id, OrderStatus::Completed).await,
        "order not completed"
    );

    let order: Value = t.order_json(&buyer, &order_id).await;
    assert_eq!(order["status"], json!("completed"));
    assert!(order["pay_time"].is_string());
    assert_eq!(order["qr_code"], Value::Null);
    assert_eq!(t.product_stock_sale(&product).await, (3, 2));
    let codes = t.owned_codes(&buyer, &order_id).await;
    assert_eq!(codes.len(), 2);
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    let account: Option<String> = sqlx::query_scalar(
        "SELECT pay_account FROM chat_order_history WHERE order_id = ? AND pay_status = ?",
    )
    .bind(order_id.parse::<i64>().unwrap())
    .bind(PayStatus::Paid)
    .fetch_one(&t.app.db)
    .await
    .unwrap();
    assert!(account.is_some_and(|a| !a.is_empty()));
    // The buyer sees the codes among theirs.
    let mine: Value = t
        .app
        .get(&buyer, "/api/exchange-codes")
        .await
        .json()
        .await
        .unwrap();
    for code in &codes {
        assert!(
            mine.to_string().contains(&grouped(code)),
            "{code} not listed"
        );
    }

    // Emailed: the codes in the mail, redacted in the send log.
    assert!(
        eventually(WAIT, || async { !t.mails_to(&email).await.is_empty() }).await,
        "no email to the buyer"
    );
    let mail = t.mails_to(&email).await.remove(0);
    for code in &codes {
        assert!(mail["text"].as_str().unwrap().contains(&grouped(code)));
    }
    // The send is logged right after the mail server accepted it.
    assert!(t.one_mail_logged(&email, None).await);
    let logged: (i32, i8, String) = sqlx::query_as(
        "SELECT biz_type, status, content FROM sys_email_send_log WHERE to_email_address = ?",
    )
    .bind(&email)
    .fetch_one(&t.app.db)
    .await
    .unwrap();
    assert_eq!((logged.0, logged.1), (12, 1));
    for code in &codes {
        assert!(
            !logged.2.contains(&grouped(code)) && !logged.2.contains(code.as_str()),
            "a code rests in the send log"
        );
    }

    // The gateway stored the notify, verified and handed over.
    let raw = t.captured_notify(&out_trade_no).await;

    // The same notify five times in a row, then five times at once.
    for _ in 0..5 {
        assert_eq!(t.notify(raw.clone()).await, "success");
    }
    let answers = futures::future::join_all((0..5).map(|_| t.notify(raw.clone()))).await;
    assert!(answers.iter().all(|a| a == "success"), "{answers:?}");
    // Whatever reached orders, it was fulfilled once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(t.product_stock_sale(&product).await, (3, 2));
    assert_eq!(t.owned_codes(&buyer, &order_id).await, codes);
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    assert_eq!(t.mails_to(&email).await.len(), 1);
    assert_eq!(t.app.redis_stock(&product).await, 3);
    assert_eq!(t.app.db_available(&product).await, 3);

    // A paid order cannot be paid again.
    assert_error(t.pay(&buyer, &order_id).await, 409, "order_not_payable").await;
}

#[tokio::test]
async fn payment_notifies_that_do_not_verify_or_match_change_nothing() {
    let t = pay_app().await;
    let product = t.app.product(5, "9.90").await;
    let (buyer, _) = t.buyer().await;
    let order_id = t.order(&buyer, &product, 1).await;
    let paid = t.pay_ok(&buyer, &order_id).await;
    let out_trade_no = paid["out_trade_no"].as_str().unwrap().to_owned();

    let fields = |app_id: &'static str, out_trade_no: String, amount: &'static str| {
        move || {
            vec![
                ("notify_id", testing::unique("n")),
                ("notify_type", "trade_status_sync".to_owned()),
                ("notify_time", "2026-01-01 10:00:00".to_owned()),
                ("app_id", app_id.to_owned()),
                ("charset", "utf-8".to_owned()),
                ("version", "1.0".to_owned()),
                ("trade_no", testing::unique("2026")),
                ("out_trade_no", out_trade_no.clone()),
                ("buyer_id", "2088000000000099".to_owned()),
                ("buyer_logon_id", "bu***@example.com".to_owned()),
                ("seller_id", SELLER_ID.to_owned()),
                ("trade_status", "TRADE_SUCCESS".to_owned()),
                ("total_amount", amount.to_owned()),
                ("gmt_payment", "2026-01-01 10:00:00".to_owned()),
            ]
        }
    };
    let body = |f: Vec<(&str, String)>, tamper: Option<(&str, &str)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        signed_notify(&pairs, tamper)
    };
    // A control: the same construction, untampered, would verify.
    let good = fields(APP_ID, out_trade_no.clone(), "9.90")();
    let cases = vec![
        (
            "bad signature",
            body(good.clone(), Some(("buyer_logon_id", "mallory"))),
        ),
        (
            "changed amount",
            body(fields(APP_ID, out_trade_no.clone(), "0.01")(), None),
        ),
        (
            "another app_id",
            body(
                fields("2021999999999999", out_trade_no.clone(), "9.90")(),
                None,
            ),
        ),
        (
            "unknown order",
            body(fields(APP_ID, "987654321_1".to_owned(), "9.90")(), None),
        ),
        ("garbage", "%%%not a form".to_owned()),
    ];
    for (what, form) in cases {
        assert_eq!(t.notify(form).await, "failure", "{what}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingConfirmation
    );
    assert!(t.owned_codes(&buyer, &order_id).await.is_empty());
    assert_eq!(t.paid_history_rows(&order_id).await, 0);
    assert_eq!(t.product_stock_sale(&product).await, (5, 0));
    let rejected: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pay_alipay_notify WHERE verified = 0 AND handed_over = 0 \
         AND rejection_reason IS NOT NULL AND rejection_reason <> 'received'",
    )
    .fetch_one(&t.app.db)
    .await
    .unwrap();
    assert_eq!(rejected, 5);

    // The untampered notify is accepted: the checks above were the reason.
    assert_eq!(t.notify(body(good, None)).await, "success");
    assert!(t.wait_for_status(&order_id, OrderStatus::Completed).await);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
}

#[tokio::test]
async fn payment_gateway_refuses_bad_envelopes_without_calling_alipay() {
    let t = pay_app().await;
    let orders_key =
        EnvelopePrivateKey::from_pkcs8_pem(&key("orders_envelope_private.pem")).unwrap();
    let orders_pub = EnvelopePublicKey::from_spki_pem(&key("orders_envelope_public.pem")).unwrap();
    let gateway_key =
        EnvelopePrivateKey::from_pkcs8_pem(&key("gateway_envelope_private.pem")).unwrap();
    let gateway_pub =
        EnvelopePublicKey::from_spki_pem(&key("gateway_envelope_public.pem")).unwrap();
    let now = chrono::Utc::now().timestamp();
    let pay_req = |no: &str| {
        serde_json::to_vec(&PayRequest {
            out_trade_no: no.to_owned(),
            total_amount: Decimal::new(990, 2),
            subject: "PayChat test".into(),
            qr_code_timeout_express: "5m".into(),
        })
        .unwrap()
    };
    let post = |body: String| {
        let url = format!("{}/api/alipay/face2face/pay", t.gateway);
        let http = t.http.clone();
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = |res: reqwest::Response| async move {
        let (status, body) = error_code(res).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_envelope")),
            "{body}"
        );
    };

    // Ready: its database, Redis and broker answer.
    let ready_url = format!("{}/readyz", t.gateway);
    let ready = eventually(Duration::from_secs(5), || async {
        let Ok(res) = t.http.get(&ready_url).send().await else {
            return false;
        };
        let checks = res.json::<Value>().await.unwrap_or_default()["checks"].clone();
        checks == json!({"database": "ok", "redis": "ok", "broker": "ok"})
    })
    .await;
    assert!(
        ready,
        "the gateway never reported its database, Redis and broker ready"
    );

    let victim = "123456789_9";
    let good = envelope::seal(&pay_req(victim), PAY, &gateway_pub, &orders_key, now).unwrap();
    let mut bad_sig = good.clone();
    let other = envelope::seal(&pay_req("1_1"), PAY, &gateway_pub, &orders_key, now).unwrap();
    bad_sig.sig = other.sig;
    let stale =
        envelope::seal(&pay_req(victim), PAY, &gateway_pub, &orders_key, now - 1000).unwrap();
    let mut garbage = good.clone();
    garbage.payload = "!!!not base64!!!".into();
    let wrong_recipient =
        envelope::seal(&pay_req(victim), PAY, &orders_pub, &orders_key, now).unwrap();
    let wrong_signer =
        envelope::seal(&pay_req(victim), PAY, &gateway_pub, &gateway_key, now).unwrap();
    for env in [bad_sig, stale, garbage, wrong_recipient, wrong_signer] {
        refused(post(serde_json::to_string(&env).unwrap()).await).await;
    }
    refused(post("not json at all".into()).await).await;
    refused(post(r#"{"kid":"x"}"#.into()).await).await;
    // Alipay never heard of the trade.
    assert_eq!(t.sandbox_trade(victim).await.0, 404);

    // Replay: the first delivery works, the same envelope again is refused.
    let control = "123456789_10";
    let once = envelope::seal(&pay_req(control), PAY, &gateway_pub, &orders_key, now).unwrap();
    let res = post(serde_json::to_string(&once).unwrap()).await;
    assert_eq!(res.status(), 200);
    // The reply is bound to this request: it carries the request's nonce.
    let reply: envelope::Envelope = res.json().await.unwrap();
    assert_eq!(reply.nonce, once.nonce);
    let opened = envelope::open(&reply, PAY, &orders_key, &gateway_pub, now).unwrap();
    assert!(!opened.plaintext.is_empty());
    assert_eq!(t.sandbox_trade(control).await.0, 200);
    refused(post(serde_json::to_string(&once).unwrap()).await).await;
    let query = serde_json::to_vec(&TradeRequest {
        out_trade_no: control.into(),
    })
    .unwrap();
    let q = envelope::seal(&query, QUERY, &gateway_pub, &orders_key, now).unwrap();
    let q_url = format!("{}/api/alipay/trade/query", t.gateway);
    let first = t.http.post(&q_url).json(&q).send().await.unwrap();
    assert_eq!(first.status(), 200);
    refused(t.http.post(&q_url).json(&q).send().await.unwrap()).await;
}

#[tokio::test]
async fn payment_after_the_order_closed_is_fulfilled_when_stock_allows() {
    let t = pay_app().await;
    let product = t.app.product(3, "5.00").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    // Closed before the buyer scanned (Alipay has no trade yet, so it closes).
    let res = t.app.close(&buyer, &order_id).await;
    assert_eq!(res.status(), 200);
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Closed);
    assert_eq!(t.app.redis_stock(&product).await, 3);

    // The QR code is still payable at Alipay: the buyer pays anyway.
    t.sandbox_pays(&out_trade_no, false).await;
    assert!(
        t.wait_for_status(&order_id, OrderStatus::Completed).await,
        "late payment lost"
    );
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (2, 1));
    assert_eq!(t.app.redis_stock(&product).await, 2);
    assert_eq!(t.app.db_available(&product).await, 2);
}

#[tokio::test]
async fn payment_after_the_order_closed_is_refunded_when_stock_is_gone() {
    let t = pay_app().await;
    let product = t.app.product(1, "5.00").await;
    let (buyer, email) = t.buyer().await;
    let order_id = t.order(&buyer, &product, 1).await;
    let out_trade_no = t.out_trade_no(&buyer, &order_id).await;
    let res = t.app.close(&buyer, &order_id).await;
    assert_eq!(res.status(), 200);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["refund"], Value::Null);
    // Someone else takes the last unit.
    let (other, _) = t.buyer().await;
    let other_order = t.order(&other, &product, 1).await;

    t.sandbox_pays(&out_trade_no, false).await;
    assert!(t.refund_recorded(&order_id).await, "no refund recorded");
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Closed);
    assert!(t.owned_codes(&buyer, &order_id).await.is_empty());
    t.assert_trade_status(&out_trade_no, "TRADE_CLOSED").await;
    // The other buyer's order still holds the unit.
    assert_eq!(
        t.app.order_status(&other_order).await,
        OrderStatus::AwaitingPayment
    );
    assert_eq!(t.app.redis_stock(&product).await, 0);

    // The buyer sees the order closed and refunded, alone and in the list.
    let order: Value = t.order_json(&buyer, &order_id).await;
    assert_eq!(order["status"], json!("closed"));
    assert_eq!(order["qr_code"], Value::Null);
    assert_eq!(order["refund"]["amount"], json!("5.00"), "{order}");
    assert!(order["refund"]["refunded_at"].is_string(), "{order}");
    let list: Value = t.app.get(&buyer, "/api/orders").await.json().await.unwrap();
    assert_eq!(list["items"][0]["refund"], order["refund"]);
    // ... and is told by email, logged as a refund notice.
    assert!(
        eventually(WAIT, || async { !t.mails_to(&email).await.is_empty() }).await,
        "no refund email to the buyer"
    );
    let mail = t.mails_to(&email).await.remove(0);
    assert!(
        mail["subject"].as_str().unwrap().contains("refunded"),
        "{mail}"
    );
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&format!("order {order_id}")), "{text}");
    assert!(text.contains("¥5.00"), "{text}");
    assert!(text.contains("refunded to your Alipay account"), "{text}");
    assert!(
        t.one_mail_logged(&email, Some(13)).await,
        "the refund email was not logged"
    );
}

#[tokio::test]
async fn payment_whose_notify_never_arrives_is_settled_by_reconciliation() {
    let t = pay_app_with(
        &[
            ("reconcile_after_secs", "0".into()),
            ("reconcile_interval_secs", "3600".into()),
        ],
        true,
    )
    .await;
    let product = t.app.product(4, "2.50").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 2).await;
    let paid = t.sandbox_pays(&out_trade_no, true).await;
    assert_eq!(paid["notify"], json!("dropped"));
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingConfirmation
    );

    // An unpaid order with a QR code is looked at and left alone.
    let (idle, _) = t.buyer().await;
    let idle_order = t.order(&idle, &product, 1).await;
    t.pay_ok(&idle, &idle_order).await;

    let done = paychat_orders::payments::reconcile::reconcile(&t.app.state)
        .await
        .unwrap();
    assert_eq!(done, 1);
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Completed);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 2);
    assert_eq!(t.product_stock_sale(&product).await, (2, 2));
    assert_eq!(
        t.app.order_status(&idle_order).await,
        OrderStatus::AwaitingConfirmation
    );
    // A second pass finds nothing more to do.
    assert_eq!(
        paychat_orders::payments::reconcile::reconcile(&t.app.state)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn payment_with_the_gateway_down_is_unavailable_and_the_order_stays_payable() {
    let t = pay_app_with(&[], false).await;
    let product = t.app.product(2, "1.00").await;
    let (buyer, _) = t.buyer().await;
    let order_id = t.order(&buyer, &product, 1).await;

    assert_error(t.pay(&buyer, &order_id).await, 502, "payment_unavailable").await;
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingPayment
    );

    // The gateway comes up: the order is payable, with a fresh attempt number
    // (the first one's outcome was unknown, so it is retired).
    start_gateway(
        &t.database_url,
        &t.redis_prefix,
        &t.amqp_prefix,
        t.gateway_port,
        &t.sandbox,
    )
    .await;
    let paid = t.pay_ok(&buyer, &order_id).await;
    assert_eq!(paid["out_trade_no"], json!(format!("{order_id}_2")));
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingConfirmation
    );

    // Someone else's order is not found; a closed one is not payable.
    let (other, _) = t.buyer().await;
    let (status, _) = error_code(t.pay(&other, &order_id).await).await;
    assert_eq!(status, 404);
    let other_order = t.order(&other, &product, 1).await;
    t.app.close(&other, &other_order).await;
    assert_error(t.pay(&other, &other_order).await, 409, "order_not_payable").await;
}

#[tokio::test]
async fn payment_order_timeout_asks_alipay_and_fulfils_a_paid_order() {
    let t = pay_app().await;
    let product = t.app.product(2, "3.00").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    t.sandbox_pays(&out_trade_no, true).await;
    // The buyer (or the timeout) closes: the port queries first, finds it paid,
    // and fulfils instead of closing.
    let res = t.app.close(&buyer, &order_id).await;
    assert_eq!(res.status(), 409);
    assert_eq!(t.app.order_status(&order_id).await, OrderStatus::Completed);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
}

#[tokio::test]
async fn payment_of_the_wrong_amount_is_refunded_not_fulfilled() {
    use paychat_orders::payments::fulfil::{Fulfilled, Payment, fulfil};
    let t = pay_app().await;
    let product = t.app.product(2, "3.00").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    let trade = t.sandbox_pays(&out_trade_no, true).await;
    let payment = Payment {
        order_id: order_id.parse().unwrap(),
        out_trade_no: out_trade_no.clone(),
        trade_no: trade["trade_no"].as_str().unwrap_or_default().to_owned(),
        amount: Decimal::new(1, 2),
        buyer_account: None,
    };
    assert_eq!(
        fulfil(&t.app.state, &payment).await.unwrap(),
        Fulfilled::Refunded
    );
    // Asked again (a redelivery): recorded once, not refunded twice.
    assert_eq!(
        fulfil(&t.app.state, &payment).await.unwrap(),
        Fulfilled::Refunded
    );
    assert_eq!(t.refunded_history_rows(&order_id).await, 1);
    assert!(t.owned_codes(&buyer, &order_id).await.is_empty());
    assert_eq!(t.product_stock_sale(&product).await, (2, 0));
    // What Alipay reported paid went back (the same out_request_no: once).
    let (_, at_alipay) = t.sandbox_trade(&out_trade_no).await;
    assert_eq!(at_alipay["refunded"], json!("0.01"), "{at_alipay}");
    // The refund's own notify is not taken for a payment.
    assert!(
        eventually(WAIT, || async {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pay_alipay_notify WHERE out_trade_no = ? \
                 AND verified = 1 AND handed_over = 0 AND rejection_reason = 'not a payment'",
            )
            .bind(&out_trade_no)
            .fetch_one(&t.app.db)
            .await
            .unwrap();
            n == 1
        })
        .await,
        "the refund notify was not recorded"
    );
    assert_eq!(
        t.app.order_status(&order_id).await,
        OrderStatus::AwaitingConfirmation
    );
}

#[tokio::test]
async fn payment_through_two_qr_codes_fulfils_once_and_refunds_the_second() {
    let t = pay_app().await;
    let product = t.app.product(3, "4.00").await;
    let (buyer, order_id, first) = t.order_with_qr(&product, 1).await;
    // The first QR code runs out here (Alipay's copy is still payable).
    t.expire_qr(&first).await;
    let second = t.out_trade_no(&buyer, &order_id).await;
    assert_eq!(second, format!("{order_id}_2"));

    // The buyer pays both.
    t.sandbox_pays(&first, false).await;
    assert!(t.wait_for_status(&order_id, OrderStatus::Completed).await);
    t.sandbox_pays(&second, false).await;
    assert!(
        t.refund_recorded(&order_id).await,
        "the second payment was not refunded"
    );
    assert_eq!(t.paid_history_rows(&order_id).await, 1);
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (2, 1));
    t.assert_trade_status(&second, "TRADE_CLOSED").await;
    t.assert_trade_status(&first, "TRADE_SUCCESS").await;
}

#[tokio::test]
async fn payment_after_the_timeout_closed_the_order_is_still_honoured() {
    let t = pay_app_with(
        &[
            ("payment_window_secs", "3".into()),
            ("sweeper_interval_secs", "3600".into()),
        ],
        true,
    )
    .await;
    let product = t.app.product(2, "6.00").await;
    let (buyer, order_id, out_trade_no) = t.order_with_qr(&product, 1).await;
    // The timeout message closes it through RabbitMQ (never scanned: closable).
    assert!(
        t.wait_for_status(&order_id, OrderStatus::Closed).await,
        "not closed by its timeout"
    );
    assert_eq!(t.app.redis_stock(&product).await, 2);

    // The buyer pays the QR code anyway: fulfilled, stock re-taken.
    t.sandbox_pays(&out_trade_no, false).await;
    assert!(
        t.wait_for_status(&order_id, OrderStatus::Completed).await,
        "late payment lost"
    );
    assert_eq!(t.owned_codes(&buyer, &order_id).await.len(), 1);
    assert_eq!(t.product_stock_sale(&product).await, (1, 1));
    assert_eq!(t.app.redis_stock(&product).await, 1);
}
