//! The gateway's Alipay client on its own against the sandbox Alipay, run as a
//! separate process (a service never links the sandbox).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use paychat_common::testing;
use paychat_payment_gateway::alipay::{
    AlipayClient, AlipayConfig, AlipayError, AlipayPublicKey, AppPrivateKey, CloseRequest, KeyMode,
    Notify, PrecreateRequest, RefundRequest, TradeRef, TradeStatus,
};
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

const APP_ID: &str = testing::SANDBOX_ALIPAY_APP_ID;
const SELLER_ID: &str = testing::SANDBOX_ALIPAY_SELLER_ID;

fn key(name: &str) -> String {
    testing::sandbox_key(name).unwrap()
}

/// The sandbox process; killed (by its own handle) when the test ends.
type Sandbox = testing::SandboxProcess;

fn spawn_sandbox() -> Sandbox {
    Sandbox::alipay().unwrap()
}

/// A merchant notify endpoint: answers `failure` to the first `fail_first` deliveries,
/// then `success`, and hands every body to the test.
struct NotifySink {
    url: String,
    bodies: mpsc::UnboundedReceiver<Bytes>,
}

async fn notify_sink(fail_first: usize) -> NotifySink {
    #[derive(Clone)]
    struct Sink {
        tx: mpsc::UnboundedSender<Bytes>,
        seen: Arc<AtomicUsize>,
        fail_first: usize,
    }
    async fn handle(State(s): State<Sink>, body: Bytes) -> &'static str {
        let n = s.seen.fetch_add(1, Ordering::SeqCst);
        let _ = s.tx.send(body);
        if n < s.fail_first {
            "failure"
        } else {
            "success"
        }
    }
    let (tx, bodies) = mpsc::unbounded_channel();
    let sink = Sink {
        tx,
        seen: Arc::default(),
        fail_first,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/alipay/notify",
        listener.local_addr().unwrap()
    );
    let app = Router::new()
        .route("/api/alipay/notify", post(handle))
        .with_state(sink);
    tokio::spawn(async move { axum::serve(listener, app).await });
    NotifySink { url, bodies }
}

fn client(sb: &Sandbox, notify_url: &str, app_key: &str, alipay_key: &str) -> AlipayClient {
    let mut config = AlipayConfig::new(format!("{}/gateway.do", sb.base), APP_ID);
    config.notify_url = Some(notify_url.to_owned());
    config.retry_delay = Duration::from_millis(10);
    AlipayClient::new(
        config,
        AppPrivateKey::from_text(&key(app_key)).unwrap(),
        KeyMode::PublicKey(AlipayPublicKey::from_text(&key(alipay_key)).unwrap()),
    )
    .unwrap()
}

fn good_client(sb: &Sandbox, notify_url: &str) -> AlipayClient {
    client(
        sb,
        notify_url,
        "merchant_app_private.pem",
        "alipay_public.pem",
    )
}

async fn next_notify(sink: &mut NotifySink) -> Bytes {
    tokio::time::timeout(Duration::from_secs(10), sink.bodies.recv())
        .await
        .expect("a notify within 10 s")
        .unwrap()
}

async fn sim_pay(sb: &Sandbox, out_trade_no: &str, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/sim/pay/{out_trade_no}{query}", sb.base))
        .send()
        .await
        .unwrap()
}

