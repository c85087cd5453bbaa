//! Requests and typed results of the trade APIs, with Alipay's field names.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};

/// `trade_status` of a trade (query results and notifies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeStatus {
    /// Created (scanned), not paid.
    WaitBuyerPay,
    /// Paid, still refundable.
    TradeSuccess,
    /// Paid, no longer refundable.
    TradeFinished,
    /// Unpaid and closed, or fully refunded.
    TradeClosed,
    /// A status this code does not know yet: treat as "not paid, ask again".
    #[serde(other)]
    Unknown,
}

impl TradeStatus {
    pub fn parse(s: &str) -> Self {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).unwrap_or(Self::Unknown)
    }

    /// Only SUCCESS and FINISHED mean the buyer paid.
    pub fn is_paid(&self) -> bool {
        matches!(self, Self::TradeSuccess | Self::TradeFinished)
    }
}

/// Yuan with exactly two decimals, as a string (`"9.90"`).
pub fn amount_string(amount: Decimal) -> String {
    let mut d = amount.round_dp(2);
    d.rescale(2);
    d.to_string()
}

fn ser_amount<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&amount_string(*d))
}

/// biz_content of `alipay.trade.precreate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrecreateRequest {
    /// ≤ 64 chars of `[A-Za-z0-9_]`, unique per merchant.
    pub out_trade_no: String,
    #[serde(serialize_with = "ser_amount")]
    pub total_amount: Decimal,
    /// ≤ 256 chars, no `/ = &`.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    /// Relative trade timeout, e.g. `"30m"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_express: Option<String>,
    /// QR validity counted from its creation, e.g. `"30m"` (never more than 2 h at Alipay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code_timeout_express: Option<String>,
    /// Absolute expiry `yyyy-MM-dd HH:mm:ss` (China time); wins over `timeout_express`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Echoed back in the notify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passback_params: Option<String>,
}

impl PrecreateRequest {
    pub fn new(
        out_trade_no: impl Into<String>,
        total_amount: Decimal,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            out_trade_no: out_trade_no.into(),
            total_amount,
            subject: subject.into(),
            body: None,
            product_code: None,
            timeout_express: None,
            qr_code_timeout_express: None,
            time_expire: None,
            passback_params: None,
        }
    }
}

/// `alipay.trade.precreate` success.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Precreated {
    pub out_trade_no: String,
    /// The URL to draw as a QR code.
    pub qr_code: String,
}

/// Which trade: Alipay's `trade_no` wins over our `out_trade_no` when both are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeRef {
    OutTradeNo(String),
    TradeNo(String),
}

/// `alipay.trade.query` success.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TradeQuery {
    pub trade_no: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub buyer_logon_id: Option<String>,
    #[serde(default)]
    pub buyer_user_id: Option<String>,
    pub trade_status: TradeStatus,
    pub total_amount: Decimal,
    #[serde(default)]
    pub receipt_amount: Option<Decimal>,
    #[serde(default)]
    pub buyer_pay_amount: Option<Decimal>,
    /// `yyyy-MM-dd HH:mm:ss`, China time.
    #[serde(default)]
    pub send_pay_date: Option<String>,
}

/// biz_content of `alipay.trade.close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseRequest {
    #[serde(flatten)]
    pub trade: TradeRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<String>,
}

/// `alipay.trade.close` success.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Closed {
    #[serde(default)]
    pub trade_no: Option<String>,
    #[serde(default)]
    pub out_trade_no: Option<String>,
}

/// biz_content of `alipay.trade.refund`. Reuse `out_request_no` when retrying the
/// same refund; use a new one for each partial refund.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefundRequest {
    #[serde(flatten)]
    pub trade: TradeRef,
    #[serde(serialize_with = "ser_amount")]
    pub refund_amount: Decimal,
    pub out_request_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
}

/// `alipay.trade.refund` success.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Refunded {
    pub trade_no: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub buyer_logon_id: Option<String>,
    /// `"Y"` when this call moved money; `"N"` when it was already refunded.
    #[serde(default)]
    pub fund_change: Option<String>,
    /// Total refunded on the trade so far.
    pub refund_fee: Decimal,
    #[serde(default)]
    pub gmt_refund_pay: Option<String>,
}

/// The fields every response node carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResultCode {
    pub code: String,
    #[serde(default)]
    pub msg: String,
    #[serde(default)]
    pub sub_code: Option<String>,
    #[serde(default)]
    pub sub_msg: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_are_two_decimal_strings() {
        assert_eq!(amount_string(dec!(9.9)), "9.90");
        assert_eq!(amount_string(dec!(10)), "10.00");
        assert_eq!(amount_string(dec!(0.015)), "0.02");
        let mut req = PrecreateRequest::new("o_1", dec!(9.9), "10 chats");
        req.qr_code_timeout_express = Some("30m".into());
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"out_trade_no":"o_1","total_amount":"9.90","subject":"10 chats","qr_code_timeout_express":"30m"}"#
        );
    }

    #[test]
    fn trade_refs_flatten_with_alipay_names() {
        let close = CloseRequest {
            trade: TradeRef::OutTradeNo("o_1".into()),
            operator_id: None,
        };
        assert_eq!(
            serde_json::to_string(&close).unwrap(),
            r#"{"out_trade_no":"o_1"}"#
        );
        let refund = RefundRequest {
            trade: TradeRef::TradeNo("2024".into()),
            refund_amount: dec!(1),
            out_request_no: "r1".into(),
            refund_reason: None,
        };
        assert_eq!(
            serde_json::to_string(&refund).unwrap(),
            r#"{"trade_no":"2024","refund_amount":"1.00","out_request_no":"r1"}"#
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(
            TradeStatus::parse("TRADE_SUCCESS"),
            TradeStatus::TradeSuccess
        );
        assert_eq!(TradeStatus::parse("SOMETHING_NEW"), TradeStatus::Unknown);
        assert!(TradeStatus::TradeFinished.is_paid());
        assert!(!TradeStatus::TradeClosed.is_paid());
        let q: TradeQuery = serde_json::from_str(
            r#"{"trade_no":"1","out_trade_no":"o","trade_status":"WAIT_BUYER_PAY","total_amount":"9.90"}"#,
        )
        .unwrap();
        assert_eq!(q.total_amount, dec!(9.90));
    }
}
