use paychat_common::envelope;
use paychat_common::payment::{PayRequest, TradeRequest};
use paychat_payment_gateway::sealed::{CLOSE, PAY, QUERY};
use rust_decimal_macros::dec;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_sealed_query_replayed_as_a_close_is_refused_and_closes_nothing() {
    let t = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let out_trade_no = "987654321_1";
    let pay = serde_json::to_vec(&PayRequest {
        out_trade_no: out_trade_no.into(),
        total_amount: dec!(9.90),
        subject: "PayChat test".into(),
        qr_code_timeout_express: "5m".into(),
    })
    .unwrap();
    let pay = envelope::seal(&pay, PAY, &t.gateway_pub, &t.orders_key, now).unwrap();
    let res = t.post_json(PAY, &pay).await;
    assert_eq!(res.status(), 200);
    let (_, before) = t.sandbox_trade(out_trade_no).await;

    // A query on its way to the gateway, captured and posted to close instead.
    let query = serde_json::to_vec(&TradeRequest {
        out_trade_no: out_trade_no.into(),
    })
    .unwrap();
    let query = envelope::seal(&query, QUERY, &t.gateway_pub, &t.orders_key, now).unwrap();
    let res = t.post_json(CLOSE, &query).await;
    assert_error(res, 401, "invalid_envelope").await;
    let (_, after) = t.sandbox_trade(out_trade_no).await;
    assert_eq!(after["trade_status"], before["trade_status"], "{after}");
    assert_ne!(after["trade_status"], "TRADE_CLOSED");

    // The same envelope is still good where it was sealed for.
    let res = t.post_json(QUERY, &query).await;
    assert_eq!(res.status(), 200);
}