async fn sim_trade(sb: &Sandbox, out_trade_no: &str) -> serde_json::Value {
    reqwest::get(format!("{}/sim/trades/{out_trade_no}", sb.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn by_out(no: &str) -> TradeRef {
    TradeRef::OutTradeNo(no.to_owned())
}

#[tokio::test]
async fn precreate_scan_pay_query_and_notify() {
    let sb = spawn_sandbox();
    let mut sink = notify_sink(0).await;
    let c = good_client(&sb, &sink.url);

    let mut req = PrecreateRequest::new("order_42_1", dec!(9.9), "10 chats");
    req.qr_code_timeout_express = Some("30m".into());
    let pre = c.precreate(&req).await.unwrap();
    assert_eq!(pre.out_trade_no, "order_42_1");
    assert!(
        pre.qr_code.starts_with(&format!("{}/qr/", sb.base)),
        "{}",
        pre.qr_code
    );

    // Not scanned yet: the trade does not exist at Alipay.
    let err = c.query(&by_out("order_42_1")).await.unwrap_err();
    assert!(err.is_trade_not_exist(), "{err:?}");

    // The buyer page shows what is being paid for.
    let page = reqwest::get(&pre.qr_code)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("10 chats") && page.contains("9.90") && page.contains("Pay"));
    let q = c.query(&by_out("order_42_1")).await.unwrap();
    assert_eq!(q.trade_status, TradeStatus::WaitBuyerPay);

    let paid = sim_pay(&sb, "order_42_1", "").await;
    assert_eq!(paid.status(), 200);

    let q = c.query(&by_out("order_42_1")).await.unwrap();
    assert_eq!(q.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(q.total_amount, dec!(9.90));
    assert!(q.send_pay_date.is_some());
    // By trade_no too.
    let q2 = c
        .query(&TradeRef::TradeNo(q.trade_no.clone()))
        .await
        .unwrap();
    assert_eq!(q2.out_trade_no, "order_42_1");

    let body = next_notify(&mut sink).await;
    let n: Notify = c.verify_notify(&body).unwrap();
    assert_eq!(n.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(n.trade_no, q.trade_no);
    assert_eq!(n.notify_type.as_deref(), Some("trade_status_sync"));
    assert!(n.gmt_payment.is_some());
    n.check(APP_ID, Some(SELLER_ID), "order_42_1", dec!(9.90))
        .unwrap();

    // The notify does not verify with the wrong key, and not once altered.
    let wrong = AlipayPublicKey::from_text(&key("merchant_app_public.pem")).unwrap();
    assert!(paychat_payment_gateway::alipay::verify_notify(&body, &wrong).is_err());
    let altered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("total_amount=9.90", "total_amount=0.01");
    assert!(c.verify_notify(altered.as_bytes()).is_err());

    // Paying twice is refused; a new precreate of a paid out_trade_no too.
    assert_eq!(sim_pay(&sb, "order_42_1", "").await.status(), 409);
    let err = c.precreate(&req).await.unwrap_err();
    assert!(err.is_trade_has_success(), "{err:?}");
}

#[tokio::test]
async fn a_bad_merchant_signature_is_refused_with_alipays_error() {
    let sb = spawn_sandbox();
    let sink = notify_sink(0).await;
    // Signed with a key the sandbox does not know as the merchant's.
    let c = client(
        &sb,
        &sink.url,
        "orders_envelope_private.pem",
        "alipay_public.pem",
    );
    let err = c
        .precreate(&PrecreateRequest::new("o_badsig", dec!(1), "x"))
        .await
        .unwrap_err();
    match &err {
        AlipayError::Business { result, signed } => {
            assert_eq!(result.code, "40002");
            assert_eq!(result.sub_code.as_deref(), Some("isv.invalid-signature"));
            assert!(*signed);
        }
        other => panic!("expected a business error, got {other:?}"),
    }
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn responses_signed_by_another_key_are_refused() {
    let sb = spawn_sandbox();
    let sink = notify_sink(0).await;
    // The client expects the wrong "Alipay" key.
    let c = client(
        &sb,
        &sink.url,
        "merchant_app_private.pem",
        "gateway_envelope_public.pem",
    );
    let err = c
        .precreate(&PrecreateRequest::new("o_wrongkey", dec!(1), "x"))
        .await
        .unwrap_err();
    assert_eq!(err, AlipayError::BadSignature);
}

#[tokio::test]
async fn close_before_scan_then_after_scan() {
    let sb = spawn_sandbox();
    let mut sink = notify_sink(0).await;
    let c = good_client(&sb, &sink.url);
    let pre = c
        .precreate(&PrecreateRequest::new("o_close", dec!(5), "close me"))
        .await
        .unwrap();
    let close = CloseRequest {
        trade: by_out("o_close"),
        operator_id: None,
    };
    let err = c.close(&close).await.unwrap_err();
    assert!(err.is_trade_not_exist(), "{err:?}");

    reqwest::get(&pre.qr_code).await.unwrap();
    let closed = c.close(&close).await.unwrap();
    assert_eq!(closed.out_trade_no.as_deref(), Some("o_close"));
    let q = c.query(&by_out("o_close")).await.unwrap();
    assert_eq!(q.trade_status, TradeStatus::TradeClosed);
    let n = c.verify_notify(&next_notify(&mut sink).await).unwrap();
    assert_eq!(n.trade_status, TradeStatus::TradeClosed);

    // Closed trades cannot be paid or closed again.
    assert_eq!(sim_pay(&sb, "o_close", "").await.status(), 409);
    assert!(c.close(&close).await.unwrap_err().is_trade_status_error());
}

#[tokio::test]
async fn refunds_are_idempotent_and_a_full_refund_closes() {
    let sb = spawn_sandbox();
    let sink = notify_sink(0).await;
    let c = good_client(&sb, &sink.url);
    c.precreate(&PrecreateRequest::new("o_refund", dec!(10), "refund me"))
        .await
        .unwrap();
    let paid = sim_pay(&sb, "o_refund", "?notify=drop").await;
    assert_eq!(paid.status(), 200);
    let paid: serde_json::Value = paid.json().await.unwrap();
    assert_eq!(paid["notify"], "dropped");

    let part = RefundRequest {
        trade: by_out("o_refund"),
        refund_amount: dec!(4),
        out_request_no: "r1".into(),
        refund_reason: Some("partial".into()),
    };
    let r = c.refund(&part).await.unwrap();
    assert_eq!(
        (r.fund_change.as_deref(), r.refund_fee),
        (Some("Y"), dec!(4.00))
    );
    let again = c.refund(&part).await.unwrap();
    assert_eq!(
        (again.fund_change.as_deref(), again.refund_fee),
        (Some("N"), dec!(4.00))
    );

    let too_much = RefundRequest {
        refund_amount: dec!(7),
        out_request_no: "r2".into(),
        ..part.clone()
    };
    assert!(matches!(
        c.refund(&too_much).await,
        Err(AlipayError::Business { .. })
    ));
    let rest = RefundRequest {
        refund_amount: dec!(6),
        out_request_no: "r3".into(),
        ..part
    };
    assert_eq!(c.refund(&rest).await.unwrap().refund_fee, dec!(10.00));
    let q = c.query(&by_out("o_refund")).await.unwrap();
    assert_eq!(q.trade_status, TradeStatus::TradeClosed);

    // A refund for a trade nobody scanned.
    c.precreate(&PrecreateRequest::new("o_unscanned", dec!(1), "x"))
        .await
        .unwrap();
    let err = c
        .refund(&RefundRequest {
            trade: by_out("o_unscanned"),
            refund_amount: dec!(1),
            out_request_no: "r1".into(),
            refund_reason: None,
        })
        .await
        .unwrap_err();
    assert!(err.is_trade_not_exist());
}

#[tokio::test]
async fn notifies_are_retried_until_success() {
    let sb = spawn_sandbox();
    let mut sink = notify_sink(2).await;
    let c = good_client(&sb, &sink.url);
    c.precreate(&PrecreateRequest::new("o_retry", dec!(2.5), "retry"))
        .await
        .unwrap();
    assert_eq!(sim_pay(&sb, "o_retry", "").await.status(), 200);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let n = c.verify_notify(&next_notify(&mut sink).await).unwrap();
        ids.push(n.notify_id);
    }
    // Same notify, three deliveries (4 min and 10 min gaps, scaled down 1000×).
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let mut state = sim_trade(&sb, "o_retry").await;
    for _ in 0..50 {
        if state["notifies"][0]["delivered"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = sim_trade(&sb, "o_retry").await;
    }
    assert_eq!(state["notifies"][0]["attempts"], 3);
    assert_eq!(state["notifies"][0]["delivered"], true);
    // Nothing more after `success`.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(sink.bodies.try_recv().is_err());
}

#[tokio::test]
async fn invalid_fields_are_refused() {
    let sb = spawn_sandbox();
    let sink = notify_sink(0).await;
    let c = good_client(&sb, &sink.url);
    for req in [
        PrecreateRequest::new("has-dash", dec!(1), "x"),
        PrecreateRequest::new("o_amount", dec!(0.001), "x"),
        PrecreateRequest::new("o_subject", dec!(1), "a&b"),
    ] {
        let err = c.precreate(&req).await.unwrap_err();
        assert_eq!(err.sub_code(), Some("ACQ.INVALID_PARAMETER"), "{req:?}");
    }
    let health = reqwest::get(format!("{}/healthz", sb.base)).await.unwrap();
    assert_eq!(health.status(), 200);
}
