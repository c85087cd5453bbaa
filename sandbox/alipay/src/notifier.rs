//! Posting signed notifies to the merchant's `notify_url`, retrying on anything but
//! a body of exactly `success`, on Alipay's schedule (4m, 10m, 10m, 1h, 2h, 6h, 15h
//! after the first try) divided by the configured retry scale.
//!
//! Fault switches (`POST /sim/notify-faults`, for fault-injection runs) change every
//! notify sent while they are set: `drop` sends none (recorded as dropped), `duplicate`
//! delivers each one twice (same `notify_id`, as Alipay's own repeats), `delay_ms` holds
//! each first attempt back, and `reorder_ms` holds each one back a random 0..=N ms more,
//! so later notifies overtake earlier ones.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::crypto::notify_content;
use crate::gateway::random_token;
use crate::trades::{NotifyLog, Status, Trade, china_time};

/// Gaps before each retry, in seconds, as Alipay documents them.
pub const SCHEDULE_SECS: [u64; 7] = [240, 600, 600, 3_600, 7_200, 21_600, 54_000];

/// How notifies are mistreated while a fault run asks for it; all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyFaults {
    pub drop: bool,
    pub duplicate: bool,
    pub delay_ms: u64,
    pub reorder_ms: u64,
}

impl NotifyFaults {
    /// The wait before one delivery's first attempt.
    fn hold(&self) -> Duration {
        let jitter = if self.reorder_ms > 0 {
            rand::rng().random_range(0..=self.reorder_ms)
        } else {
            0
        };
        Duration::from_millis(self.delay_ms.saturating_add(jitter))
    }
}

/// The notify parameters for the trade's current state (unsigned).
pub fn notify_params(trade: &Trade, seller_id: &str, notify_id: &str) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        p.insert(k.to_owned(), v);
    };
    let paid = trade.ever_paid;
    let amount = trade.total_amount.to_string();
    put("notify_time", china_time(Utc::now()));
    put("notify_type", "trade_status_sync".into());
    put("notify_id", notify_id.to_owned());
    put("app_id", trade.app_id.clone());
    put("auth_app_id", trade.app_id.clone());
    put("charset", "utf-8".into());
    put("version", "1.0".into());
    put("sign_type", "RSA2".into());
    put("trade_no", trade.trade_no.clone());
    put("out_trade_no", trade.out_trade_no.clone());
    put("buyer_id", trade.buyer_id().into());
    put("buyer_logon_id", trade.buyer_logon_id().into());
    put("seller_id", seller_id.to_owned());
    put("trade_status", trade.status.as_str().into());
    put("total_amount", amount.clone());
    put("subject", trade.subject.clone());
    if let Some(b) = &trade.body {
        put("body", b.clone());
    }
    if let Some(pp) = &trade.passback_params {
        put("passback_params", pp.clone());
    }
    if let Some(scanned) = trade.scanned_at {
        put("gmt_create", china_time(scanned));
    }
    if paid {
        put("receipt_amount", amount.clone());
        put("invoice_amount", amount.clone());
        put("buyer_pay_amount", amount.clone());
        put("point_amount", "0.00".into());
        put(
            "fund_bill_list",
            format!(r#"[{{"amount":"{amount}","fundChannel":"ALIPAYACCOUNT"}}]"#),
        );
        if let Some(paid_at) = trade.paid_at {
            put("gmt_payment", china_time(paid_at));
        }
    }
    if trade.refunded > Decimal::ZERO {
        put("refund_fee", trade.refunded.to_string());
        put("gmt_refund", china_time(Utc::now()));
        if let Some(last) = trade.refunds.keys().last() {
            put("out_biz_no", last.clone());
        }
    }
    if trade.status == Status::TradeClosed {
        put("gmt_close", china_time(Utc::now()));
    }
    p
}

/// Schedules the notify for the trade's current state. `drop` records it as dropped
/// and sends nothing (to test lost notifies); so do the fault switches' `drop`.
pub fn notify(state: &AppState, key: &(String, String), drop: bool) {
    let faults = state.notify_faults();
    let drop = drop || faults.drop;
    let (params, url, index) = {
        let mut store = state.store();
        let Some(trade) = store.get(key, Utc::now()) else {
            return;
        };
        let notify_id = random_token();
        let params = notify_params(trade, &state.seller_id, &notify_id);
        trade.notifies.push(NotifyLog {
            notify_id,
            trade_status: trade.status.as_str(),
            attempts: 0,
            delivered: false,
            dropped: drop || trade.notify_url.is_none(),
            last_reply: None,
        });
        (params, trade.notify_url.clone(), trade.notifies.len() - 1)
    };
    let Some(url) = url.filter(|_| !drop) else {
        return;
    };
    let copies = if faults.duplicate { 2 } else { 1 };
    for _ in 0..copies {
        let (state, key, url, params) = (state.clone(), key.clone(), url.clone(), params.clone());
        let hold = faults.hold();
        tokio::spawn(async move { deliver(state, key, index, url, params, hold).await });
    }
}

async fn deliver(
    state: AppState,
    key: (String, String),
    index: usize,
    url: String,
    mut params: BTreeMap<String, String>,
    hold: Duration,
) {
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let gaps = std::iter::once(0).chain(SCHEDULE_SECS);
    for gap in gaps {
        if gap > 0 {
            let scaled = Duration::from_secs_f64(gap as f64 / state.retry_scale);
            tokio::time::sleep(scaled).await;
        }
        params.insert("notify_time".into(), china_time(Utc::now()));
        params.remove("sign");
        let sign = state.keys.sign(&notify_content(&params));
        params.insert("sign".into(), sign);
        let reply = match state
            .http
            .post(&url)
            .header(
                "content-type",
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(serde_urlencoded::to_string(&params).unwrap_or_default())
            .send()
            .await
        {
            Ok(resp) => resp.text().await.unwrap_or_default(),
            Err(e) => format!("(no answer: {e})"),
        };
        let delivered = reply == "success";
        {
            let mut store = state.store();
            if let Some(log) = store
                .get(&key, Utc::now())
                .and_then(|t| t.notifies.get_mut(index))
            {
                log.attempts += 1;
                log.delivered = delivered;
                log.last_reply = Some(reply.chars().take(200).collect());
            }
        }
        if delivered {
            return;
        }
        tracing::info!(%url, out_trade_no = %key.1, "notify not acknowledged; will retry");
    }
    tracing::warn!(%url, out_trade_no = %key.1, "notify given up after the last retry");
}
