//! The buyer's side: the page a QR code opens (subject, amount, a Pay button) and the
//! `/sim` endpoints tests use to pay and to look at trades.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use crate::AppState;
use crate::notifier::NotifyFaults;
use crate::trades::{PayRefusal, Trade, china_time};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page_html(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}\
         .amount{{font-size:2.5rem;margin:.5rem 0}}button{{font-size:1.2rem;padding:.6rem 2rem;background:#1677ff;color:#fff;border:0;border-radius:.4rem}}\
         .note{{color:#888;font-size:.85rem}}</style></head><body>{body}\
         <p class=\"note\">Sandbox Alipay — no real money moves.</p></body></html>"
    ))
}

fn refusal_page(r: PayRefusal) -> Response {
    let (status, text) = match r {
        PayRefusal::NotFound => (StatusCode::NOT_FOUND, "二维码无效 / Unknown QR code"),
        PayRefusal::QrExpired => (StatusCode::GONE, "二维码已过期 / This QR code has expired"),
        PayRefusal::Closed => (StatusCode::CONFLICT, "交易已关闭 / This trade is closed"),
        PayRefusal::AlreadyPaid => (StatusCode::OK, "已支付 / Already paid"),
    };
    (status, page_html(text, &format!("<h1>{text}</h1>"))).into_response()
}

/// `GET /qr/{token}`: opening the page is the buyer's scan; the trade now exists.
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let scanned = state.store().scan(&token, Utc::now());
    match scanned {
        Ok(t) => {
            let body = format!(
                "<h1>{subject}</h1><div class=\"amount\">¥ {amount}</div>\
                 <p>订单号 / Order {out}</p>\
                 <form method=\"post\" action=\"/qr/{token}/pay\"><button type=\"submit\">付款 / Pay</button></form>",
                subject = escape(&t.subject),
                amount = t.total_amount,
                out = escape(&t.out_trade_no),
                token = escape(&token),
            );
            page_html("Sandbox Alipay", &body).into_response()
        }
        Err(r) => refusal_page(r),
    }
}

/// `POST /qr/{token}/pay`: the Pay button.
pub async fn pay_button(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(key) = state.store().key_of_token(&token) else {
        return refusal_page(PayRefusal::NotFound);
    };
    let paid = state.store().pay(&key, Utc::now());
    match paid {
        Ok(t) => {
            crate::notifier::notify(&state, &key, false);
            let body = format!(
                "<h1>支付成功 / Paid</h1><div class=\"amount\">¥ {}</div><p>{}</p>",
                t.total_amount,
                escape(&t.subject)
            );
            page_html("Paid", &body).into_response()
        }
        Err(r) => refusal_page(r),
    }
}

fn trade_json(t: &Trade) -> serde_json::Value {
    json!({
        "app_id": t.app_id,
        "out_trade_no": t.out_trade_no,
        "trade_no": t.trade_no,
        "scanned": t.scanned_at.is_some(),
        "trade_status": if t.scanned_at.is_some() { t.status.as_str() } else { "NOT_SCANNED" },
        "total_amount": t.total_amount.to_string(),
        "refunded": t.refunded.to_string(),
        "refund_requests": t.refund_requests,
        "subject": t.subject,
        "notify_url": t.notify_url,
        "qr_expires_at": china_time(t.qr_expires_at),
        "gmt_payment": t.paid_at.map(china_time),
        "notifies": t.notifies,
        "ever_paid": t.ever_paid,
        "refunds": t.refunds.iter().map(|(no, amount)| json!({"out_request_no": no, "amount": amount.to_string()})).collect::<Vec<_>>(),
    })
}

fn sim_error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({"error": code}))).into_response()
}

/// `POST /sim/pay/{out_trade_no}[?app_id=..][&notify=drop]`.
pub async fn sim_pay(
    State(state): State<AppState>,
    Path(out_trade_no): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let key = state
        .store()
        .key_of_out_trade_no(&out_trade_no, q.get("app_id").map(String::as_str));
    let Some(key) = key else {
        return sim_error(StatusCode::NOT_FOUND, "trade_not_found");
    };
    let paid = state.store().pay(&key, Utc::now());
    match paid {
        Ok(t) => {
            let drop = q.get("notify").is_some_and(|v| v == "drop");
            crate::notifier::notify(&state, &key, drop);
            let mut v = trade_json(&t);
            v["notify"] = json!(if drop { "dropped" } else { "scheduled" });
            Json(v).into_response()
        }
        Err(PayRefusal::NotFound) => sim_error(StatusCode::NOT_FOUND, "trade_not_found"),
        Err(PayRefusal::QrExpired) => sim_error(StatusCode::GONE, "qr_expired"),
        Err(PayRefusal::Closed) => sim_error(StatusCode::CONFLICT, "trade_closed"),
        Err(PayRefusal::AlreadyPaid) => sim_error(StatusCode::CONFLICT, "already_paid"),
    }
}

/// `GET /sim/trades/{out_trade_no}[?app_id=..]`.
pub async fn sim_trade(
    State(state): State<AppState>,
    Path(out_trade_no): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut store = state.store();
    let key = store.key_of_out_trade_no(&out_trade_no, q.get("app_id").map(String::as_str));
    match key.and_then(|k| store.get(&k, Utc::now()).map(|t| trade_json(t))) {
        Some(v) => Json(v).into_response(),
        None => sim_error(StatusCode::NOT_FOUND, "trade_not_found"),
    }
}

/// `GET /sim/trades`: every trade the stand-in knows, as `{items: [...]}` (the shape
/// of `/sim/trades/{out_trade_no}`), for checking the books after a fault run.
pub async fn sim_trades(State(state): State<AppState>) -> Response {
    let mut store = state.store();
    let items: Vec<_> = store.all(Utc::now()).map(trade_json).collect();
    Json(json!({ "items": items })).into_response()
}

/// `GET /sim/notify-faults`: the switches in force.
pub async fn get_notify_faults(State(state): State<AppState>) -> Response {
    Json(state.notify_faults()).into_response()
}

/// `POST /sim/notify-faults` `{drop?, duplicate?, delay_ms?, reorder_ms?}`: replaces
/// every switch (a field left out is off); `{}` turns them all off.
pub async fn set_notify_faults(
    State(state): State<AppState>,
    Json(faults): Json<NotifyFaults>,
) -> Response {
    *state
        .notify_faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    tracing::info!(?faults, "notify fault switches set");
    Json(faults).into_response()
}
