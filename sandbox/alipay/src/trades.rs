//! The trades the stand-in knows, keyed by (app_id, out_trade_no), and the rules of
//! ALIPAY.md: a precreated trade exists for query/close only once scanned; a QR code
//! lives at most 2 hours; paid trades can be refunded, a full refund closes them.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

/// Longest life of a QR code, whatever the merchant asks.
pub const QR_MAX: Duration = Duration::hours(2);
/// 当面付's default trade timeout.
pub const DEFAULT_TRADE_TIMEOUT: Duration = Duration::hours(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    WaitBuyerPay,
    TradeSuccess,
    TradeClosed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WaitBuyerPay => "WAIT_BUYER_PAY",
            Self::TradeSuccess => "TRADE_SUCCESS",
            Self::TradeClosed => "TRADE_CLOSED",
        }
    }
}

/// One notify and its delivery, for `/sim/trades`.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyLog {
    pub notify_id: String,
    pub trade_status: &'static str,
    pub attempts: u32,
    pub delivered: bool,
    pub dropped: bool,
    pub last_reply: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trade {
    pub app_id: String,
    pub out_trade_no: String,
    pub trade_no: String,
    pub subject: String,
    pub body: Option<String>,
    pub total_amount: Decimal,
    pub notify_url: Option<String>,
    pub passback_params: Option<String>,
    pub token: String,
    pub qr_expires_at: DateTime<Utc>,
    #[serde(skip)]
    pub trade_timeout: Duration,
    pub scanned_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub paid_at: Option<DateTime<Utc>>,
    pub refunded: Decimal,
    pub refunds: BTreeMap<String, Decimal>,
    /// Every `alipay.trade.refund` call that named this trade, repeats
    /// included: tests read it to prove a refund reached Alipay once.
    pub refund_requests: u32,
    pub ever_paid: bool,
    pub notifies: Vec<NotifyLog>,
}

impl Trade {
    /// Closes a scanned, unpaid trade whose time is up (checked lazily).
    fn refresh(&mut self, now: DateTime<Utc>) {
        if self.status == Status::WaitBuyerPay
            && let Some(scanned) = self.scanned_at
            && now > scanned + self.trade_timeout
        {
            self.status = Status::TradeClosed;
        }
    }

    pub fn buyer_id(&self) -> &'static str {
        "2088102000000001"
    }

    pub fn buyer_logon_id(&self) -> &'static str {
        "sandbox***@example.com"
    }
}

/// A business refusal: `code` 40004 (or 40002) with Alipay's sub_code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub msg: &'static str,
    pub sub_code: &'static str,
    pub sub_msg: String,
}

pub fn refuse(sub_code: &'static str, sub_msg: impl Into<String>) -> Refusal {
    Refusal {
        code: "40004",
        msg: "Business Failed",
        sub_code,
        sub_msg: sub_msg.into(),
    }
}

pub fn invalid(sub_msg: impl Into<String>) -> Refusal {
    refuse("ACQ.INVALID_PARAMETER", sub_msg)
}

#[derive(Debug, Default)]
pub struct Store {
    trades: HashMap<(String, String), Trade>,
    tokens: HashMap<String, (String, String)>,
    seq: u64,
}

/// Why the buyer (or `/sim/pay`) cannot pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayRefusal {
    NotFound,
    QrExpired,
    Closed,
    AlreadyPaid,
}

/// `"90m"`, `"2h"`, `"1d"`; `"1c"` (until midnight) counts as a day here.
pub fn parse_relative(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = num.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "m" => Some(Duration::minutes(n)),
        "h" => Some(Duration::hours(n)),
        "d" | "c" => Some(Duration::days(n)),
        _ => None,
    }
}

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

