//! The notify fault switches, through real HTTP: the stand-in on a loopback port
//! posting to a merchant endpoint that records what arrives.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use chrono::Utc;
use paychat_sandbox_alipay::{AppState, Settings, router, state};
use serde_json::{Value, json};

type Received = Arc<Mutex<Vec<(String, Instant)>>>;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A merchant that records each notify's out_trade_no and answers `success`.
async fn merchant() -> (String, Received) {
    let got: Received = Arc::default();
    let app = Router::new()
        .route(
            "/notify",
            post(|State(got): State<Received>, body: String| async move {
                let params: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
                let out = params
                    .iter()
                    .find(|(k, _)| k == "out_trade_no")
                    .unwrap()
                    .1
                    .clone();
                got.lock().unwrap().push((out, Instant::now()));
                "success"
            }),
        )
        .with_state(got.clone());
    (format!("{}/notify", serve(app).await), got)
}

async fn alipay() -> (String, AppState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = Settings::load(Vec::new(), |_| None).unwrap();
    let st = state(&settings, addr).unwrap();
    let app = router(st.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), st)
}

fn precreate(st: &AppState, base: &str, notify_url: &str, out_trade_no: &str) {
    let biz = json!({"out_trade_no": out_trade_no, "total_amount": "9.90", "subject": "times"});
    st.store()
        .precreate(
            "app",
            Some(notify_url),
            &biz,
            base,
            Utc::now(),
            format!("tok{out_trade_no}"),
        )
        .unwrap();
}

fn arrived(got: &Received, out_trade_no: &str) -> Vec<Instant> {
    let got = got.lock().unwrap();
    got.iter()
        .filter(|(o, _)| o == out_trade_no)
        .map(|(_, at)| *at)
        .collect()
}

async fn set_faults(http: &reqwest::Client, base: &str, faults: Value) {
    let resp = http
        .post(format!("{base}/sim/notify-faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let now: Value = http
        .get(format!("{base}/sim/notify-faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (k, v) in faults.as_object().unwrap() {
        assert_eq!(&now[k], v, "switch {k}");
    }
}

async fn pay(http: &reqwest::Client, base: &str, out_trade_no: &str) -> Instant {
    let at = Instant::now();
    let resp = http
        .post(format!("{base}/sim/pay/{out_trade_no}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    at
}

async fn wait_for(got: &Received, out_trade_no: &str, n: usize) -> Vec<Instant> {
    for _ in 0..100 {
        let a = arrived(got, out_trade_no);
        if a.len() >= n {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    arrived(got, out_trade_no)
}

#[tokio::test]
async fn notify_fault_switches_drop_duplicate_and_delay_notifies() {
    let (notify_url, got) = merchant().await;
    let (base, st) = alipay().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for o in ["plain", "dropped", "twice", "late", "jittered"] {
        precreate(&st, &base, &notify_url, o);
    }

    pay(&http, &base, "plain").await;
    assert_eq!(wait_for(&got, "plain", 1).await.len(), 1);

    set_faults(&http, &base, json!({"drop": true})).await;
    pay(&http, &base, "dropped").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        arrived(&got, "dropped").is_empty(),
        "a dropped notify was sent"
    );
    let trade: Value = http
        .get(format!("{base}/sim/trades/dropped"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(trade["notifies"][0]["dropped"], true);

    set_faults(&http, &base, json!({"duplicate": true})).await;
    pay(&http, &base, "twice").await;
    assert_eq!(
        wait_for(&got, "twice", 2).await.len(),
        2,
        "a duplicated notify arrives twice"
    );

    set_faults(&http, &base, json!({"delay_ms": 600})).await;
    let paid_at = pay(&http, &base, "late").await;
    let late = wait_for(&got, "late", 1).await;
    assert_eq!(late.len(), 1);
    assert!(
        late[0] - paid_at >= Duration::from_millis(600),
        "a delayed notify came early"
    );

    set_faults(&http, &base, json!({"reorder_ms": 300})).await;
    pay(&http, &base, "jittered").await;
    assert_eq!(wait_for(&got, "jittered", 1).await.len(), 1);

    // Every trade is listed with whether it was paid.
    set_faults(&http, &base, json!({})).await;
    let all: Value = http
        .get(format!("{base}/sim/trades"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|t| t["ever_paid"] == true));
}

#[tokio::test]
async fn unknown_notify_fault_switch_is_refused() {
    let (base, _st) = alipay().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = http
        .post(format!("{base}/sim/notify-faults"))
        .json(&json!({"lose": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}
