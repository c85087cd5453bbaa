//! What orders and the payment gateway say to each other: the request and
//! reply payloads carried inside sealed envelopes (`crate::envelope`), and the
//! "payment succeeded" event the gateway hands to orders through RabbitMQ.
//! Both services depend on these types, never on each other's crate.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Version of the event and the sealed payloads; bumped on a breaking change.
pub const VERSION: u32 = 1;

/// Durable queue of "payment succeeded" events, under the deployment's prefix.
pub fn succeeded_queue(amqp_prefix: &str) -> String {
    format!("{amqp_prefix}.payment.succeeded")
}

/// Alipay's `out_trade_no` of an order's pay attempt: `<order id>_<attempt>`.
/// A precreate with an unknown outcome retires its attempt, so every attempt
/// gets a number of its own.
pub fn out_trade_no(order_id: i64, attempt: u32) -> String {
    format!("{order_id}_{attempt}")
}

/// The order id and attempt of an `out_trade_no` made by [`out_trade_no`].
pub fn parse_out_trade_no(text: &str) -> Option<(i64, u32)> {
    let (order, attempt) = text.split_once('_')?;
    let order_id: i64 = order.parse().ok()?;
    let attempt: u32 = attempt.parse().ok()?;
    (order_id > 0).then_some((order_id, attempt))
}

/// `POST /api/alipay/face2face/pay`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    pub out_trade_no: String,
    pub total_amount: Decimal,
    pub subject: String,
    /// e.g. `"29m"`: the QR code's life, never past the order's window.
    pub qr_code_timeout_express: String,
}

/// `POST /api/alipay/trade/query` and `/api/alipay/trade/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradeRequest {
    pub out_trade_no: String,
}

/// `POST /api/alipay/trade/refund`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub out_trade_no: String,
    pub refund_amount: Decimal,
    /// Identifies the refund; the same value on every retry.
    pub out_request_no: String,
    pub reason: String,
}

/// The QR code of a successful precreate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precreated {
    pub out_trade_no: String,
    pub qr_code: String,
}

/// A trade as `alipay.trade.query` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub out_trade_no: String,
    pub trade_no: String,
    /// Alipay's `trade_status` as sent (`WAIT_BUYER_PAY`, `TRADE_SUCCESS`, ...).
    pub trade_status: String,
    pub total_amount: Decimal,
    pub buyer_account: Option<String>,
}

impl Trade {
    /// Only SUCCESS and FINISHED mean the buyer paid.
    pub fn is_paid(&self) -> bool {
        matches!(
            self.trade_status.as_str(),
            "TRADE_SUCCESS" | "TRADE_FINISHED"
        )
    }
}

/// A refund Alipay accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refunded {
    pub trade_no: String,
    pub refund_fee: Decimal,
}

/// Every sealed answer of the gateway: the result, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Reply<T> {
    Ok {
        result: T,
    },
    /// `ACQ.TRADE_NOT_EXIST`: the buyer never scanned the QR code.
    TradeNotExist,
    /// Close of a trade already paid or closed: query it and settle instead.
    TradeStatusError,
    /// Alipay may or may not have acted (timeout, system error).
    Unknown {
        message: String,
    },
    /// Alipay refused for a reason of its own.
    Refused {
        code: String,
        message: String,
    },
}

/// The event the gateway publishes once a verified notify says the buyer paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub version: u32,
    pub order_id: String,
    pub out_trade_no: String,
    pub trade_no: String,
    pub amount: Decimal,
    /// `buyer_logon_id` (masked) or `buyer_id`.
    pub buyer_account: Option<String>,
    pub trade_status: String,
    /// `gmt_payment` as Alipay sent it (China time), when it did.
    pub paid_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_trade_numbers_round_trip() {
        let text = out_trade_no(1_234_567_890_123, 3);
        assert_eq!(text, "1234567890123_3");
        assert_eq!(parse_out_trade_no(&text), Some((1_234_567_890_123, 3)));
        for bad in ["", "12", "_1", "12_", "a_1", "-5_1", "0_1", "1_x"] {
            assert_eq!(parse_out_trade_no(bad), None, "{bad}");
        }
    }

    #[test]
    fn replies_are_tagged() {
        let r: Reply<Precreated> = Reply::TradeNotExist;
        let text = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(text, r#"{"outcome":"trade_not_exist"}"#);
        let back: Reply<Precreated> = serde_json::from_str(&text).unwrap_or(Reply::Unknown {
            message: String::new(),
        });
        assert_eq!(back, r);
    }
}