pub fn china_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn parse_china_time(s: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()?
        .and_local_timezone(china())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn valid_out_trade_no(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `total_amount`: a string or number, two decimals at most, 0.01 ..= 100000000.
pub fn parse_amount(v: Option<&Value>) -> Option<Decimal> {
    let text = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let d: Decimal = text.parse().ok()?;
    (d.scale() <= 2 && d >= Decimal::new(1, 2) && d <= Decimal::new(100_000_000, 0)).then_some(d)
}

fn str_field<'a>(biz: &'a Value, k: &str) -> Option<&'a str> {
    biz.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl Store {
    fn next_no(&mut self, now: DateTime<Utc>) -> String {
        self.seq += 1;
        format!(
            "{}22001{:013}",
            now.with_timezone(&china()).format("%Y%m%d"),
            self.seq
        )
    }

    fn lookup(&mut self, app_id: &str, biz: &Value, now: DateTime<Utc>) -> Option<&mut Trade> {
        let key = if let Some(trade_no) = str_field(biz, "trade_no") {
            self.trades
                .iter()
                .find(|((a, _), t)| a == app_id && t.trade_no == trade_no)
                .map(|(k, _)| k.clone())?
        } else {
            (
                app_id.to_owned(),
                str_field(biz, "out_trade_no")?.to_owned(),
            )
        };
        let trade = self.trades.get_mut(&key)?;
        trade.refresh(now);
        Some(trade)
    }

    /// `alipay.trade.precreate`. Returns the response fields; `base_url` builds the QR URL.
    pub fn precreate(
        &mut self,
        app_id: &str,
        notify_url: Option<&str>,
        biz: &Value,
        base_url: &str,
        now: DateTime<Utc>,
        token: String,
    ) -> Result<Value, Refusal> {
        let out_trade_no =
            str_field(biz, "out_trade_no").ok_or_else(|| invalid("out_trade_no is required"))?;
        if !valid_out_trade_no(out_trade_no) {
            return Err(invalid(
                "out_trade_no must be 1-64 letters, digits or underscores",
            ));
        }
        let total_amount = parse_amount(biz.get("total_amount")).ok_or_else(|| {
            invalid("total_amount must be 0.01-100000000 with at most two decimals")
        })?;
        let subject = str_field(biz, "subject").ok_or_else(|| invalid("subject is required"))?;
        if subject.chars().count() > 256 || subject.contains(['/', '=', '&']) {
            return Err(invalid(
                "subject must be at most 256 characters without / = &",
            ));
        }
        let relative = |k: &str| -> Result<Option<Duration>, Refusal> {
            str_field(biz, k)
                .map(|v| parse_relative(v).ok_or_else(|| invalid(format!("{k} is invalid"))))
                .transpose()
        };
        let timeout_express = relative("timeout_express")?;
        let qr_timeout = relative("qr_code_timeout_express")?;
        let time_expire = str_field(biz, "time_expire")
            .map(|v| parse_china_time(v).ok_or_else(|| invalid("time_expire is invalid")))
            .transpose()?;

        let key = (app_id.to_owned(), out_trade_no.to_owned());
        if let Some(existing) = self.trades.get_mut(&key) {
            existing.refresh(now);
            if existing.ever_paid {
                return Err(refuse("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"));
            }
            if existing.status == Status::TradeClosed {
                return Err(refuse("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"));
            }
            if existing.total_amount != total_amount || existing.subject != subject {
                return Err(refuse("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"));
            }
            if existing.scanned_at.is_none() && existing.qr_expires_at > now {
                return Ok(json!({
                    "code": "10000", "msg": "Success",
                    "out_trade_no": out_trade_no,
                    "qr_code": format!("{base_url}/qr/{}", existing.token),
                }));
            }
        }

        let mut qr_life = QR_MAX;
        for d in [timeout_express, qr_timeout].into_iter().flatten() {
            qr_life = qr_life.min(d);
        }
        let mut qr_expires_at = now + qr_life;
        if let Some(t) = time_expire {
            qr_expires_at = qr_expires_at.min(t);
        }
        let trade_timeout = time_expire
            .map(|t| t - now)
            .or(timeout_express)
            .unwrap_or(DEFAULT_TRADE_TIMEOUT);
        let trade_no = match self.trades.get(&key) {
            Some(t) => t.trade_no.clone(),
            None => self.next_no(now),
        };
        self.tokens.insert(token.clone(), key.clone());
        let trade = Trade {
            app_id: app_id.to_owned(),
            out_trade_no: out_trade_no.to_owned(),
            trade_no,
            subject: subject.to_owned(),
            body: str_field(biz, "body").map(str::to_owned),
            total_amount,
            notify_url: notify_url.filter(|u| !u.is_empty()).map(str::to_owned),
            passback_params: str_field(biz, "passback_params").map(str::to_owned),
            token: token.clone(),
            qr_expires_at,
            trade_timeout,
            scanned_at: None,
            status: Status::WaitBuyerPay,
            paid_at: None,
            refunded: Decimal::ZERO,
            refunds: BTreeMap::new(),
            refund_requests: 0,
            ever_paid: false,
            notifies: Vec::new(),
        };
        self.trades.insert(key, trade);
        Ok(json!({
            "code": "10000", "msg": "Success",
            "out_trade_no": out_trade_no,
            "qr_code": format!("{base_url}/qr/{token}"),
        }))
    }

    /// `alipay.trade.query`.
    pub fn query(
        &mut self,
        app_id: &str,
        biz: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, Refusal> {
        let t = self
            .lookup(app_id, biz, now)
            .filter(|t| t.scanned_at.is_some())
            .ok_or_else(|| refuse("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
        let paid = t.ever_paid;
        let mut v = json!({
            "code": "10000", "msg": "Success",
            "trade_no": t.trade_no,
            "out_trade_no": t.out_trade_no,
            "buyer_logon_id": t.buyer_logon_id(),
            "buyer_user_id": t.buyer_id(),
            "trade_status": t.status.as_str(),
            "total_amount": t.total_amount.to_string(),
            "receipt_amount": if paid { t.total_amount.to_string() } else { "0.00".into() },
            "buyer_pay_amount": if paid { t.total_amount.to_string() } else { "0.00".into() },
        });
        if let Some(paid_at) = t.paid_at {
            v["send_pay_date"] = Value::String(china_time(paid_at));
        }
        Ok(v)
    }

    /// `alipay.trade.close`: only a scanned, unpaid trade. Returns the trade key for
    /// the TRADE_CLOSED notify.
    pub fn close(
        &mut self,
        app_id: &str,
        biz: &Value,
        now: DateTime<Utc>,
    ) -> Result<(Value, (String, String)), Refusal> {
        let t = self
            .lookup(app_id, biz, now)
            .filter(|t| t.scanned_at.is_some())
            .ok_or_else(|| refuse("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
        if t.status != Status::WaitBuyerPay {
            return Err(refuse("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
        }
        t.status = Status::TradeClosed;
        Ok((
            json!({"code": "10000", "msg": "Success", "trade_no": t.trade_no, "out_trade_no": t.out_trade_no}),
            (t.app_id.clone(), t.out_trade_no.clone()),
        ))
    }

    /// `alipay.trade.refund`, idempotent per `out_request_no`. The bool says whether
    /// money moved (then a notify follows).
    pub fn refund(
        &mut self,
        app_id: &str,
        biz: &Value,
        now: DateTime<Utc>,
    ) -> Result<(Value, Option<(String, String)>), Refusal> {
        let out_request_no = str_field(biz, "out_request_no")
            .or_else(|| str_field(biz, "out_trade_no"))
            .map(str::to_owned);
        let amount = parse_amount(biz.get("refund_amount"));
        let t = self
            .lookup(app_id, biz, now)
            .filter(|t| t.scanned_at.is_some())
            .ok_or_else(|| refuse("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
        t.refund_requests += 1;
        let out_request_no = out_request_no.ok_or_else(|| invalid("out_request_no is required"))?;
        let amount = amount.ok_or_else(|| invalid("refund_amount is invalid"))?;
        let body = |t: &Trade, changed: bool| {
            json!({
                "code": "10000", "msg": "Success",
                "trade_no": t.trade_no,
                "out_trade_no": t.out_trade_no,
                "buyer_logon_id": t.buyer_logon_id(),
                "fund_change": if changed { "Y" } else { "N" },
                "refund_fee": t.refunded.to_string(),
                "gmt_refund_pay": china_time(now),
            })
        };
        if t.refunds.contains_key(&out_request_no) {
            return Ok((body(t, false), None));
        }
        if !t.ever_paid {
            return Err(refuse("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
        }
        if t.refunded + amount > t.total_amount {
            return Err(refuse("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"));
        }
        t.refunded += amount;
        t.refunds.insert(out_request_no, amount);
        if t.refunded == t.total_amount {
            t.status = Status::TradeClosed;
        }
        Ok((
            body(t, true),
            Some((t.app_id.clone(), t.out_trade_no.clone())),
        ))
    }

    /// The buyer opened the QR page. `None` if the token is unknown or expired unscanned.
    pub fn scan(&mut self, token: &str, now: DateTime<Utc>) -> Result<Trade, PayRefusal> {
        let key = self
            .tokens
            .get(token)
            .cloned()
            .ok_or(PayRefusal::NotFound)?;
        let t = self.trades.get_mut(&key).ok_or(PayRefusal::NotFound)?;
        if t.token != token {
            return Err(PayRefusal::QrExpired);
        }
        Self::scan_trade(t, now)?;
        Ok(t.clone())
    }

    fn scan_trade(t: &mut Trade, now: DateTime<Utc>) -> Result<(), PayRefusal> {
        t.refresh(now);
        if t.scanned_at.is_none() {
            if now > t.qr_expires_at {
                return Err(PayRefusal::QrExpired);
            }
            t.scanned_at = Some(now);
        }
        Ok(())
    }

    pub fn key_of_token(&self, token: &str) -> Option<(String, String)> {
        self.tokens.get(token).cloned()
    }

    /// Finds a trade by out_trade_no alone (the sim endpoints), newest app first.
    pub fn key_of_out_trade_no(
        &self,
        out_trade_no: &str,
        app_id: Option<&str>,
    ) -> Option<(String, String)> {
        self.trades
            .keys()
            .find(|(a, o)| o == out_trade_no && app_id.is_none_or(|want| want == a))
            .cloned()
    }

    /// Pays a trade (scanning it first if needed).
    pub fn pay(&mut self, key: &(String, String), now: DateTime<Utc>) -> Result<Trade, PayRefusal> {
        let t = self.trades.get_mut(key).ok_or(PayRefusal::NotFound)?;
        Self::scan_trade(t, now)?;
        match t.status {
            Status::TradeSuccess => return Err(PayRefusal::AlreadyPaid),
            Status::TradeClosed if t.ever_paid => return Err(PayRefusal::AlreadyPaid),
            Status::TradeClosed => return Err(PayRefusal::Closed),
            Status::WaitBuyerPay => {}
        }
        t.status = Status::TradeSuccess;
        t.ever_paid = true;
        t.paid_at = Some(now);
        Ok(t.clone())
    }

    /// Every trade, each brought up to date.
    pub fn all(&mut self, now: DateTime<Utc>) -> impl Iterator<Item = &Trade> {
        self.trades.values_mut().map(move |t| {
            t.refresh(now);
            &*t
        })
    }

    pub fn get(&mut self, key: &(String, String), now: DateTime<Utc>) -> Option<&mut Trade> {
        let t = self.trades.get_mut(key)?;
        t.refresh(now);
        Some(t)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    fn biz(v: Value) -> Value {
        v
    }

    fn precreate(s: &mut Store, extra: Value) -> Result<Value, Refusal> {
        let mut b = json!({"out_trade_no": "o_1", "total_amount": "9.90", "subject": "10 chats"});
        if let (Value::Object(b), Value::Object(e)) = (&mut b, extra) {
            b.extend(e);
        }
        s.precreate(
            "app",
            Some("http://n"),
            &b,
            "http://base",
            now(),
            "tok".into(),
        )
    }

    #[test]
    fn validation() {
        let mut s = Store::default();
        for bad in [
            json!({"out_trade_no": "has-dash"}),
            json!({"out_trade_no": "x".repeat(65)}),
            json!({"total_amount": "0.001"}),
            json!({"total_amount": "0"}),
            json!({"total_amount": "100000000.01"}),
            json!({"subject": "a/b"}),
            json!({"subject": ""}),
            json!({"qr_code_timeout_express": "1.5h"}),
        ] {
            let err = precreate(&mut s, bad.clone()).unwrap_err();
            assert_eq!(err.sub_code, "ACQ.INVALID_PARAMETER", "{bad}");
        }
        assert!(precreate(&mut s, json!({"total_amount": 100000000})).is_ok());
    }

    #[test]
    fn qr_life_is_the_smallest_and_never_above_two_hours() {
        let mut s = Store::default();
        precreate(&mut s, json!({"timeout_express": "1d"})).unwrap();
        let key = ("app".to_owned(), "o_1".to_owned());
        assert_eq!(s.get(&key, now()).unwrap().qr_expires_at, now() + QR_MAX);
        let mut s = Store::default();
        precreate(
            &mut s,
            json!({"timeout_express": "90m", "qr_code_timeout_express": "30m"}),
        )
        .unwrap();
        assert_eq!(
            s.get(&key, now()).unwrap().qr_expires_at,
            now() + Duration::minutes(30)
        );
        // An expired, unscanned QR cannot be paid.
        assert_eq!(
            s.pay(&key, now() + Duration::minutes(31)).unwrap_err(),
            PayRefusal::QrExpired
        );
    }

    #[test]
    fn lifecycle() {
        let mut s = Store::default();
        let key = ("app".to_owned(), "o_1".to_owned());
        let q = json!({"out_trade_no": "o_1"});
        precreate(&mut s, json!({})).unwrap();
        assert_eq!(
            s.query("app", &q, now()).unwrap_err().sub_code,
            "ACQ.TRADE_NOT_EXIST"
        );
        assert_eq!(
            s.close("app", &q, now()).unwrap_err().sub_code,
            "ACQ.TRADE_NOT_EXIST"
        );
        s.scan("tok", now()).unwrap();
        assert_eq!(
            s.query("app", &q, now()).unwrap()["trade_status"],
            "WAIT_BUYER_PAY"
        );
        // Another app does not see it.
        assert!(s.query("other", &q, now()).is_err());
        s.pay(&key, now()).unwrap();
        assert_eq!(s.pay(&key, now()).unwrap_err(), PayRefusal::AlreadyPaid);
        assert_eq!(
            s.query("app", &q, now()).unwrap()["trade_status"],
            "TRADE_SUCCESS"
        );
        assert_eq!(
            s.close("app", &q, now()).unwrap_err().sub_code,
            "ACQ.TRADE_STATUS_ERROR"
        );
        assert_eq!(
            precreate(&mut s, json!({})).unwrap_err().sub_code,
            "ACQ.TRADE_HAS_SUCCESS"
        );

        let r =
            biz(json!({"out_trade_no": "o_1", "refund_amount": "4.00", "out_request_no": "r1"}));
        let (v, moved) = s.refund("app", &r, now()).unwrap();
        assert_eq!(
            (
                v["fund_change"].as_str(),
                v["refund_fee"].as_str(),
                moved.is_some()
            ),
            (Some("Y"), Some("4.00"), true)
        );
        let (v, moved) = s.refund("app", &r, now()).unwrap();
        assert_eq!(
            (v["fund_change"].as_str(), moved.is_some()),
            (Some("N"), false)
        );
        // Both calls are counted, the repeat included.
        let counted = |s: &Store| s.trades.values().map(|t| t.refund_requests).sum::<u32>();
        assert_eq!(counted(&s), 2);
        let too_much =
            json!({"out_trade_no": "o_1", "refund_amount": "6.00", "out_request_no": "r2"});
        assert_eq!(
            s.refund("app", &too_much, now()).unwrap_err().sub_code,
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
        );
        let rest = json!({"out_trade_no": "o_1", "refund_amount": "5.90", "out_request_no": "r3"});
        s.refund("app", &rest, now()).unwrap();
        assert_eq!(
            s.query("app", &q, now()).unwrap()["trade_status"],
            "TRADE_CLOSED"
        );
        assert_eq!(
            precreate(&mut s, json!({})).unwrap_err().sub_code,
            "ACQ.TRADE_HAS_SUCCESS"
        );
    }

    #[test]
    fn scanned_trades_time_out_and_cannot_be_paid() {
        let mut s = Store::default();
        let key = ("app".to_owned(), "o_1".to_owned());
        precreate(&mut s, json!({"timeout_express": "5m"})).unwrap();
        s.scan("tok", now()).unwrap();
        let later = now() + Duration::minutes(6);
        assert_eq!(s.pay(&key, later).unwrap_err(), PayRefusal::Closed);
        assert_eq!(
            s.query("app", &json!({"out_trade_no": "o_1"}), later)
                .unwrap()["trade_status"],
            "TRADE_CLOSED"
        );
        assert_eq!(
            precreate(&mut s, json!({})).unwrap_err().sub_code,
            "ACQ.TRADE_HAS_CLOSE"
        );
    }

    #[test]
    fn relative_times() {
        assert_eq!(parse_relative("90m"), Some(Duration::minutes(90)));
        assert_eq!(parse_relative("2h"), Some(Duration::hours(2)));
        assert_eq!(parse_relative("1c"), Some(Duration::days(1)));
        assert_eq!(parse_relative("0m"), None);
        assert_eq!(parse_relative(""), None);
        assert_eq!(parse_relative("1.5h"), None);
    }
}
